"""The site report in the survey's own script: Persian joined and right to left, Chinese in
a CJK font, Latin still Helvetica; the font shipped with the package, not the system's."""

import base64
import re
import shutil
import subprocess
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Table
from sqlalchemy.orm import Session, sessionmaker

from hub.models import Location
from hub.reporting.pdf import write_site_report
from hub.reporting.pdf_fonts import (
    CHINESE,
    FONT_FILE,
    WIDE,
    ScriptText,
    bidi_levels,
    cell,
    direction_of,
    label_direction,
    lay_out,
    visual_text,
)
from protocol.messages import Button
from tests.hub.reporting.followup_data import PERIOD, Traffic, add_places
from tests.hub.reporting.pdf_text import shown_text
from tests.hub.surveys.survey_files import security

PERSIAN_SURVEY = """
id = "security"
name = "Security checkpoint"
languages = ["fa", "en"]

[question]
fa = "بازرسی امنیتی چطور بود؟"
en = "How was the security check?"

[negative]
fa = "چه چیزی خوب نبود؟"
en = "What went wrong?"

[[negative.options]]
key = "queue"
fa = "صف طولانی (بیش از \u06f1\u06f0 دقیقه)"
en = "Queue too long"

[[negative.options]]
key = "staff"
fa = "Wi-Fi کار نمی‌کرد"
en = "The Wi-Fi did not work"

[[negative.options]]
key = "cleanliness"
fa = "نظافت"
en = "Cleanliness"

[positive]
fa = "چه چیزی خوب بود؟"
en = "What went well?"

[[positive.options]]
key = "fast"
fa = "سریع"
en = "Fast"

[[positive.options]]
key = "friendly"
fa = "کارکنان مهربان"
en = "Friendly staff"
"""

CHINESE_SURVEY = """
id = "security"
name = "Security checkpoint"
languages = ["zh-Hans", "en"]

[question]
zh-Hans = "安检怎么样\uff1f"
en = "How was the security check?"

[negative]
zh-Hans = "哪里不好\uff1f"
en = "What went wrong?"

[[negative.options]]
key = "queue"
zh-Hans = "排队时间太长"
en = "Queue too long"

[[negative.options]]
key = "staff"
zh-Hans = "工作人员不友好"
en = "Staff"

[[negative.options]]
key = "cleanliness"
zh-Hans = "不干净"
en = "Cleanliness"

[positive]
zh-Hans = "哪里好\uff1f"
en = "What went well?"

[[positive.options]]
key = "fast"
zh-Hans = "速度快"
en = "Fast"

[[positive.options]]
key = "friendly"
zh-Hans = "工作人员很友好"
en = "Friendly staff"
"""

STREAM = re.compile(rb"/Filter \[ /ASCII85Decode /FlateDecode \].*?stream\r?\n(.*?)~>", re.DOTALL)


def report(
    sessions: sessionmaker[Session], path: Path, survey: str, names: dict[str, str] | None = None
) -> bytes:
    """The report of site hel whose presses were answered in `survey`, its places renamed."""
    traffic = Traffic()
    for option in ("queue", "queue", "queue", "staff", "cleanliness", None):
        traffic.add(Button.UNHAPPY, option)
    traffic.add(Button.HAPPY, "fast", location_id="lane-2")
    with sessions.begin() as session:
        add_places(session, security(survey))
        for location_id, name in (names or {}).items():
            located = session.get(Location, location_id)
            assert located is not None
            located.name = name
        traffic.store(session)
    with sessions() as session:
        write_site_report(session, "hel", PERIOD, path)
    return path.read_bytes()


def base_fonts(pdf: bytes) -> set[str]:
    """The /BaseFont of every font in the PDF, a subset's tag (ABCDEF+) left off."""
    return {name.decode().split("+")[-1] for name in re.findall(rb"/BaseFont /([^\s/>\]]+)", pdf)}


def contents(pdf: bytes) -> list[bytes]:
    return [zlib.decompress(base64.a85decode(b"".join(raw.split()))) for raw in STREAM.findall(pdf)]


def shown_bytes(pdf: bytes) -> list[bytes]:
    """Every string a content stream shows, its escapes (octal, \\, parentheses) undone."""
    escape = re.compile(rb"\\([0-7]{1,3}|.)", re.DOTALL)
    return [
        escape.sub(lambda m: bytes([int(m[1], 8)]) if m[1][:1].isdigit() else m[1], shown)
        for stream in contents(pdf)
        for shown in re.findall(rb"\((.*?)(?<!\\)\)\s*Tj", stream, re.DOTALL)
    ]


def test_persian_is_ordered_right_to_left_with_its_numbers_left_to_right() -> None:
    assert direction_of("صف طولانی") == "rtl"
    assert direction_of("Wi-Fi کار نمی‌کرد") == "ltr"
    # A label with Persian in it reads right to left even where a Latin word comes first.
    assert label_direction("Wi-Fi کار نمی‌کرد") == "rtl"
    assert visual_text("Wi-Fi کار نمی‌کرد", "rtl") == "درک‌یمن راک Wi-Fi"
    assert label_direction("Wi-Fi") == "ltr"
    assert visual_text("صف طولانی", "rtl") == "ینالوط فص"
    # Persian digits are numbers: they keep their order inside the right-to-left line.
    assert visual_text("صف \u06f1\u06f0 دقیقه", "rtl") == "هقیقد \u06f1\u06f0 فص"
    assert bidi_levels("صف \u06f1\u06f0 دقیقه", "rtl") == [1, 1, 1, 2, 2, *[1] * 6]
    # A Latin word stays one left-to-right run; the brackets around it are mirrored when the
    # right-to-left run is shaped, so ")Wi-Fi(" here is drawn as "(Wi-Fi)".
    assert visual_text("خراب (Wi-Fi) است", "rtl") == "تسا )Wi-Fi( بارخ"
    # An English sentence around a Persian name stays left to right.
    assert visual_text("فرودگاه: perception report", "ltr") == "هاگدورف: perception report"


def test_persian_letters_are_joined_by_shaping() -> None:
    drawn = "".join(glyphs.text for glyphs in lay_out("صف طولانی", 10, "rtl").glyphs)
    # Left to right: final yeh, medial noon, lam-alef ligature, final waw, initial tah, space,
    # final feh, initial sad: presentation forms, not the isolated letters typed.
    assert drawn == "\ufbfd\ufee7\ufefb\ufeee\ufec3 \ufed2\ufebb"
    assert {glyphs.font for glyphs in lay_out("صف طولانی", 10, "rtl").glyphs} == {WIDE}


def test_chinese_is_drawn_in_a_cjk_font() -> None:
    line = lay_out("排队时间太长 (5)", 10, "ltr")
    assert [(glyphs.font, glyphs.text) for glyphs in line.glyphs] == [(CHINESE, "排队时间太长 (5)")]
    assert line.width > 0


def test_latin_stays_a_plain_helvetica_cell() -> None:
    assert cell("Café Zürich", 9, indent="  ") == "  Café Zürich"
    assert isinstance(cell("فرودگاه", 9), ScriptText)


def test_the_font_is_the_packaged_one() -> None:
    assert FONT_FILE.is_file()
    assert FONT_FILE.parent.parent == Path(__file__).parents[3] / "hub" / "reporting"
    assert (FONT_FILE.parent / "LICENSE-DejaVu.txt").is_file()


def test_long_labels_wrap_in_reading_order() -> None:
    persian = ScriptText("کارکنان در ورودی شماره \u06f3 بسیار بی‌حوصله بودند", size=10)
    persian.wrap(100, 1000)
    # Broken in logical order: the first words on the first line (at its right when drawn).
    assert persian.lines == ["کارکنان در ورودی", "شماره \u06f3 بسیار", "بی‌حوصله بودند"]
    assert persian.height == 36
    chinese = ScriptText("排队时间太长工作人员态度不好", size=10)
    chinese.wrap(60, 1000)  # six characters a line, broken between any two
    assert chinese.lines == ["排队时间太长", "工作人员态度", "不好"]


def test_a_right_to_left_label_is_right_aligned_in_its_cell() -> None:
    pdf = BytesIO()
    label = ScriptText("نظافت", size=10)
    table = Table([[label]], colWidths=[70 * mm], style=[("LEFTPADDING", (0, 0), (-1, -1), 0)])
    SimpleDocTemplate(pdf, pagesize=A4, leftMargin=0, rightMargin=0).build([table])
    (content,) = contents(pdf.getvalue())
    xs = [float(x) for x in re.findall(rb"1 0 0 1 ([\d.]+) [\d.]+ Tm", content)][1:]
    assert len(xs) == 5  # one glyph a letter: none of them joins a ligature
    assert min(xs) > 70 * mm - 6 - 40  # within the cell's right end, less its padding
    assert max(xs) < 70 * mm


def test_a_persian_report_embeds_the_packaged_font(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    names = {"hel": "فرودگاه امام", "lane-1": "ورودی \u06f1"}
    pdf = report(sessions, tmp_path / "fa.pdf", PERSIAN_SURVEY, names)
    assert {"Helvetica", "Helvetica-Bold", "DejaVuSans"} <= base_fonts(pdf)
    assert CHINESE not in base_fonts(pdf)
    assert b"/FontFile2" in pdf  # embedded, as a subset
    assert len(pdf) < 200_000  # the subset, not the whole font
    text = shown_text(pdf)
    assert "Why: the reasons given" in text
    assert "perception report" not in text  # the title is laid out glyph by glyph
    # The labels are drawn glyph by glyph in DejaVu Sans, right to left.
    drawing = b"\n".join(contents(pdf))
    assert drawing.count(b" Tm") > 40


def test_a_chinese_report_uses_the_cjk_font(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    pdf = report(sessions, tmp_path / "zh.pdf", CHINESE_SURVEY, {"lane-1": "一号通道"})
    fonts = base_fonts(pdf)
    assert CHINESE in fonts
    assert "DejaVuSans" not in fonts
    assert b"/Encoding /UniGB-UCS2-H" in pdf
    # The CID font's text is UCS-2, big-endian: the label is in a content stream as is.
    assert "排队时间太长".encode("utf-16-be") in shown_bytes(pdf)


def test_a_latin_report_embeds_no_font(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    pdf = report(
        sessions, tmp_path / "en.pdf", PERSIAN_SURVEY.replace('["fa", "en"]', '["en", "fa"]')
    )
    assert not {"DejaVuSans", CHINESE} & base_fonts(pdf)
    assert b"/FontFile" not in pdf
    assert "Queue too long" in shown_text(pdf)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm (poppler-utils)")
def test_the_persian_report_renders(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    pdf = tmp_path / "fa.pdf"
    report(sessions, pdf, PERSIAN_SURVEY, {"hel": "فرودگاه امام"})
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "2", "-l", "2", str(pdf), str(tmp_path / "page")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert list(tmp_path.glob("page*.png"))
