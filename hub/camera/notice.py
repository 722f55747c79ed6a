"""The printable camera notice of a place, for the wall beside its kiosks (AI Act Art. 50(3)):
what the camera infers, that no image is kept or sent, how long the numbers are kept, who
runs it and on what legal basis, how to object, whom to contact and where to complain, in
each of the place's languages. That the camera may also count faces passing by is said where
a kiosk at or under the place has reported counting them (the hub learns of ambient mode
from the kiosks' status only): a notice printed before then lacks it.

A4 or A5 portrait, drawn with the poster's stack (reportlab, text of any script through
hub.reporting.pdf_fonts: Persian shaped right to left, Chinese in a CJK font). Every language
on one page in the largest type that fits, down to a floor still read at a glance; past it,
a page per language. The words come from the dashboard's catalogs
(hub.web.camera_notice_texts); a language the catalogs lack reads English, and a language
whose words are all another's is not printed twice.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, PageBreak, SimpleDocTemplate, Spacer
from reportlab.platypus.flowables import HRFlowable
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.camera.governance import check_camera_allowed
from hub.config import CameraSettings
from hub.hierarchy import LocationTree
from hub.models import Device, Location
from hub.phone.links import links_of
from hub.reporting.pdf_fonts import Direction, label_direction
from hub.reporting.pdf_fonts import paragraph as script_paragraph
from hub.web import camera_notice_texts as texts
from hub.web.language import translate
from hub.web.routes_phone import local_number, page_language
from hub.web.routes_phone_admin import link_url
from protocol.errors import ConfigError
from protocol.i18n import Language

PAGES: dict[str, tuple[float, float]] = {"A4": A4, "A5": A5}  # points, portrait
INK = colors.HexColor("#111111")
ACCENT = colors.HexColor("#1f3a68")  # the poster's
RULE = colors.HexColor("#c8ccd4")
LIGHT = colors.HexColor("#ffb000")  # the camera's indicator, lit
ONE_PAGE_SCALES = (1.3, 1.2, 1.1, 1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7)
"""Type scales tried with every language on one page; below the last, a page per language."""
PAGED_SCALES = (*ONE_PAGE_SCALES, 0.65, 0.6)
"""Type scales tried with a page per language; a section longer still runs onto a next page."""
# At scale 1 on A4, in points; A5 is A4 shrunk by 148/210.
HEADING_PT, BODY_PT, FACT_PT, NOTE_PT, PLACE_PT = 30.0, 17.0, 15.0, 12.5, 11.0
MARGIN_MM, BAND_MM = 12.0, 24.0
FRAME_PAD = 6.0  # points: platypus's frame padding, where the text column starts
FULL_WIDTH_STOPS = ("。", "！", "？")  # noqa: RUF001 (Chinese punctuation)


@dataclass(frozen=True)
class NoticeFacts:
    """What a place's notice says beyond the fixed words: from its approval and settings."""

    place: str
    deployer_name: str
    deployer_contact: str
    legal_basis: str
    impact_assessment: str
    min_readings: int
    retention_days: int
    passersby: bool = False
    """Whether to say the camera may count faces passing by (ambient mode)."""
    survey_url: str | None = None


@dataclass(frozen=True)
class Said:
    """A line of the notice and its direction: its fixed words', whatever values it holds (an
    English line naming a Persian deployer still reads left to right)."""

    text: str
    direction: Direction


@dataclass(frozen=True)
class Section:
    """The notice in one language: a heading, the statements, the facts and the AI note."""

    language: str
    heading: Said
    statements: tuple[Said, ...]
    facts: tuple[Said, ...]
    note: Said


def render_notice(
    session: Session,
    location_id: str,
    *,
    size: str = "A4",
    base_url: str | None = None,
    settings: CameraSettings | None = None,
) -> bytes:
    """The place's camera notice as a PDF; CameraRefused where no camera may be on there (no
    approval at or above it, or an audience of employees or pupils). With `base_url`, the
    place's phone survey link (its newest live one, if it has one) is written out too.
    `settings` default to the SEED_HUB_CAMERA_* variables, as the hub's own."""
    page = _page_size(size)
    approval = check_camera_allowed(session, location_id)
    location = session.get(Location, location_id)
    if location is None:  # check_camera_allowed refuses an unknown place; this is for mypy
        raise ConfigError(f"no location {location_id!r}; see `seed-hub locations list`")
    settings = settings or CameraSettings()
    facts = NoticeFacts(
        place=location.name,
        deployer_name=approval.deployer_name,
        deployer_contact=approval.deployer_contact,
        legal_basis=approval.legal_basis,
        impact_assessment=approval.impact_assessment,
        min_readings=settings.min_readings,
        retention_days=math.ceil(settings.observation_retention_days),
        passersby=_counts_passersby(session, location_id),
        survey_url=_survey_url(session, location_id, base_url),
    )
    return notice_pdf(facts, sections(facts, location.languages.split(",")), page)


def write_notice(
    session: Session,
    location_id: str,
    out: Path,
    size: str = "A4",
    *,
    settings: CameraSettings | None = None,
) -> Path:
    """The place's camera notice written to `out` (a PDF); returns `out`."""
    content = render_notice(session, location_id, size=size, settings=settings)
    try:
        out.write_bytes(content)
    except OSError as exc:
        raise ConfigError(f"cannot write {out}: {exc.strerror}; pick another path") from exc
    return out


def _page_size(size: str) -> tuple[float, float]:
    page = PAGES.get(size.upper())
    if page is None:
        raise ConfigError(f"notice size {size!r}: A4 or A5")
    return page


def _counts_passersby(session: Session, location_id: str) -> bool:
    """Whether a kiosk at or under the place has reported counting faces passing."""
    places = LocationTree.load(session).subtree(location_id)
    counting = select(Device.device_id).where(
        Device.location_id.in_(places), Device.passersby_total.is_not(None)
    )
    return session.scalar(counting.limit(1)) is not None


def _survey_url(session: Session, location_id: str, base_url: str | None) -> str | None:
    """The place's newest live phone-survey link (not a kiosk's) under `base_url`, if any."""
    if base_url is None:
        return None
    for link in links_of(session, location_id=location_id, live_only=True):
        if link.device_id is None:
            return link_url(base_url, link)
    return None


def sections(facts: NoticeFacts, languages: Sequence[str]) -> list[Section]:
    """A section per language, the place's default first, none repeating an earlier one."""
    found: list[Section] = []
    for tag in dict.fromkeys(tag.strip() for tag in languages if tag.strip()):
        section = _section(facts, tag, page_language(tag))
        if all(_words(section) != _words(earlier) for earlier in found):
            found.append(section)
    return found or [_section(facts, "en", page_language("en"))]


def _words(section: Section) -> tuple[Said, ...]:
    return (section.heading, *section.statements, *section.facts, section.note)


def _section(facts: NoticeFacts, tag: str, language: Language) -> Section:
    def say(message: str, **values: str) -> Said:
        return _say(language, message, values)

    translated = bool(language.texts.get(texts.NO_IMAGE))

    def number(value: int) -> str:
        return local_number(tag, value) if translated else str(value)

    passersby = [say(texts.PASSERSBY)] if facts.passersby else []
    kept = (
        say(texts.RETENTION, days=number(facts.retention_days))
        if facts.retention_days > 1
        else say(texts.RETENTION_ONE_DAY)
    )
    survey = [say(texts.PHONE_SURVEY, url=facts.survey_url)] if facts.survey_url else []
    return Section(
        language=tag,
        heading=say(texts.HEADING),
        statements=(
            _paragraph(say(texts.INFERRED), *passersby),
            _paragraph(say(texts.NO_IMAGE, k=number(facts.min_readings)), kept),
            say(texts.PURPOSE),
            _paragraph(say(texts.OBJECT, contact=facts.deployer_contact), say(texts.COMPLAIN)),
            *survey,
        ),
        facts=(
            say(texts.RUN_BY, name=facts.deployer_name),
            say(texts.CONTACT, contact=facts.deployer_contact),
            say(texts.LEGAL_BASIS, basis=facts.legal_basis),
            say(texts.IMPACT_ASSESSMENT, reference=facts.impact_assessment),
        ),
        note=say(texts.AI_SYSTEM),
    )


def _paragraph(first: Said, *more: Said) -> Said:
    """Sentences of one language as one paragraph, in the first one's direction; after a
    full-width stop (Chinese) no space."""
    text = first.text
    for sentence in more:
        text += ("" if text.endswith(FULL_WIDTH_STOPS) else " ") + sentence.text
    return Said(text, first.direction)


def _say(language: Language, message: str, values: dict[str, str]) -> Said:
    """The message in the language with its values; English where a translation's
    placeholders do not match (a notice is never refused for a translator's slip)."""
    for template in (translate(language, message), message):
        try:
            return Said(template % values if values else template, label_direction(template))
        except (KeyError, ValueError, TypeError):
            continue
    raise ConfigError(f"the notice's text {message!r} does not take {sorted(values)}")


def notice_pdf(facts: NoticeFacts, found: Sequence[Section], page: tuple[float, float]) -> bytes:
    """The sections on one page in the largest type that fits it, else a page per section."""
    if not found:
        raise ConfigError("a notice needs at least one language")
    pdf = b""
    for paged, scales, pages in (
        (False, ONE_PAGE_SCALES, 1),
        (True, PAGED_SCALES, len(found)),
    ):
        for scale in scales:
            pdf, count = _build(facts, found, page, scale, paged=paged)
            if count <= pages:
                return pdf
    return pdf


@dataclass(frozen=True)
class _Styles:
    heading: ParagraphStyle
    body: ParagraphStyle
    fact: ParagraphStyle
    note: ParagraphStyle
    place: ParagraphStyle


def _styles(factor: float) -> _Styles:
    """The notice's type at `factor` times its A4 size."""

    def style(
        name: str, size: float, *, font: str = "Helvetica", after: float = 0.45
    ) -> ParagraphStyle:
        return ParagraphStyle(
            f"Notice{name}",
            fontName=font,
            fontSize=size * factor,
            leading=size * factor * 1.28,
            spaceAfter=size * factor * after,
            textColor=INK,
        )

    return _Styles(
        heading=style("Heading", HEADING_PT, font="Helvetica-Bold", after=0.35),
        body=style("Body", BODY_PT),
        fact=style("Fact", FACT_PT, after=0.2),
        note=style("Note", NOTE_PT, after=0.0),
        place=style("Place", PLACE_PT, after=0.0),
    )


def _build(
    facts: NoticeFacts,
    found: Sequence[Section],
    page: tuple[float, float],
    scale: float,
    *,
    paged: bool,
) -> tuple[bytes, int]:
    """The PDF at one type scale, and how many pages it took."""
    k = page[0] / A4[0]
    styles = _styles(k * scale)
    story: list[Flowable] = []
    for number, section in enumerate(found):
        if number:
            story.append(PageBreak() if paged else _rule(k))
        story += _section_flowables(section, styles, k * scale)
    out = BytesIO()
    margin = MARGIN_MM * k * mm
    document = SimpleDocTemplate(
        out,
        pagesize=page,
        title=f"{facts.place}: {found[0].heading.text}",
        author="Seed hub",
        subject=found[0].note.text,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin + BAND_MM * k * mm,
        bottomMargin=margin + styles.place.leading * 2,
        invariant=1,
    )
    decorate = _page_decoration(facts.place, styles.place, k)
    document.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return out.getvalue(), int(document.page)


def _section_flowables(section: Section, styles: _Styles, factor: float) -> list[Flowable]:
    def text(line: Said, style: ParagraphStyle) -> Flowable:
        return script_paragraph(line.text, style, direction=line.direction)

    return [
        text(section.heading, styles.heading),
        *(text(line, styles.body) for line in section.statements),
        Spacer(1, 2 * mm * factor),
        *(text(line, styles.fact) for line in section.facts),
        Spacer(1, 3 * mm * factor),
        text(section.note, styles.note),
    ]


def _rule(k: float) -> Flowable:
    return HRFlowable(
        width="100%", thickness=0.6 * k, color=RULE, spaceBefore=6 * mm * k, spaceAfter=6 * mm * k
    )


def _page_decoration(place: str, style: ParagraphStyle, k: float) -> Callable[..., None]:
    """What every page carries: the band with the camera sign on top, the place at the foot."""

    def decorate(canvas: Canvas, document: SimpleDocTemplate) -> None:
        width, height = document.pagesize
        canvas.saveState()
        band = BAND_MM * k * mm
        canvas.setFillColor(ACCENT)
        canvas.rect(0, height - band, width, band, stroke=0, fill=1)
        _camera_sign(canvas, width / 2, height - band / 2, band * 0.62)
        left, right = document.leftMargin + FRAME_PAD, width - document.rightMargin - FRAME_PAD
        footer = script_paragraph(place, style, direction=label_direction(place))
        _, tall = footer.wrap(right - left, document.bottomMargin)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.6 * k)
        top = document.bottomMargin - style.leading * 0.6
        canvas.line(left, top, right, top)
        canvas.setFillColor(INK)  # text of other scripts is drawn in the canvas's colour
        footer.drawOn(canvas, left, top - style.leading * 0.4 - tall)
        canvas.restoreState()

    return decorate


def _camera_sign(canvas: Canvas, x: float, y: float, tall: float) -> None:
    """A camera, white on the band, its indicator light lit, centred on (x, y)."""
    body_w, body_h = tall * 1.45, tall * 0.8
    left, bottom = x - body_w / 2, y - tall / 2
    canvas.setFillColor(colors.white)
    canvas.roundRect(left, bottom, body_w, body_h, tall * 0.12, stroke=0, fill=1)
    canvas.roundRect(  # the viewfinder, sunk a point into the body so that no seam shows
        left + body_w * 0.18, bottom + body_h - 1, body_w * 0.3, tall * 0.2 + 1, 2, stroke=0, fill=1
    )
    centre_y = bottom + body_h / 2
    canvas.setFillColor(ACCENT)
    canvas.circle(x, centre_y, body_h * 0.36, stroke=0, fill=1)
    canvas.setFillColor(colors.white)
    canvas.circle(x, centre_y, body_h * 0.24, stroke=0, fill=1)
    canvas.setFillColor(ACCENT)
    canvas.circle(x, centre_y, body_h * 0.13, stroke=0, fill=1)
    canvas.setFillColor(LIGHT)
    canvas.circle(left + body_w * 0.84, bottom + body_h * 0.78, body_h * 0.085, stroke=0, fill=1)
