"""A printable poster of a place's phone survey, for where there is no kiosk: the question in
each of the place's languages, the four smileys, a QR code of the link, the place's name and
the link written out for those who cannot scan.

One layout, in millimetres from the top left, drawn twice: as a PDF (reportlab, the QR code
as filled modules, text of any script through hub.reporting.pdf_fonts) and as a standalone
SVG (text left to the viewer's fonts, marked with its language and direction). Text shrinks
until every language fits; the QR code never gets smaller than 8 cm (A4) or 6 cm (A5).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

import segno
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from hub.reporting.pdf_fonts import (
    Direction,
    ScriptText,
    is_latin,
    label_direction,
    lay_out,
)
from protocol.errors import ConfigError

PosterSize = Literal["a4", "a5"]
Align = Literal["left", "right", "center"]

PAGES: dict[PosterSize, tuple[float, float]] = {"a4": (210.0, 297.0), "a5": (148.0, 210.0)}
# The QR code's modules (quiet zone aside) are at least this wide, in mm; wider where room is.
QR_LEAST: dict[PosterSize, float] = {"a4": 80.0, "a5": 60.0}
QR_WISHED: dict[PosterSize, float] = {"a4": 88.0, "a5": 64.0}
QUIET_ZONE = 4  # modules of white around the code, as ISO/IEC 18004 asks
PT = 25.4 / 72  # mm in a point

INK = "#111111"
MUTED = "#4a4a4a"
ACCENT = "#1f3a68"
RULE = "#c8ccd4"
# The kiosk's smileys (edge/display/static/kiosk.js and kiosk.css): colour and mouth, on a
# 100 x 100 face, in the kiosk's order.
FACES = (
    ("very_happy", "#0b6b2f", (30.0, 62.0, 50.0, 84.0, 70.0, 62.0)),
    ("happy", "#3d7d12", (32.0, 64.0, 50.0, 76.0, 68.0, 64.0)),
    ("unhappy", "#a14a00", (32.0, 72.0, 50.0, 62.0, 68.0, 72.0)),
    ("very_unhappy", "#a3141c", (30.0, 76.0, 50.0, 56.0, 70.0, 76.0)),
)
FACE_GAP = 0.45  # between two smileys, in smiley widths
# Latin lines are measured in Helvetica, the rest in DejaVu Sans (or the CJK fonts, a square
# em a character): the SVG asks for the same or metric-compatible fonts so that lines fit.
SVG_FONTS = {
    True: "Helvetica, Arial, 'Liberation Sans', 'Nimbus Sans', sans-serif",
    False: "'DejaVu Sans', 'Noto Sans', Vazirmatn, 'Noto Sans CJK SC', sans-serif",
}
LATIN_FONTS = {False: "Helvetica", True: "Helvetica-Bold"}


@dataclass(frozen=True)
class PosterText:
    """The poster's words in one language (a BCP 47 tag, as the survey's)."""

    language: str
    question: str
    scan_hint: str  # e.g. "Scan to answer"


@dataclass(frozen=True)
class Poster:
    """What a poster shows; the first text is the place's main language, drawn largest."""

    url: str
    place: str
    texts: tuple[PosterText, ...]


@dataclass(frozen=True)
class _Text:
    """One line: `x` is its left edge, right edge or centre as `align` says; mm, top left."""

    text: str
    x: float
    baseline: float
    size: float  # points
    align: Align
    direction: Direction
    language: str
    bold: bool = False
    color: str = INK


@dataclass(frozen=True)
class _Face:
    kind: str
    color: str
    mouth: tuple[float, float, float, float, float, float]  # quadratic: start, control, end
    x: float
    y: float
    width: float


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    width: float
    height: float
    color: str
    radius: float = 0.0
    stroke: float = 0.0  # mm; 0 fills the box instead


@dataclass(frozen=True)
class _Qr:
    x: float  # top left of the quiet zone
    y: float
    module: float
    matrix: tuple[tuple[bool, ...], ...]  # rows, quiet zone included


@dataclass(frozen=True)
class _Layout:
    width: float
    height: float
    texts: tuple[_Text, ...]
    faces: tuple[_Face, ...]
    boxes: tuple[_Box, ...]
    qr: _Qr


def qr_matrix(url: str) -> tuple[tuple[bool, ...], ...]:
    """The QR code of `url` (medium error correction, raised where it costs no size), rows of
    dark modules, the quiet zone left out."""
    code = segno.make_qr(url, error="m")
    return tuple(tuple(bool(dark) for dark in row) for row in code.matrix)


def poster_pdf(poster: Poster, size: PosterSize = "a4") -> bytes:
    """The poster as a one-page PDF, the same bytes for the same poster."""
    layout = _lay_out(poster, size)
    out = BytesIO()
    canvas = Canvas(out, pagesize=(layout.width * mm, layout.height * mm), invariant=1)
    canvas.setTitle(f"{poster.place}: {poster.texts[0].question}")
    canvas.setAuthor("Seed hub")
    canvas.setSubject(poster.url)
    _PdfPage(canvas, layout.height).draw(layout)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def poster_svg(poster: Poster, size: PosterSize = "a4") -> str:
    """The poster as a standalone SVG document (no fonts or images fetched), sized in mm."""
    return _svg(_lay_out(poster, size), poster)


def _lay_out(poster: Poster, size: PosterSize) -> _Layout:
    """The largest text that fits (down to a floor that stays readable), with the widest QR
    code that leaves it that size."""
    if not poster.texts:
        raise ConfigError("a poster needs the question in at least one language")
    if not poster.url.strip():
        raise ConfigError("a poster needs the survey's link")
    matrix = _with_quiet_zone(qr_matrix(poster.url))
    for step in range(20, 6, -1):
        for qr_width in (QR_WISHED[size], QR_LEAST[size]):
            layout = _Composer(poster, size, matrix, qr_width, step / 20).compose()
            if layout is not None:
                return layout
    raise ConfigError(
        f"the questions of {poster.place!r} do not fit an {size.upper()} poster; "
        "shorten them or print fewer languages"
    )


def _with_quiet_zone(matrix: tuple[tuple[bool, ...], ...]) -> tuple[tuple[bool, ...], ...]:
    side = len(matrix) + 2 * QUIET_ZONE
    blank = (False,) * side
    edge = (False,) * QUIET_ZONE
    return (
        (blank,) * QUIET_ZONE + tuple(edge + row + edge for row in matrix) + (blank,) * QUIET_ZONE
    )


class _Composer:
    """Places everything for one text scale and QR width; `compose` is None if it overflows.

    Top: the main question, the other languages below it (each with its scan hint), each
    aligned to where its script starts. Bottom: the place and the link, centred. Between them,
    centred in the room left: the smileys, as wide as the QR code, the QR code in a frame,
    and the main language's scan hint under it."""

    def __init__(
        self,
        poster: Poster,
        size: PosterSize,
        matrix: tuple[tuple[bool, ...], ...],
        qr_width: float,
        scale: float,
    ) -> None:
        self.poster = poster
        self.width, self.height = PAGES[size]
        self.k = self.width / PAGES["a4"][0]  # A5 is A4 shrunk by this much
        self.margin = 15.0 * self.k
        self.matrix = matrix
        inner = len(matrix) - 2 * QUIET_ZONE
        self.module = qr_width / inner
        self.scale = scale
        self.texts: list[_Text] = []
        self.boxes: list[_Box] = []

    @property
    def column(self) -> float:
        return self.width - 2 * self.margin

    def compose(self) -> _Layout | None:
        k, s = self.k, self.scale
        main, *others = self.poster.texts
        self.boxes.append(_Box(self.margin, self.margin, 22 * k, 1.6 * k, ACCENT))
        y = self.margin + 1.6 * k + 6 * k
        y = self._paragraph(main.question, main.language, y, max(32 * k * s, 16), bold=True)
        y += 3 * k * s
        for text in others:
            y += 3.5 * k * s
            y = self._paragraph(text.question, text.language, y, max(17 * k * s, 9.5))
            y = self._paragraph(text.scan_hint, text.language, y, max(11 * k * s, 7.5), color=MUTED)
        top = y
        bottom = self._footer()

        qr_side = self.module * len(self.matrix)
        face = qr_side / (4 + 3 * FACE_GAP)
        hint_size = 17 * k
        hint_lines = _wrap(main.scan_hint, hint_size, self.column / PT, bold=True)
        group = face + 8 * k + qr_side + 6 * k + len(hint_lines) * hint_size * PT * 1.2
        room = bottom - top
        least_gap = 7 * k
        if group + 2 * least_gap > room:
            return None
        y = top + (room - group) / 2
        x = (self.width - qr_side) / 2
        faces = tuple(
            _Face(kind, color, mouth, x + i * face * (1 + FACE_GAP), y, face)
            for i, (kind, color, mouth) in enumerate(FACES)
        )
        y += face + 8 * k
        qr = _Qr(x, y, self.module, self.matrix)
        frame = 0.7 * k
        self.boxes.append(
            _Box(
                x - frame / 2, y - frame / 2, qr_side + frame, qr_side + frame, ACCENT, 4 * k, frame
            )
        )
        y += qr_side + 6 * k
        for line in hint_lines:
            y = self._line(line, main.language, y, hint_size, "center", bold=True, color=ACCENT)
        return _Layout(self.width, self.height, tuple(self.texts), faces, tuple(self.boxes), qr)

    def _footer(self) -> float:
        """The place's name and the link, centred at the foot of the page; returns their top."""
        k = self.k
        url_size = _fitting(self.poster.url, 14 * k, 6.0, self.column / PT)
        place_size = 13.5 * k
        place_lines = _wrap(self.poster.place, place_size, self.column / PT, bold=True)
        url_lines = _wrap(self.poster.url, url_size, self.column / PT, bold=False, anywhere=True)
        height = (len(place_lines) * place_size + len(url_lines) * url_size) * PT * 1.25
        y = self.height - self.margin - height
        top = y
        for line in place_lines:
            y = self._line(line, "", y, place_size, "center", bold=True)
        for line in url_lines:
            y = self._line(line, "", y, url_size, "center", color=MUTED)
        rule_y = top - 5 * k
        self.boxes.append(_Box(self.margin, rule_y, self.column, 0.3 * k, RULE))
        return rule_y - 1 * k

    def _paragraph(
        self,
        text: str,
        language: str,
        y: float,
        size: float,
        *,
        bold: bool = False,
        color: str = INK,
    ) -> float:
        """`text` wrapped to the column from `y` down, aligned where its script starts."""
        direction = label_direction(text)
        align: Align = "right" if direction == "rtl" else "left"
        for line in _wrap(text, size, self.column / PT, bold=bold):
            y = self._line(line, language, y, size, align, bold=bold, color=color)
        return y

    def _line(
        self,
        text: str,
        language: str,
        y: float,
        size: float,
        align: Align,
        *,
        bold: bool = False,
        color: str = INK,
    ) -> float:
        """One line whose box starts at `y`; returns where the next one starts."""
        x = {"left": self.margin, "right": self.width - self.margin, "center": self.width / 2}
        leading = size * PT * 1.22
        self.texts.append(
            _Text(
                text,
                x[align],
                y + size * PT * 0.92,
                size,
                align,
                label_direction(text),
                language,
                bold,
                color,
            )
        )
        return y + leading


def _text_width(text: str, size: float, *, bold: bool) -> float:
    """How wide `text` is drawn at `size`, in points: Helvetica if Latin, else as laid out."""
    if is_latin(text):
        return float(stringWidth(text, LATIN_FONTS[bold], size))
    return lay_out(text, size, label_direction(text)).width


def _wrap(text: str, size: float, width: float, *, bold: bool, anywhere: bool = False) -> list[str]:
    """`text` broken into lines no wider than `width` points (at spaces; between any two
    characters too where `anywhere`, for a link)."""
    text = " ".join(text.split())
    if not is_latin(text) and not anywhere:
        laid = ScriptText(text, size=size, direction=label_direction(text))
        laid.wrap(width, 1e9)
        return list(laid.lines)
    tokens = list(text) if anywhere else text.split(" ")
    joiner = "" if anywhere else " "
    lines: list[str] = []
    current = ""
    for token in tokens:
        candidate = f"{current}{joiner}{token}" if current else token
        if current and _text_width(candidate, size, bold=bold) > width:
            lines.append(current)
            current = token
        else:
            current = candidate
    return [*lines, current]


def _fitting(text: str, size: float, least: float, width: float) -> float:
    """The largest size from `size` down to `least` at which `text` fits one line."""
    while size > least and _text_width(text, size, bold=False) > width:
        size -= 0.5
    return max(size, least)


class _PdfPage:
    """Draws a layout on a reportlab canvas (origin bottom left, points)."""

    def __init__(self, canvas: Canvas, height: float) -> None:
        self.canvas = canvas
        self.height = height

    def _y(self, top: float) -> float:
        return float((self.height - top) * mm)

    def draw(self, layout: _Layout) -> None:
        self._qr(layout.qr)
        for box in layout.boxes:  # after the code's white, which would hide a frame's corners
            self._box(box)
        for face in layout.faces:
            self._face(face)
        for text in layout.texts:
            self._text(text)

    def _box(self, box: _Box) -> None:
        canvas = self.canvas
        color = colors.HexColor(box.color)
        x, y = box.x * mm, self._y(box.y + box.height)
        if box.stroke:
            canvas.setStrokeColor(color)
            canvas.setLineWidth(box.stroke * mm)
            canvas.roundRect(x, y, box.width * mm, box.height * mm, box.radius * mm, 1, 0)
        else:
            canvas.setFillColor(color)
            canvas.rect(x, y, box.width * mm, box.height * mm, stroke=0, fill=1)

    def _qr(self, qr: _Qr) -> None:
        """White under the quiet zone, then every run of dark modules in a row as one filled
        rectangle of one path (so that no seam shows between neighbours)."""
        canvas = self.canvas
        side = qr.module * len(qr.matrix)
        canvas.setFillColor(colors.white)
        canvas.rect(qr.x * mm, self._y(qr.y + side), side * mm, side * mm, stroke=0, fill=1)
        path = canvas.beginPath()
        for row, start, length in _runs(qr.matrix):
            path.rect(
                (qr.x + start * qr.module) * mm,
                self._y(qr.y + (row + 1) * qr.module),
                length * qr.module * mm,
                qr.module * mm,
            )
        canvas.setFillColor(colors.black)
        canvas.drawPath(path, stroke=0, fill=1)

    def _face(self, face: _Face) -> None:
        """The kiosk's 100 x 100 smiley, scaled and turned upright (its y runs down)."""
        canvas = self.canvas
        canvas.saveState()
        canvas.translate(face.x * mm, self._y(face.y))
        canvas.scale(face.width * mm / 100, -face.width * mm / 100)
        color = colors.HexColor(face.color)
        canvas.setStrokeColor(color)
        canvas.setFillColor(color)
        canvas.setLineWidth(7)
        canvas.setLineCap(1)
        canvas.circle(50, 50, 44, stroke=1, fill=0)
        canvas.circle(35, 40, 6, stroke=0, fill=1)
        canvas.circle(65, 40, 6, stroke=0, fill=1)
        x0, y0, cx, cy, x1, y1 = face.mouth
        mouth = canvas.beginPath()
        mouth.moveTo(x0, y0)
        mouth.curveTo(  # the quadratic curve as a cubic one
            x0 + 2 / 3 * (cx - x0),
            y0 + 2 / 3 * (cy - y0),
            x1 + 2 / 3 * (cx - x1),
            y1 + 2 / 3 * (cy - y1),
            x1,
            y1,
        )
        canvas.drawPath(mouth, stroke=1, fill=0)
        canvas.restoreState()

    def _text(self, text: _Text) -> None:
        canvas = self.canvas
        canvas.saveState()
        color = colors.HexColor(text.color)
        canvas.setFillColor(color)
        width = _text_width(text.text, text.size, bold=text.bold)
        left = text.x * mm - {"left": 0.0, "right": width, "center": width / 2}[text.align]
        y = self._y(text.baseline)
        if is_latin(text.text):
            canvas.setFont(LATIN_FONTS[text.bold], text.size)
            canvas.drawString(left, y, text.text)
        else:
            drawn = canvas.beginText()
            if text.bold:  # DejaVu Sans ships in one weight: outline the glyphs to embolden
                drawn.setTextRenderMode(2)
                canvas.setStrokeColor(color)
                canvas.setLineWidth(text.size * 0.04)
            for glyphs in lay_out(text.text, text.size, text.direction).glyphs:
                drawn.setFont(glyphs.font, text.size)
                drawn.setTextOrigin(left + glyphs.x, y + glyphs.y)
                drawn.textOut(glyphs.text)
            canvas.drawText(drawn)
        canvas.restoreState()


def _runs(matrix: Sequence[Sequence[bool]]) -> list[tuple[int, int, int]]:
    """(row, first column, length) of every horizontal run of dark modules."""
    runs: list[tuple[int, int, int]] = []
    for row, modules in enumerate(matrix):
        start: int | None = None
        for column, dark in enumerate([*modules, False]):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                runs.append((row, start, column - start))
                start = None
    return runs


def _svg(layout: _Layout, poster: Poster) -> str:
    """The layout as SVG in mm: text as <text> in logical order with its language (and
    direction where right to left), the QR code as one path in module units."""
    n = _number
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{n(layout.width)}mm" '
        f'height="{n(layout.height)}mm" viewBox="0 0 {n(layout.width)} {n(layout.height)}" '
        f"xml:lang={quoteattr(poster.texts[0].language)}>",
        f"<title>{escape(poster.place)}: {escape(poster.texts[0].question)}</title>",
        f'<rect width="{n(layout.width)}" height="{n(layout.height)}" fill="#ffffff"/>',
    ]
    parts += _svg_qr(layout.qr)
    for box in layout.boxes:
        geometry = f'x="{n(box.x)}" y="{n(box.y)}" width="{n(box.width)}" height="{n(box.height)}"'
        if box.stroke:
            parts.append(
                f'<rect {geometry} rx="{n(box.radius)}" fill="none" stroke="{box.color}" '
                f'stroke-width="{n(box.stroke)}"/>'
            )
        else:
            parts.append(f'<rect {geometry} fill="{box.color}"/>')
    for face in layout.faces:
        parts += _svg_face(face)
    parts += [_svg_text(text) for text in layout.texts]
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _svg_qr(qr: _Qr) -> list[str]:
    side = qr.module * len(qr.matrix)
    d = "".join(
        f"M{column} {row}h{length}v1h-{length}z" for row, column, length in _runs(qr.matrix)
    )
    return [
        f'<rect x="{_number(qr.x)}" y="{_number(qr.y)}" width="{_number(side)}" '
        f'height="{_number(side)}" fill="#ffffff"/>',
        f'<g id="qr" transform="translate({_number(qr.x)} {_number(qr.y)}) '
        f'scale({_number(qr.module, 6)})">',
        f'<path d="{d}" fill="#000000" shape-rendering="crispEdges"/>',
        "</g>",
    ]


def _svg_face(face: _Face) -> list[str]:
    x0, y0, cx, cy, x1, y1 = (_number(v) for v in face.mouth)
    return [
        f'<g class="smiley {face.kind}" transform="translate({_number(face.x)} '
        f'{_number(face.y)}) scale({_number(face.width / 100, 6)})" stroke="{face.color}" '
        f'fill="{face.color}">',
        '<circle cx="50" cy="50" r="44" fill="none" stroke-width="7"/>',
        '<circle cx="35" cy="40" r="6" stroke="none"/>',
        '<circle cx="65" cy="40" r="6" stroke="none"/>',
        f'<path d="M{x0} {y0} Q{cx} {cy} {x1} {y1}" fill="none" stroke-width="7" '
        'stroke-linecap="round"/>',
        "</g>",
    ]


def _svg_text(text: _Text) -> str:
    """One line; right to left lines are anchored at their start, which is their right."""
    anchor = {"left": "start", "right": "start", "center": "middle"}[text.align]
    if text.align == "left" and text.direction == "rtl":
        anchor = "end"
    if text.align == "right" and text.direction == "ltr":
        anchor = "end"
    attributes = [
        f'x="{_number(text.x)}"',
        f'y="{_number(text.baseline)}"',
        f'font-size="{_number(text.size * PT)}"',
        f"font-family={quoteattr(SVG_FONTS[is_latin(text.text)])}",
        f'fill="{text.color}"',
        f'text-anchor="{anchor}"',
    ]
    if text.bold:
        attributes.append('font-weight="bold"')
    if text.direction == "rtl":
        attributes.append('direction="rtl"')
    if text.language:
        attributes.append(f"xml:lang={quoteattr(text.language)}")
    return f"<text {' '.join(attributes)}>{escape(text.text)}</text>"


def _number(value: float, places: int = 3) -> str:
    """A coordinate as short as it can be written, the same every time."""
    written = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if written in ("", "-0") else written
