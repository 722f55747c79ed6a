"""The printed camera notice: every statement a traveller is owed (what is inferred, no image
kept, for how long the numbers are, who runs it, on what basis, how to object, where to
complain, and faces counted passing where a kiosk counts them) on A4 and A5, in the place's
languages (Persian right to left, Chinese in a CJK font, with a translator's catalog); none
without an approval, nor where the audience forbids a camera."""

# ruff: noqa: RUF001 (Persian digits and Chinese punctuation are what is tested)

import re
import shutil
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy.orm import Session, sessionmaker

from hub.camera.governance import CameraRefused, record_approval, set_audience
from hub.camera.notice import render_notice, write_notice
from hub.config import CameraSettings
from hub.db import make_engine, session_factory
from hub.ingest.store import apply_status
from hub.models import Audience, Location
from hub.phone.links import issue_link
from hub.web import camera_notice_texts as texts
from hub.web import language
from protocol.errors import ConfigError
from protocol.i18n import locale_of
from protocol.messages import DeviceState, DeviceStatus
from tests.hub.factories import place

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
    reason="pdftotext and pdfinfo (poppler-utils) are not installed",
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DEPLOYER = "Schiphol Airport Authority B.V."
CONTACT = "privacy@schiphol.example, +31 20 123 4567"
LEGAL_BASIS = "GDPR Art. 6(1)(f), legitimate interest"
ASSESSMENT = "DPIA-2026-014"
BASE_URL = "https://hub.example.org"
PAGE_POINTS = {"A4": (595.28, 841.89), "A5": (419.53, 595.28)}
ENGLISH = (
    "Camera: facial expression reading",
    "When you press a button, this kiosk's camera reads your facial expression (for example "
    "happy, sad, surprised) at that moment. It does not identify you.",
    "No image is stored or sent: the picture is analysed on the kiosk and discarded at once. "
    "Only numbers about the expression are kept, and only shown as totals of at least 10 "
    "readings.",
    "The numbers are deleted after 30 days; totals stay.",
    "Purpose: to improve this place's service.",
    f"Run by: {DEPLOYER}",
    f"Contact: {CONTACT}",
    f"Legal basis: {LEGAL_BASIS}",
    f"Impact assessment: {ASSESSMENT}",
    "You may object at any time: do not press a button, or use the phone survey instead, or "
    f"contact {CONTACT}. The camera is off when its light, or the camera notice on the screen, "
    "is off.",
    "You may complain to the data-protection supervisory authority.",
    "AI system: emotion recognition (EU AI Act, Art. 50(3))",
)
PASSERSBY = "The camera may also count faces passing by, without reading them."
NOTICE_TEXTS = (
    texts.HEADING,
    texts.INFERRED,
    texts.PASSERSBY,
    texts.NO_IMAGE,
    texts.RETENTION,
    texts.RETENTION_ONE_DAY,
    texts.PURPOSE,
    texts.RUN_BY,
    texts.CONTACT,
    texts.LEGAL_BASIS,
    texts.IMPACT_ASSESSMENT,
    texts.OBJECT,
    texts.PHONE_SURVEY,
    texts.COMPLAIN,
    texts.AI_SYSTEM,
)


def shipped(stem: str) -> dict[str, str]:
    """The notice's sentences as the shipped catalog `stem` translates them."""
    with (language.LOCALES / f"{stem}.po").open("rb") as file:
        catalog = read_po(file, locale=locale_of(stem))
    found = {message: catalog[message] for message in NOTICE_TEXTS}
    missing = [m for m, entry in found.items() if entry is None or not entry.string]
    assert not missing, f"{stem}.po lacks {missing}: run python -m hub.web.messages"
    return {message: str(entry.string) for message, entry in found.items() if entry}


PERSIAN = shipped("fa")
CHINESE = shipped("zh_Hans")


@pytest.fixture
def places(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    """Site ams, approved, with a Persian lane and a Chinese gate; site rtm, not approved."""
    engine = make_engine(sqlite_url)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        place(session, "ams", kind="site", time_zone="Europe/Amsterdam")
        place(session, "sec-b", parent="ams", time_zone="Europe/Amsterdam")
        place(session, "gate-d", parent="ams", time_zone="Europe/Amsterdam")
        place(session, "rtm", kind="site", time_zone="Europe/Amsterdam")
        place(session, "lounge", parent="rtm", time_zone="Europe/Amsterdam")
        for location_id, languages in (("sec-b", "en,fa"), ("gate-d", "en,zh-Hans")):
            located = session.get(Location, location_id)
            assert located is not None
            located.languages = languages
        record_approval(
            session,
            "ams",
            approved_by="Dr. Data, DPO",
            impact_assessment=ASSESSMENT,
            approved_on=date(2026, 11, 2),
            deployer_name=DEPLOYER,
            deployer_contact=CONTACT,
            legal_basis=LEGAL_BASIS,
            actor="test",
            now=NOW,
        )
    yield sessions
    engine.dispose()


def pdf_text(pdf: bytes, folder: Path, page: int | None = None) -> str:
    path = folder / "notice.pdf"
    path.write_bytes(pdf)
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(
        ["pdftotext", *pages, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_info(pdf: bytes, folder: Path) -> dict[str, str]:
    path = folder / "info.pdf"
    path.write_bytes(pdf)
    shown = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return {
        key.strip(): value.strip()
        for key, _, value in (line.partition(":") for line in shown.stdout.splitlines())
    }


def flat(text: str) -> str:
    """Words as read: line breaks and runs of spaces as one space."""
    return " ".join(text.split())


def letters(text: str) -> str:
    """Persian as poppler gives it back, comparable: presentation forms to letters (NFKC),
    no direction marks, no spaces or joiners, no vowel signs or hamza above (poppler sets
    them apart from their word)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        c for c in text if not c.isspace() and unicodedata.category(c) not in ("Cf", "Mn")
    )


def words(text: str) -> list[str]:
    """The words of `text` as `letters` writes them: poppler gives each word of a right to left
    line back in reading order, but may reorder the words around punctuation and numbers, and
    splits a word ending in an ezafe (ـهٔ), which is left out here."""
    return [
        letters(word)
        for word in re.split(r"[\s:،.()]+", text)
        if letters(word) and not word.endswith("\u0654")
    ]


def persian_lines(pdf: bytes, folder: Path) -> list[tuple[float, float]]:
    """(left, right) of each printed line with Persian letters in it, in points: poppler's
    words grouped by their baseline."""
    path = folder / "lines.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", html))
    rows: dict[int, list[tuple[float, float, str]]] = {}
    for word in root.iter("{http://www.w3.org/1999/xhtml}word"):
        if all(unicodedata.category(char) == "Mn" for char in word.text or ""):
            continue  # a vowel sign or hamza poppler sets apart, a little above its line
        baseline = round(float(word.get("yMax", 0)))
        rows.setdefault(baseline, []).append(
            (float(word.get("xMin", 0)), float(word.get("xMax", 0)), word.text or "")
        )
    return [
        (min(left for left, _, _ in row), max(right for _, right, _ in row))
        for row in rows.values()
        if any(re.search("[\u0600-\u06ff\ufb50-\ufeff]", text) for _, _, text in row)
    ]


@pytest.mark.parametrize("size", ["A4", "A5"])
@pytest.mark.parametrize("location_id", ["sec-b", "gate-d"])
def test_every_statement_is_printed_on_one_page_of_the_size(
    places: sessionmaker[Session], tmp_path: Path, location_id: str, size: str
) -> None:
    with places() as session:
        pdf = render_notice(session, location_id, size=size)
    text = flat(pdf_text(pdf, tmp_path))
    for statement in ENGLISH:
        assert statement in text
    assert PASSERSBY not in text, "no kiosk there has counted faces passing"
    info = pdf_info(pdf, tmp_path)
    width, height = (float(n) for n in re.findall(r"[\d.]+", info["Page size"])[:2])
    assert (width, height) == pytest.approx(PAGE_POINTS[size], abs=0.1)
    assert info["Pages"] == "1"
    assert info["Title"] == f"{location_id.title()}: Camera: facial expression reading"


def test_persian_is_printed_right_to_left_with_its_own_digits(
    places: sessionmaker[Session], tmp_path: Path
) -> None:
    with places() as session:
        pdf = render_notice(session, "sec-b", size="A5")
    text = pdf_text(pdf, tmp_path)
    for statement in ENGLISH:
        assert statement in flat(text)
    for message in (
        texts.HEADING,
        texts.INFERRED,
        texts.NO_IMAGE,
        texts.RETENTION,
        texts.PURPOSE,
        texts.OBJECT,
        texts.COMPLAIN,
    ):
        for word in words(PERSIAN[message] % {"contact": CONTACT, "days": "۳۰", "k": "۱۰"}):
            assert word in letters(text)
    assert "۱۰" in text and "۳۰" in text  # k and the days as Persian writes them
    lines = persian_lines(pdf, tmp_path)
    assert len(lines) >= 10
    rights = [right for _, right in lines]
    assert max(rights) - min(rights) < 1.5  # flush right, ragged left
    assert max(left for left, _ in lines) - min(left for left, _ in lines) > 20
    assert pdf_info(pdf, tmp_path)["Pages"] == "1"


def test_chinese_is_printed_in_a_cjk_font(places: sessionmaker[Session], tmp_path: Path) -> None:
    with places() as session:
        pdf = render_notice(session, "gate-d", size="A4")
    assert b"STSong-Light" in pdf
    text = "".join(pdf_text(pdf, tmp_path).split())
    for message, words in CHINESE.items():
        if message not in (texts.PHONE_SURVEY, texts.PASSERSBY, texts.RETENTION_ONE_DAY):
            expected = words % {
                "k": "10",
                "days": "30",
                "name": DEPLOYER,
                "contact": CONTACT,
                "basis": LEGAL_BASIS,
                "reference": ASSESSMENT,
            }
            assert "".join(expected.split()) in text


def test_languages_that_do_not_fit_one_page_get_a_page_each(
    places: sessionmaker[Session], tmp_path: Path
) -> None:
    with places.begin() as session:
        located = session.get(Location, "sec-b")
        assert located is not None
        located.languages = "fa,en,zh-Hans"
    with places() as session:
        pdf = render_notice(session, "sec-b", size="A5")
    assert pdf_info(pdf, tmp_path)["Pages"] == "3"
    assert all(run in letters(pdf_text(pdf, tmp_path, 1)) for run in words(PERSIAN[texts.HEADING]))
    assert ENGLISH[0] in flat(pdf_text(pdf, tmp_path, 2))
    assert CHINESE[texts.HEADING] in pdf_text(pdf, tmp_path, 3)


def test_a_language_without_a_catalog_is_not_printed_twice_in_english(
    places: sessionmaker[Session], tmp_path: Path
) -> None:
    with places.begin() as session:
        located = session.get(Location, "sec-b")
        assert located is not None
        located.languages = "en,sw"
    with places() as session:
        text = pdf_text(render_notice(session, "sec-b"), tmp_path)
    assert flat(text).count(ENGLISH[0]) == 1


def test_k_is_the_hubs_setting(places: sessionmaker[Session], tmp_path: Path) -> None:
    with places() as session:
        pdf = render_notice(session, "gate-d", settings=CameraSettings(min_readings=25))
    assert "only shown as totals of at least 25 readings." in flat(pdf_text(pdf, tmp_path))


@pytest.mark.parametrize(
    ("days", "said"),
    [
        (7, "The numbers are deleted after 7 days; totals stay."),
        (1.5, "The numbers are deleted after 2 days; totals stay."),
        (0.5, "The numbers are deleted after one day; totals stay."),
    ],
)
def test_the_retention_is_the_hubs_setting_in_whole_days_at_most(
    places: sessionmaker[Session], tmp_path: Path, days: float, said: str
) -> None:
    settings = CameraSettings(observation_retention_days=days)
    with places() as session:
        pdf = render_notice(session, "gate-d", size="A5", settings=settings)
    assert said in flat(pdf_text(pdf, tmp_path))


def counting_kiosk(sessions: sessionmaker[Session], location_id: str) -> None:
    """A kiosk at the place whose status reports faces counted passing (ambient mode)."""
    with sessions.begin() as session:
        status = DeviceStatus(
            device_id=f"k-{location_id}",
            state=DeviceState.ONLINE,
            sent_at=NOW,
            location_id=location_id,
            passersby_total=3,
        )
        apply_status(session, status=status, received_at=NOW)


def test_faces_counted_passing_are_told_where_a_kiosk_at_or_under_the_place_counts_them(
    places: sessionmaker[Session], tmp_path: Path
) -> None:
    counting_kiosk(places, "gate-d")
    with places() as session:
        gate = render_notice(session, "gate-d", size="A5", base_url=BASE_URL)
        site = render_notice(session, "ams", size="A5")
        lane = render_notice(session, "sec-b", size="A5")
    text = pdf_text(gate, tmp_path)
    assert PASSERSBY in flat(text)
    assert CHINESE[texts.PASSERSBY] in "".join(text.split())
    assert pdf_info(gate, tmp_path)["Pages"] == "1"
    assert PASSERSBY in flat(pdf_text(site, tmp_path)), "the site holds the counting kiosk"
    assert PASSERSBY not in flat(pdf_text(lane, tmp_path)), "no kiosk counts in the lane"


def test_the_phone_survey_link_is_written_out_when_the_place_has_one(
    places: sessionmaker[Session], tmp_path: Path
) -> None:
    with places() as session:
        assert "Phone survey" not in pdf_text(render_notice(session, "sec-b"), tmp_path)
    with places.begin() as session:
        link = issue_link(session, location_id="sec-b", by="test", now=NOW)
    with places() as session:
        without_base = pdf_text(render_notice(session, "sec-b"), tmp_path)
        with_base = pdf_text(render_notice(session, "sec-b", base_url=BASE_URL), tmp_path)
    assert "Phone survey" not in without_base
    assert f"Phone survey: {BASE_URL}/t/{link.token}" in flat(with_base)


def test_the_same_place_gives_the_same_bytes(places: sessionmaker[Session]) -> None:
    with places() as session:
        assert render_notice(session, "sec-b", size="a5") == render_notice(
            session, "sec-b", size="a5"
        )


def test_write_notice_writes_the_pdf(places: sessionmaker[Session], tmp_path: Path) -> None:
    out = tmp_path / "notice-gate-d-a5.pdf"
    with places() as session:
        written = write_notice(
            session, "gate-d", out, "A5", settings=CameraSettings(min_readings=12)
        )
    assert written == out
    assert pdf_info(out.read_bytes(), tmp_path)["Page size"].startswith("419.5")
    text = flat(pdf_text(out.read_bytes(), tmp_path))
    assert ENGLISH[0] in text
    assert "totals of at least 12 readings." in text


def test_no_notice_without_an_approval(places: sessionmaker[Session]) -> None:
    with places() as session, pytest.raises(CameraRefused, match="approval") as refused:
        render_notice(session, "lounge")
    assert "seed-hub camera approve lounge" in str(refused.value)


def test_no_notice_where_the_audience_forbids_a_camera(places: sessionmaker[Session]) -> None:
    with places.begin() as session:
        set_audience(session, "sec-b", Audience.EMPLOYEES, actor="test", now=NOW)
    with places() as session, pytest.raises(CameraRefused, match=r"Art\. 5\(1\)\(f\)"):
        render_notice(session, "sec-b")


def test_no_notice_of_an_unknown_size(places: sessionmaker[Session]) -> None:
    with places() as session, pytest.raises(ConfigError, match="A4 or A5"):
        render_notice(session, "sec-b", size="Letter")
