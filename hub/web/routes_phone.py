"""The survey on a traveller's phone, behind a poster's QR code: `/t/<token>`.

No sign-in and no script needed: each step is a form that posts, and is answered by a
redirect to the next (post, redirect, get), so reloading never answers twice. A small
script (phone.js) resends a step that the network lost, with the same ticket, so the
response, its follow-up and its comment are each stored once. Steps: the question and four
smileys, then the follow-up for that answer (if the place's survey has one), then an
optional comment, then thanks.
"""

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.numbers import format_decimal
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from hub.clock import Clock
from hub.config import HubSettings
from hub.ingest.store import polarity
from hub.models import Location
from hub.phone.guard import (
    COOKIE,
    AddressLimiter,
    BusyError,
    RecentResponses,
    Ticket,
    Tickets,
    WriteSlots,
)
from hub.phone.links import TOKEN_PATTERN, Link, find_link
from hub.phone.responses import MAX_COMMENT_CHARS, store_comment, store_reason, store_response
from hub.surveys.store import Resolver
from hub.web import language as dashboard_language
from hub.web.auth import PHONE_PREFIX, web_context
from hub.web.context import TEMPLATES_DIR
from hub.web.language import N_
from protocol.errors import ConfigError
from protocol.i18n import Language, locale_of
from protocol.ids import uuid7
from protocol.messages import BUTTONS, Button
from protocol.surveys import Question, Survey

router = APIRouter(prefix="/t", include_in_schema=False)
PREFIX = PHONE_PREFIX
TOKEN = re.compile(TOKEN_PATTERN)
SURVEY_CACHE_S = 10.0
PAGES_PER_ANSWER = 4
DEFAULT_QUESTION = N_("How was your experience today?")
FACES = {  # each smiley's name, and its mouth as the kiosk draws it
    Button.VERY_HAPPY: (N_("Very happy"), "M30 62 Q50 84 70 62"),
    Button.HAPPY: (N_("Happy"), "M32 64 Q50 76 68 64"),
    Button.UNHAPPY: (N_("Unhappy"), "M32 72 Q50 62 68 72"),
    Button.VERY_UNHAPPY: (N_("Very unhappy"), "M30 76 Q50 56 70 76"),
}
Token = Annotated[str, Path(max_length=64)]
TicketField = Annotated[str, Form(max_length=400)]
LangField = Annotated[str, Form(max_length=35)]


@dataclass
class Place:
    """What the pages of one place show, read at most every SURVEY_CACHE_S."""

    location_id: str
    name: str
    languages: list[str]
    survey: Survey | None


@dataclass
class PhonePages:
    """The phone survey's state in one web process."""

    tickets: Tickets
    recent: RecentResponses
    limiter: AddressLimiter
    """Answers (posts) per address."""
    views: AddressLimiter
    """Pages (gets) per address: a traveller reads a few for each answer."""
    slots: WriteSlots
    templates: Jinja2Templates
    _places: dict[str, tuple[float, Place]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def place(self, sessions: sessionmaker[Session], location_id: str) -> Place:
        """The place's name, languages and survey, read again after SURVEY_CACHE_S."""
        now = time.monotonic()
        with self._lock:
            cached = self._places.get(location_id)
        if cached is not None and now - cached[0] < SURVEY_CACHE_S:
            return cached[1]
        with sessions() as session:
            location = session.get(Location, location_id)
            name = location.name if location is not None else location_id
            resolver = Resolver(session)
            try:
                survey = resolver.survey(location_id)
            except ConfigError:
                survey = None  # a survey without the place's languages: the question alone
            languages = resolver.languages.get(location_id) or ["en"]
        found = Place(location_id, name, languages, survey)
        with self._lock:
            self._places[location_id] = (now, found)  # one entry per place: bounded
        return found


def phone_pages(settings: HubSettings, secret: str, clock: Clock) -> PhonePages:
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    dashboard_language.install(templates.env)
    interval_s = settings.phone.response_interval_s
    return PhonePages(
        tickets=Tickets(secret, clock=clock),
        recent=RecentResponses(secret, interval_s=interval_s, clock=clock),
        limiter=AddressLimiter(settings.phone.requests_per_minute),
        views=AddressLimiter(settings.phone.requests_per_minute * PAGES_PER_ANSWER),
        slots=WriteSlots(settings.phone.concurrent_writes),
        templates=templates,
    )


def _pages(request: Request) -> PhonePages:
    pages: PhonePages = request.app.state.phone
    return pages


def page_language(tag: str) -> Language:
    """The page's words in this language (English where the dashboard has no catalog), its
    name in itself and its direction."""
    texts = dashboard_language.catalogs().language(tag).texts
    try:
        locale = locale_of(tag)
        return Language(tag, locale.get_display_name(locale) or tag, locale.text_direction, texts)
    except ConfigError:
        return Language(tag, tag, "ltr", texts)


NATIVE_DIGITS = {"arabext": "\u06f0", "arab": "\u0660", "deva": "\u0966", "beng": "\u09e6"}
"""The zero of the digit sets Unicode numbers in order, by CLDR's numbering system name."""


def local_number(tag: str, value: int) -> str:
    """A whole number as the language writes it, in its own digits (Persian's for fa), as
    the dashboard's Intl writes them, with no script on the phone page."""
    try:
        locale = locale_of(tag)
    except ConfigError:
        return str(value)
    written = format_decimal(value, locale=locale)
    zero = NATIVE_DIGITS.get(locale.default_numbering_system)
    if zero is None:
        return written
    return written.translate({ord("0") + n: chr(ord(zero) + n) for n in range(10)})


def _chosen(request: Request, place: Place, asked: str | None) -> str:
    """The language asked for, else the browser's best among the place's, else its first."""
    if asked in place.languages:
        return asked
    for tag in dashboard_language.preferred(request.headers.get("accept-language", "")):
        for offered in place.languages:
            if offered.lower() == tag.lower() or offered.split("-")[0] == tag.split("-")[0]:
                return offered
    return place.languages[0]


def _say(language: Language, message: str) -> str:
    return dashboard_language.translate(language, message)


def _render(
    request: Request,
    name: str,
    *,
    place: Place | None,
    lang: str,
    status_code: int = 200,
    switch: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A phone page in its language, with the switch to the place's others."""
    language = page_language(lang)
    others = [] if place is None else [page_language(tag) for tag in place.languages]
    query = switch or {}
    return _pages(request).templates.TemplateResponse(
        request,
        f"phone/{name}.html",
        {
            "language": language,
            "place": place,
            "switches": [
                (other, "?" + urlencode({**query, "lang": other.tag})) for other in others
            ],
            "interval_minutes": local_number(
                lang, max(1, round(_pages(request).recent.interval_s / 60))
            ),
            **context,
        },
        status_code=status_code,
    )


def _link_or_page(request: Request, token: str) -> Link | HTMLResponse:
    """The live link, or the page that says kindly why there is none."""
    link = None
    if TOKEN.fullmatch(token):
        with web_context(request).sessions() as session:
            link = find_link(session, token=token)
    if link is None:
        return _render(request, "gone", place=None, lang="en", status_code=404, revoked=False)
    if not link.live:
        place = _place(request, link.location_id)
        lang = _chosen(request, place, request.query_params.get("lang"))
        return _render(request, "gone", place=place, lang=lang, status_code=410, revoked=True)
    return link


def _place(request: Request, location_id: str) -> Place:
    return _pages(request).place(web_context(request).sessions, location_id)


def _refused(request: Request, *, status_code: int, retry_after_s: int) -> HTMLResponse:
    lang = request.query_params.get("lang") or dashboard_language.language_of(request).tag
    response = _render(
        request,
        "busy",
        place=None,
        lang=lang,
        status_code=status_code,
        retry=local_number(lang, retry_after_s),
    )
    response.headers["Retry-After"] = str(retry_after_s)
    return response


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _flooded(request: Request) -> HTMLResponse | None:
    """429 for an address past its answers (posts) or pages (gets) a minute, else None."""
    pages = _pages(request)
    limiter = pages.limiter if request.method == "POST" else pages.views
    if limiter.allow(_client(request)):
        return None
    return _refused(request, status_code=429, retry_after_s=limiter.retry_after_s())


def _next(token: str, step: str, ticket: str, lang: str) -> RedirectResponse:
    query = urlencode({"ticket": ticket, "lang": lang})
    return RedirectResponse(f"{PREFIX}{token}/{step}?{query}", status_code=303)


def _start_again(token: str, lang: str) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}{token}?{urlencode({'lang': lang})}", status_code=303)


@router.get("/{token}")
def question_page(
    request: Request, token: Token, lang: Annotated[str | None, Query(max_length=35)] = None
) -> Response:
    found = _flooded(request) or _link_or_page(request, token)
    if not isinstance(found, Link):
        return found
    place = _place(request, found.location_id)
    chosen = _chosen(request, place, lang)
    language = page_language(chosen)
    ticket = _pages(request).tickets.sign(Ticket(token, place.location_id, str(uuid7())))
    question = (
        place.survey.question.get(chosen, _say(language, DEFAULT_QUESTION))
        if place.survey
        else _say(language, DEFAULT_QUESTION)
    )
    faces = [(button, _say(language, FACES[button][0]), FACES[button][1]) for button in BUTTONS]
    return _render(
        request,
        "question",
        place=place,
        lang=chosen,
        token=token,
        ticket=ticket,
        question=question,
        faces=faces,
    )


@router.post("/{token}")
def answer(
    request: Request,
    token: Token,
    ticket: TicketField,
    button: Annotated[Button, Form()],
    lang: LangField,
) -> Response:
    step = _step(request, token, ticket, answered=False)
    if isinstance(step, Response):
        return step
    pages = _pages(request)
    now = web_context(request).clock()
    seen = pages.recent.read(request.cookies.get(COOKIE))
    misuse = pages.recent.is_recent(seen, step.place.location_id, now.timestamp())
    stored = _write(
        request,
        lambda session: store_response(
            session,
            response_id=step.ticket.response_id,
            location_id=step.place.location_id,
            button=button,
            misuse=misuse,
            survey=step.place.survey,
            now=now,
        ),
    )
    if stored is not None:
        return stored
    onward = pages.tickets.sign(replace(step.ticket, button=button))
    asks = step.place.survey and step.place.survey.follow_up(_question(button))
    response = _next(token, "reason" if asks else "comment", onward, lang)
    if not misuse:
        response.set_cookie(
            COOKIE,
            pages.recent.remembered(seen, step.place.location_id, now.timestamp()),
            max_age=max(1, int(pages.recent.interval_s)),
            path=PREFIX,
            httponly=True,
            samesite="lax",
        )
    return response


@dataclass(frozen=True)
class Step:
    """A step of one response: its link's place and its ticket."""

    place: Place
    ticket: Ticket

    @property
    def question(self) -> Question:
        assert self.ticket.button is not None
        return _question(self.ticket.button)


def _question(button: Button) -> Question:
    return "negative" if polarity(button.value) == "negative" else "positive"


def _step(request: Request, token: str, ticket: str, *, answered: bool = True) -> Step | Response:
    """The step's place and ticket; or a refusal of a flood, or, for a forged, stale or
    unanswered ticket, the page of a dead link or a redirect to the start. A genuine ticket
    names its place: the link was live when its question was shown, which is enough."""
    refused = _flooded(request)
    if refused is not None:
        return refused
    signed = _pages(request).tickets.read(ticket, token=token)
    if signed is None or (answered and signed.button is None):
        found = _link_or_page(request, token)
        if not isinstance(found, Link):
            return found
        return _start_again(token, request.query_params.get("lang", ""))
    return Step(_place(request, signed.location_id), signed)


def _write(request: Request, store: Callable[[Session], object]) -> Response | None:
    """Store in a transaction of its own, if a write slot is free; else the refusal."""
    try:
        with _pages(request).slots.taken(), web_context(request).sessions.begin() as session:
            store(session)
    except BusyError:
        return _refused(request, status_code=503, retry_after_s=2)
    except ConfigError:
        pass  # an option the survey no longer has, a comment on no response: go on
    return None


@router.get("/{token}/reason")
def reason_page(
    request: Request,
    token: Token,
    ticket: Annotated[str, Query(max_length=400)] = "",
    lang: Annotated[str | None, Query(max_length=35)] = None,
) -> Response:
    step = _step(request, token, ticket)
    if isinstance(step, Response):
        return step
    chosen = _chosen(request, step.place, lang)
    asked = step.place.survey.follow_up(step.question) if step.place.survey else None
    if asked is None:
        return _next(token, "comment", ticket, chosen)
    options = [(option.key, option.text.get(chosen, option.key)) for option in asked.options]
    return _render(
        request,
        "reason",
        place=step.place,
        lang=chosen,
        switch={"ticket": ticket},
        token=token,
        ticket=ticket,
        question=asked.text.get(chosen, ""),
        options=options,
    )


@router.post("/{token}/reason")
def reason(
    request: Request,
    token: Token,
    ticket: TicketField,
    lang: LangField,
    option: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    step = _step(request, token, ticket)
    if isinstance(step, Response):
        return step
    survey = step.place.survey
    if survey is not None and survey.follow_up(step.question) is not None:
        refused = _write(
            request,
            lambda session: store_reason(
                session,
                response_id=step.ticket.response_id,
                location_id=step.place.location_id,
                survey=survey,
                question=step.question,
                option=option or None,
                language=_chosen(request, step.place, lang),
                now=web_context(request).clock(),
            ),
        )
        if refused is not None:
            return refused
    return _next(token, "comment", ticket, lang)


@router.get("/{token}/comment")
def comment_page(
    request: Request,
    token: Token,
    ticket: Annotated[str, Query(max_length=400)] = "",
    lang: Annotated[str | None, Query(max_length=35)] = None,
) -> Response:
    step = _step(request, token, ticket)
    if isinstance(step, Response):
        return step
    chosen = _chosen(request, step.place, lang)
    return _render(
        request,
        "comment",
        place=step.place,
        lang=chosen,
        switch={"ticket": ticket},
        token=token,
        ticket=ticket,
        max_chars=MAX_COMMENT_CHARS,
        max_chars_text=local_number(chosen, MAX_COMMENT_CHARS),
    )


@router.post("/{token}/comment")
def comment(
    request: Request,
    token: Token,
    ticket: TicketField,
    lang: LangField,
    text: Annotated[str, Form(max_length=MAX_COMMENT_CHARS * 4)] = "",
    skip: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    step = _step(request, token, ticket)
    if isinstance(step, Response):
        return step
    chosen = _chosen(request, step.place, lang)
    text = text.replace("\r\n", "\n")[:MAX_COMMENT_CHARS]
    if text.strip() and not skip:
        refused = _write(
            request,
            lambda session: store_comment(
                session,
                response_id=step.ticket.response_id,
                text=text,
                language=chosen,
                now=web_context(request).clock(),
            ),
        )
        if refused is not None:
            return refused
    query = urlencode({"lang": chosen})
    return RedirectResponse(f"{PREFIX}{token}/thanks?{query}", status_code=303)


@router.get("/{token}/thanks")
def thanks_page(
    request: Request, token: Token, lang: Annotated[str | None, Query(max_length=35)] = None
) -> Response:
    found = _flooded(request) or _link_or_page(request, token)
    if not isinstance(found, Link):
        return found
    place = _place(request, found.location_id)
    return _render(request, "thanks", place=place, lang=_chosen(request, place, lang))
