"""The printed poster: the right page size, a QR code a phone reads back as the link, every
language drawn, the SVG's code module for module segno's, and a place's name escaped."""

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import pytest
import segno

from hub.phone.poster import Poster, PosterSize, PosterText, poster_pdf, poster_svg
from protocol.errors import ConfigError

URL = "https://hub.example.org/s/Xk3mP9qLw2"
SVG = "{http://www.w3.org/2000/svg}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ENGLISH = PosterText("en", "How was the security check today?", "Scan to answer")
PERSIAN = PosterText("fa", "بازرسی امنیتی امروز چطور بود؟", "برای پاسخ اسکن کنید")
CHINESE = PosterText("zh", "今天的安检体验如何\uff1f", "扫码回答")
SIX = (
    ENGLISH,
    PERSIAN,
    CHINESE,
    PosterText("de", "Wie war die Sicherheitskontrolle heute?", "Zum Antworten scannen"),
    PosterText(
        "fr", "Comment s'est passé le contrôle de sécurité aujourd'hui ?", "Scannez pour répondre"
    ),
    PosterText("ar", "كيف كان التفتيش الأمني اليوم؟", "امسح للإجابة"),
)
POSTER = Poster(URL, "Terminal 2 · Security checkpoint B", (ENGLISH, PERSIAN, CHINESE))
PAGES = {"a4": (595.28, 841.89), "a5": (419.53, 595.28)}  # points

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed"
)


def media_box(pdf: bytes) -> tuple[float, float]:
    found = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert found, "no MediaBox"
    return float(found[1]), float(found[2])


def render(pdf: bytes, folder: Path, name: str) -> Path:
    """The page as a PNG at 150 dpi, by poppler."""
    (folder / f"{name}.pdf").write_bytes(pdf)
    prefix = folder / name
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(folder / f"{name}.pdf"), str(prefix)],
        check=True,
        timeout=60,
    )
    return prefix.with_suffix(".png")


def decoded(png: Path) -> str:
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(cv2.imread(str(png)))
    return str(text)


@pytest.mark.parametrize("size", ["a4", "a5"])
def test_pdf_page_is_the_paper_size(size: PosterSize) -> None:
    width, height = media_box(poster_pdf(POSTER, size))
    assert (width, height) == pytest.approx(PAGES[size], abs=0.5)


@needs_poppler
@pytest.mark.parametrize("size", ["a4", "a5"])
def test_pdf_qr_code_reads_back_as_the_link(size: PosterSize, tmp_path: Path) -> None:
    png = render(poster_pdf(POSTER, size), tmp_path, f"poster-{size}")
    shutil.copy(png, f"/tmp/poster-{size}.png")  # to look at
    assert decoded(png) == URL


@needs_poppler
def test_six_languages_fit_an_a5_poster_and_it_still_scans(tmp_path: Path) -> None:
    poster = Poster(URL, "Gate 12", SIX)
    png = render(poster_pdf(poster, "a5"), tmp_path, "six")
    assert decoded(png) == URL


def test_persian_english_and_chinese_are_drawn(tmp_path: Path) -> None:
    pdf = poster_pdf(POSTER)
    assert pdf.startswith(b"%PDF")
    assert b"STSong-Light" in pdf  # the CJK CID font, as the report uses
    assert b"SeedDejaVuSans" in pdf or b"DejaVu" in pdf
    if shutil.which("pdftotext") is None:
        return
    (tmp_path / "p.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "p.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "How was the security check" in text
    assert CHINESE.question in text
    assert URL in text
    assert POSTER.place in text


def test_pdf_is_the_same_for_the_same_poster() -> None:
    assert poster_pdf(POSTER, "a5") == poster_pdf(POSTER, "a5")
    assert poster_svg(POSTER) == poster_svg(POSTER)


@pytest.mark.parametrize(("size", "mm"), [("a4", (210, 297)), ("a5", (148, 210))])
def test_svg_is_a_standalone_document_in_mm(size: PosterSize, mm: tuple[int, int]) -> None:
    svg = poster_svg(POSTER, size)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height")) == (f"{mm[0]}mm", f"{mm[1]}mm")
    assert root.get("viewBox") == f"0 0 {mm[0]} {mm[1]}"
    assert "href" not in svg
    assert "url(" not in svg
    assert not list(root.iter(f"{SVG}image"))


def test_svg_qr_code_is_segnos_module_for_module() -> None:
    root = ET.fromstring(poster_svg(POSTER))
    group = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "qr")
    path = group.find(f"{SVG}path")
    assert path is not None
    dark: set[tuple[int, int]] = set()
    for x, y, length in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path.get("d", "")):
        dark |= {(int(y), int(x) + i) for i in range(int(length))}
    code = segno.make_qr(URL, error="m")
    expected = {
        (row, column)
        for row, modules in enumerate(code.matrix_iter(border=4))
        for column, module in enumerate(modules)
        if module
    }
    assert dark == expected


def test_svg_marks_persian_right_to_left_and_every_language() -> None:
    root = ET.fromstring(poster_svg(POSTER))
    lines = {t.text: t for t in root.iter(f"{SVG}text")}
    persian = lines[PERSIAN.question]
    assert persian.get("direction") == "rtl"
    assert persian.get(XML_LANG) == "fa"
    assert lines[CHINESE.question].get(XML_LANG) == "zh"
    assert lines[ENGLISH.scan_hint].get("direction") is None
    assert root.get(XML_LANG) == "en"


def test_svg_escapes_a_place_name() -> None:
    poster = Poster(URL, "<script>alert(1)</script> & Co", (ENGLISH,))
    svg = poster_svg(poster)
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    root = ET.fromstring(svg)
    assert not list(root.iter(f"{SVG}script"))
    assert any(t.text == poster.place for t in root.iter(f"{SVG}text"))


def test_a_poster_without_a_question_is_refused() -> None:
    with pytest.raises(ConfigError):
        poster_pdf(Poster(URL, "Gate 12", ()))
