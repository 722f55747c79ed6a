"""Text of any script in the PDF report: a font per script, Arabic shaped, right to left
ordered.

Latin text (what Helvetica's WinAnsi encoding holds) stays a plain reportlab Paragraph or
table string in Helvetica. Anything else is laid out here, a line at a time:

* Chinese, Japanese and Korean in reportlab's built-in CID fonts (STSong-Light,
  HeiseiMin-W3, HYSMyeongJo-Medium): no file to ship, the viewer supplies the glyphs.
* Everything else (Persian, Arabic, Hebrew, Cyrillic, Greek, Latin beside them) in DejaVu
  Sans, shipped in hub/reporting/fonts/ (never read from the system), subset into the PDF,
  shaped by HarfBuzz (uharfbuzz) so that Arabic letters join.
* Each line's levels come from the Unicode bidirectional algorithm (UAX #9, python-bidi;
  explicit embeddings and isolates are dropped): runs of one level are shaped in their own
  direction and placed in visual order (L2), so that a Persian label reads right to left
  while its digits and Latin words read left to right.

reportlab's own right-to-left support needs `rlbidi`, which is not on PyPI, and its
shaping of a paragraph guesses each word's direction from its script, which turns Persian
digits around; hence this module.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

import uharfbuzz as hb
from bidi import algorithm as bidi
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph

FONT_FILE = Path(__file__).with_name("fonts") / "DejaVuSans.ttf"
LATIN = "Helvetica"
WIDE = "SeedDejaVuSans"
CHINESE = "STSong-Light"
JAPANESE = "HeiseiMin-W3"
KOREAN = "HYSMyeongJo-Medium"

Direction = Literal["ltr", "rtl"]
Align = Literal["auto", "left", "right", "center"]

_CJK = re.compile(
    "[\u1100-\u11ff\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    "\U00020000-\U0003ffff]"
)
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af]")
_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
# Breaks: after white space, and either side of a CJK character.
_TOKENS = re.compile(rf"\s+|{_CJK.pattern}|[^\s{_CJK.pattern[1:-1]}]+")
_EXPLICIT = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}


def is_latin(text: str) -> bool:
    """Whether Helvetica (WinAnsi encoding) can show every character of `text`."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def direction_of(text: str) -> Direction:
    """The paragraph direction the first strong character gives (UAX #9 P2-P3)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return "ltr"


def label_direction(text: str) -> Direction:
    """Right to left where any letter is: a label of a right-to-left survey that starts with
    a Latin word (a brand, an acronym) still reads right to left, that word at its right."""
    rtl = any(unicodedata.bidirectional(char) in ("R", "AL") for char in text)
    return "rtl" if rtl else "ltr"


def cjk_font(text: str) -> str:
    """The CID font for the CJK characters of `text`: Korean, Japanese, else Chinese."""
    if _HANGUL.search(text):
        return _registered(KOREAN)
    if _KANA.search(text):
        return _registered(JAPANESE)
    return _registered(CHINESE)


@cache
def _registered(name: str) -> str:
    """Register the font `name` with reportlab, once; DejaVu Sans from the package only."""
    if name == WIDE:
        pdfmetrics.registerFont(TTFont(WIDE, str(FONT_FILE)))
    else:
        pdfmetrics.registerFont(UnicodeCIDFont(name))
    return name


@cache
def _harfbuzz() -> tuple[hb.Font, float]:
    """DejaVu Sans for HarfBuzz, and its units per em."""
    face = hb.Face(hb.Blob(FONT_FILE.read_bytes()))
    return hb.Font(face), float(face.upem)


def bidi_levels(text: str, direction: Direction) -> list[int]:
    """The embedding level of each character of one line (UAX #9, by python-bidi).

    Characters the algorithm sets aside (X9: the zero-width non-joiner Persian writes, other
    boundary neutrals) ride at the level of the character before them, so that they reach
    the shaper beside their neighbours."""
    base = 1 if direction == "rtl" else 0
    kept = [i for i, char in enumerate(text) if _bidi_type(char) not in bidi.X9_REMOVED]
    storage = bidi.get_empty_storage()
    storage["base_level"], storage["base_dir"] = base, "LR"[base]
    bidi.get_embedding_levels("".join(text[i] for i in kept), storage)
    bidi.explicit_embed_and_overrides(storage)
    bidi.resolve_weak_types(storage)
    bidi.resolve_neutral_types(storage, False)
    bidi.resolve_implicit_levels(storage, False)
    resolved = dict(zip(kept, (char["level"] for char in storage["chars"]), strict=True))
    levels: list[int] = []
    for i in range(len(text)):
        levels.append(resolved.get(i, levels[-1] if levels else base))
    end = len(text)
    while end and _bidi_type(text[end - 1]) in ("WS", "S", "B"):  # L1
        end -= 1
        levels[end] = base
    return levels


def _bidi_type(char: str) -> str:
    return unicodedata.bidirectional(char) or "L"


def visual_runs(text: str, direction: Direction) -> list[tuple[str, int]]:
    """The runs of one level of a line, in visual order from the left (UAX #9 L2 over runs;
    a run of odd level still reads in logical order: its shaping turns it around)."""
    text = "".join(char for char in text if unicodedata.bidirectional(char) not in _EXPLICIT)
    runs: list[tuple[str, int]] = []
    for char, level in zip(text, bidi_levels(text, direction), strict=True):
        if runs and runs[-1][1] == level:
            runs[-1] = (runs[-1][0] + char, level)
        else:
            runs.append((char, level))
    if not runs:
        return runs
    highest = max(level for _, level in runs)
    lowest_odd = min((level for _, level in runs if level % 2), default=highest + 1)
    for level in range(highest, lowest_odd - 1, -1):
        i = 0
        while i < len(runs):
            if runs[i][1] < level:
                i += 1
                continue
            end = i
            while end < len(runs) and runs[end][1] >= level:
                end += 1
            runs[i:end] = runs[i:end][::-1]
            i = end
    return runs


def visual_text(text: str, direction: Direction) -> str:
    """The characters of one line left to right as drawn, before any shaping."""
    return "".join(
        run if level % 2 == 0 else run[::-1] for run, level in visual_runs(text, direction)
    )


@dataclass(frozen=True)
class Glyphs:
    """Text drawn in one font from (x, y) points to the right of the line's start."""

    font: str
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Line:
    glyphs: tuple[Glyphs, ...]
    width: float


@lru_cache(maxsize=4096)
def lay_out(text: str, size: float, direction: Direction) -> Line:
    """One line of `text` at `size` points: its glyphs placed left to right, and its width."""
    cjk = cjk_font(text) if _CJK.search(text) else None
    placed: list[Glyphs] = []
    x = 0.0
    for run, level in visual_runs(text, direction):
        for font, piece in _font_runs(run, cjk):
            if font == WIDE:
                shaped, width = _shape(piece, size, rtl=level % 2 == 1, x=x)
                placed += shaped
            else:
                drawn = piece[::-1] if level % 2 else piece
                width = pdfmetrics.stringWidth(drawn, font, size)
                placed.append(Glyphs(font, x, 0.0, drawn))
            x += width
    return Line(tuple(placed), x)


def _font_runs(run: str, cjk: str | None) -> list[tuple[str, str]]:
    """Split a run by font: CJK characters (and ASCII punctuation, digits and spaces among
    them) in the CID font, the rest in DejaVu Sans."""
    pieces: list[tuple[str, str]] = []
    for char in run:
        among = bool(pieces) and pieces[-1][0] == cjk and char.isascii() and not char.isalpha()
        font = cjk if cjk and (_CJK.match(char) or among) else _registered(WIDE)
        if pieces and pieces[-1][0] == font:
            pieces[-1] = (font, pieces[-1][1] + char)
        else:
            pieces.append((font, char))
    return pieces


def _shape(text: str, size: float, *, rtl: bool, x: float) -> tuple[list[Glyphs], float]:
    """`text` shaped by HarfBuzz in DejaVu Sans in the run's direction; each glyph placed."""
    font, upem = _harfbuzz()
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.direction = "rtl" if rtl else "ltr"
    buffer.guess_segment_properties()
    hb.shape(font, buffer, {"kern": True, "liga": True})
    scale = size / upem
    glyphs: list[Glyphs] = []
    start = x
    for info, position in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True):
        char = _char_of(info.codepoint, position.x_advance, upem)
        if char is not None:
            glyphs.append(
                Glyphs(WIDE, x + position.x_offset * scale, position.y_offset * scale, char)
            )
        x += position.x_advance * scale
    return glyphs, x - start


def _char_of(glyph: int, advance: int, upem: float) -> str | None:
    """A character that reportlab's DejaVu Sans maps to `glyph`: from the font's cmap, or
    a private-use one added for a glyph only shaping reaches (a ligature, a form); None for
    an invisible glyph (a joiner)."""
    face = pdfmetrics.getFont(_registered(WIDE)).face
    chars = face.glyphToChar.get(glyph)
    if chars:
        char = chr(chars[0])
        return None if char.isspace() and advance == 0 else char
    if glyph == 0:
        return chr(0xFFFD) if 0xFFFD in face.charToGlyph else None
    code = 0xF0000
    while code in face.charToGlyph:
        code += 1
    face.charToGlyph[code] = glyph
    face.glyphToChar.setdefault(glyph, []).append(code)
    face.charWidths[code] = advance * 1000 / upem
    return chr(code)


class ScriptText(Flowable):  # type: ignore[misc]  # reportlab is untyped
    """Text of any script, shaped and ordered; wrapped to the width it gets, or kept on one
    line at its own width (`wrap=False`, for a table column sized by its content)."""

    def __init__(
        self,
        text: str,
        *,
        size: float,
        leading: float | None = None,
        align: Align = "auto",
        direction: Direction | None = None,
        wrap: bool = True,
        indent: float = 0.0,
    ) -> None:
        super().__init__()
        self.text = " ".join(text.split())
        self.size = size
        self.leading = leading or size * 1.2
        self.direction: Direction = direction or direction_of(self.text)
        self.align: Align = align
        if align == "auto":
            self.align = "right" if self.direction == "rtl" else "left"
        self.wraps = wrap
        self.indent = indent
        self.lines = [self.text]
        self.width = indent + lay_out(self.text, size, self.direction).width
        self.height = self.leading
        self._fixedWidth = 0 if wrap else 1

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        if self.wraps:
            self.lines = self._break(availWidth - self.indent)
            self.width = availWidth
        self.height = self.leading * len(self.lines)
        return self.width, self.height

    def _break(self, width: float) -> list[str]:
        lines: list[str] = []
        current = ""
        for token in _TOKENS.findall(self.text):
            if token.isspace() and not current:
                continue
            candidate = current + token
            fits = lay_out(candidate.rstrip(), self.size, self.direction).width <= width
            if fits or not current.strip():
                current = candidate
            else:
                lines.append(current.rstrip())
                current = "" if token.isspace() else token
        if current.strip() or not lines:
            lines.append(current.rstrip())
        return lines

    def draw(self) -> None:
        canvas = self.canv
        for number, text in enumerate(self.lines):
            line = lay_out(text, self.size, self.direction)
            room = self.width - self.indent - line.width
            x = self.indent + {"right": room, "center": room / 2}.get(self.align, 0.0)
            y = self.height - number * self.leading - self.size * 0.95
            if self.leading > self.size * 1.2:
                y -= (self.leading - self.size * 1.2) / 2
            drawn = canvas.beginText()
            for glyphs in line.glyphs:
                drawn.setFont(glyphs.font, self.size)
                drawn.setTextOrigin(x + glyphs.x, y + glyphs.y)
                drawn.textOut(glyphs.text)
            canvas.drawText(drawn)


def paragraph(text: str, style: ParagraphStyle, *, direction: Direction | None = None) -> Flowable:
    """`text` as a Paragraph in `style` where it is Latin, else laid out here at the style's
    size and leading; right-aligned where it reads right to left (unless the style centres)."""
    if is_latin(text):
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return Paragraph(escaped, style)
    aligns: dict[int, Align] = {TA_CENTER: "center", TA_RIGHT: "right"}
    align = aligns.get(style.alignment, "auto")
    laid = ScriptText(
        text, size=style.fontSize, leading=style.leading, align=align, direction=direction
    )
    laid.spaceBefore, laid.spaceAfter = style.spaceBefore, style.spaceAfter
    return laid


def cell(text: str, size: float, *, indent: str = "") -> str | Flowable:
    """A table cell: the string itself where it is Latin (the table's font draws it), else
    one line laid out here at its own width, `indent` (spaces) before it."""
    if is_latin(text):
        return indent + text
    return ScriptText(
        text,
        size=size,
        wrap=False,
        align="left",
        indent=pdfmetrics.stringWidth(indent, LATIN, size),
    )
