"""A task's one-screen page for staff, opened from the signed link in their notification:
`/s/<signed>`.

No account and no script needed: the page shows the task, and each of its buttons posts the
one form to its own address, answered by a redirect back to the page (post, redirect, get)
that says once what was done. The task and the member who acts come from the signed link
alone (hub/tasks/links.py): no path, field or query names a task. A link that is forged,
stale, or whose member was removed opens a page that says so kindly, never the task.

A link may be posted to a whole channel, so what it can do is bounded: POSTS_PER_MINUTE per
task and member, notes up to the task's MAX_EVENTS_PER_TASK, and the page names the members
who acted by link but never a manager's sign-in name.
"""

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_date
from babel.dates import format_time, format_timedelta, get_date_format
from babel.numbers import format_percent
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from hub.alerts.rules import zone
from hub.phone.guard import AddressLimiter
from hub.tasks.links import PREFIX, StaffLinks, StaffPass
from hub.tasks.records import (
    MAX_ACTOR_CHARS,
    MAX_NOTE_CHARS,
    HistoryEntry,
    HistoryFullError,
    TaskError,
    TaskView,
    acknowledge,
    add_note,
    history,
    resolve,
    task_view,
)
from hub.tasks.teams import team_view
from hub.web import language as dashboard_language
from hub.web.auth import Db, Now
from hub.web.context import TEMPLATES_DIR
from hub.web.language import N_
from hub.web.routes_phone import NATIVE_DIGITS, local_number
from protocol.errors import ConfigError
from protocol.i18n import Language, locale_of
from protocol.text import control_character_in

router = APIRouter(prefix="/s", include_in_schema=False)
HISTORY_SHOWN = 12
"""The latest entries of a task's history on its page: a phone's screen, not an audit."""
REPEAT_S = 60
"""The same note from the same person within this is one note sent twice (a double tap)."""
POSTS_PER_MINUTE = 10
"""Presses a minute on one task by one member's link (a burst of as many), in this process."""
BY_LINK = StaffPass(0, 0, "").actor
"""How a task's history names who acted by link: after the member's name."""
Done = Literal["acknowledged", "resolved", "noted"]
CONFIRMATIONS: dict[str, str] = {
    "acknowledged": N_("Thank you. The team sees that you are on your way."),
    "resolved": N_("Thank you. The task is resolved."),
    "noted": N_("Your note is added."),
}
STATES = {"open": N_("Open"), "acknowledged": N_("On the way"), "resolved": N_("Resolved")}
ACTIONS = {
    "opened": N_("Opened"),
    "joined": N_("Another alert here"),
    "acknowledged": N_("On the way"),
    "resolved": N_("Resolved"),
    "note": N_("Note"),
    "escalated": N_("Escalated"),
}
MISSED = {
    # Translators: a task's history: its escalation contact told, nobody being on the way in time
    "acknowledge": N_("Escalated: not acknowledged in time"),
    # Translators: a task's history: its escalation contact told, the task not resolved in time
    "resolve": N_("Escalated: not resolved in time"),
}
THE_HUB = N_("The hub")
# Translators: who did something in a task's history: a dashboard user, whose name staff do not see
A_MANAGER = N_("A manager")
JUST_NOW = N_("just now")
NOTE_EMPTY = N_("Write the note first, then press “Add a note”.")
NOTE_TOO_LONG = N_("A note has at most %(most)s characters; this one has %(length)s.")
NOTE_UNPRINTABLE = N_(
    "The note holds a character that cannot be kept, such as a tab. Please write it without."
)
HISTORY_FULL = N_(
    "The history of this task is full, so it takes no more notes. Please tell your team lead."
)
TOO_MANY = N_(
    "This link was used many times in the last minute. Please wait a moment, then try again."
)
NoteField = Annotated[str, Form(max_length=MAX_NOTE_CHARS * 4)]
"""Longer than the page's field lets anyone type; past the note's limit, the page says why."""
LangField = Annotated[str, Form(max_length=35)]
_limiter_lock = threading.Lock()


@dataclass(frozen=True)
class Line:
    """One entry of the history as the page shows it."""

    at: datetime
    at_text: str
    actor: str
    action: str
    note: str


@dataclass(frozen=True)
class FieldError:
    message: str
    values: dict[str, str]


@cache
def _templates() -> Jinja2Templates:
    """The staff pages' own: none of the dashboard's sign-in, tokens or scripts."""
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    dashboard_language.install(templates.env)
    return templates


def _links(request: Request) -> StaffLinks:
    links: StaffLinks = request.app.state.staff_links
    return links


def _limiter(request: Request) -> AddressLimiter:
    """The app's count of presses per task and member, made on its first press."""
    state = request.app.state
    with _limiter_lock:
        limiter: AddressLimiter | None = getattr(state, "staff_limiter", None)
        if limiter is None:
            limiter = state.staff_limiter = AddressLimiter(POSTS_PER_MINUTE)
    return limiter


def _language(request: Request, asked: str | None) -> Language:
    """The language asked for (`?lang`, or the form's), else the dashboard's choice for
    this browser."""
    chosen = dashboard_language.catalogs().languages.get(asked or "")
    return chosen or dashboard_language.language_of(request)


def _digits(tag: str, text: str) -> str:
    """`text` with its digits in the language's own (Persian's for fa)."""
    try:
        zero = NATIVE_DIGITS.get(locale_of(tag).default_numbering_system)
    except ConfigError:
        return text
    if zero is None:
        return text
    return text.translate({ord("0") + n: chr(ord(zero) + n) for n in range(10)})


def _moment(tag: str, moment: datetime, place: ZoneInfo, now: datetime) -> str:
    """A moment in the place's time: its hour alone today, with its day on another."""
    locale = locale_of(tag)
    hour = format_time(moment, "short", tzinfo=place, locale=locale)
    if moment.astimezone(place).date() == now.astimezone(place).date():
        return _digits(tag, hour)
    day = babel_date(moment.astimezone(place), _day_format(tag), locale=locale)
    return _digits(tag, str(locale.datetime_formats["short"]).format(hour, day))


def _day_format(tag: str) -> str:
    """The language's day and month without the year (`MMMd`), else its medium date."""
    locale = locale_of(tag)
    if "MMMd" in locale.datetime_skeletons:
        return str(locale.datetime_skeletons["MMMd"])
    return str(get_date_format("medium", locale=locale))


def _span(tag: str, span: timedelta) -> str:
    """ "15 minutes", "1 hour" in the language (CLDR's words and plurals)."""
    return _digits(tag, format_timedelta(span, granularity="minute", locale=locale_of(tag)))


def _ago(language: Language, span: timedelta) -> str:
    """ "12 minutes ago" in the language; "just now" within the first minute."""
    if span < timedelta(minutes=1):
        return dashboard_language.translate(language, JUST_NOW)
    words = format_timedelta(
        -span, granularity="minute", add_direction=True, locale=locale_of(language.tag)
    )
    return _digits(language.tag, words)


def _task(request: Request, session: Session, token: str) -> tuple[StaffPass, TaskView] | None:
    """The link's pass and its task, or None for a link that opens nothing."""
    staff_pass = _links(request).read(session, token)
    if staff_pass is None:
        return None
    try:
        return staff_pass, task_view(session, task_id=staff_pass.task_id)
    except TaskError:
        return None


def _refused(token: str, request: Request, language: Language) -> HTMLResponse:
    """The page of a link that opens nothing: forged, stale, or its member removed."""
    return _templates().TemplateResponse(
        request,
        "staff/refused.html",
        {"language": language, "switches": _switches(token, language)},
        status_code=403,
    )


def _switches(token: str, language: Language) -> list[tuple[Language, str]]:
    """Each language, and the page's address in it."""
    languages = sorted(dashboard_language.catalogs().languages.values(), key=lambda lg: lg.tag)
    here = PREFIX + quote(token, safe="")
    return [(other, f"{here}?{urlencode({'lang': other.tag})}") for other in languages]


class Names:
    """Who acted, as the page names them: a member who acted by link by their name, the hub
    as the hub, and anyone else (a dashboard or command-line user) as "A manager"."""

    def __init__(self, session: Session, view: TaskView, language: Language) -> None:
        members = team_view(session, team_id=view.team_id).members
        # a long name's " (by link)" may be cut off where the history's column ends
        self._by_link = {f"{m.name}{BY_LINK}"[:MAX_ACTOR_CHARS]: m.name + BY_LINK for m in members}
        self._language = language

    def __call__(self, actor: str) -> str:
        if actor == "hub":
            return dashboard_language.translate(self._language, THE_HUB)
        if actor in self._by_link:
            return self._by_link[actor]
        if actor.endswith(BY_LINK):  # a member since removed
            return actor
        return dashboard_language.translate(self._language, A_MANAGER)


def _history(
    session: Session, view: TaskView, language: Language, names: Names, now: datetime
) -> list[Line]:
    place = zone(view.time_zone)
    return [
        Line(
            e.at,
            _moment(language.tag, e.at, place, now),
            names(e.actor),
            _action(e),
            "" if e.action == "escalated" else e.note,  # the hub's words, not a person's
        )
        for e in history(session, task_id=view.id, latest=HISTORY_SHOWN)
    ]


def _action(entry: HistoryEntry) -> str:
    """What an entry says happened; an escalation says which time was missed."""
    missed = entry.missed
    return MISSED[missed] if missed else ACTIONS.get(entry.action, "")


def _travellers(view: TaskView, tag: str) -> dict[str, str] | None:
    """What travellers said before the task opened, written in the language; None when
    nobody answered."""
    if not view.responses or view.negative_share is None:
        return None
    return {
        "share": _digits(tag, format_percent(view.negative_share, locale=locale_of(tag))),
        "total": local_number(tag, view.responses),
        "span": _span(tag, timedelta(minutes=view.window_min)),
    }


def _page(
    request: Request,
    session: Session,
    now: datetime,
    found: tuple[StaffPass, TaskView],
    language: Language,
    *,
    confirmation: str | None = None,
    error: FieldError | None = None,
    busy: bool = False,
    note: str = "",
) -> HTMLResponse:
    """The task's page; with `error`, 422 and why next to the note; when `busy`, 429."""
    staff_pass, view = found
    token = request.path_params["token"]
    tag = language.tag
    place = zone(view.time_zone)
    names = Names(session, view, language)

    def moment(at: datetime | None) -> str:
        return "" if at is None else _moment(tag, at, place, now)

    context: dict[str, Any] = {
        "language": language,
        "switches": _switches(token, language),
        "here": PREFIX + quote(token, safe=""),
        "task": view,
        "state": STATES.get(view.state, view.state),
        "opened": moment(view.opened_at),
        "ago": _ago(language, now - view.opened_at),
        "opened_by": "" if view.opened_by == "hub" else names(view.opened_by),
        "acknowledged_by": names(view.acknowledged_by or ""),
        "resolved_by": names(view.resolved_by or ""),
        "ack_due": moment(view.ack_due_at),
        "resolve_due": moment(view.resolve_due_at),
        "acknowledged": moment(view.acknowledged_at),
        "resolved": moment(view.resolved_at),
        "travellers": _travellers(view, tag),
        "history": _history(session, view, language, names, now),
        "member": staff_pass.member_name,
        "confirmation": confirmation,
        "error": error,
        "busy": TOO_MANY if busy else None,
        "note": note,
        "max_chars": MAX_NOTE_CHARS,
        "max_chars_text": local_number(tag, MAX_NOTE_CHARS),
    }
    status = 429 if busy else 200 if error is None else 422
    return _templates().TemplateResponse(request, "staff/task.html", context, status_code=status)


@router.get("/{token}")
def task_page(
    request: Request,
    token: str,
    session: Db,
    now: Now,
    lang: Annotated[str | None, Query(max_length=35)] = None,
    done: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    language = _language(request, lang)
    found = _task(request, session, token)
    if found is None:
        return _refused(token, request, language)
    return _page(request, session, now, found, language, confirmation=CONFIRMATIONS.get(done or ""))


@router.post("/{token}/acknowledge")
def acknowledge_task(
    request: Request, token: str, session: Db, now: Now, note: NoteField = "", lang: LangField = ""
) -> Response:
    """ "On my way", with the note if one was written."""
    return _act(request, session, now, token, done="acknowledged", note=note, lang=lang)


@router.post("/{token}/resolve")
def resolve_task(
    request: Request, token: str, session: Db, now: Now, note: NoteField = "", lang: LangField = ""
) -> Response:
    return _act(request, session, now, token, done="resolved", note=note, lang=lang)


@router.post("/{token}/note")
def note_task(
    request: Request, token: str, session: Db, now: Now, note: NoteField = "", lang: LangField = ""
) -> Response:
    return _act(request, session, now, token, done="noted", note=note, lang=lang)


def _act(
    request: Request,
    session: Session,
    now: datetime,
    token: str,
    *,
    done: Done,
    note: str,
    lang: str,
) -> Response:
    """Do what the button says, as the link's member; then back to the page, which says so.
    A note it cannot keep shows the page again, with the note and why."""
    language = _language(request, lang)
    found = _task(request, session, token)
    if found is None:
        return _refused(token, request, language)
    staff_pass, view = found
    limiter = _limiter(request)
    if not limiter.allow(f"task {staff_pass.task_id} member {staff_pass.member_id}"):
        page = _page(request, session, now, found, language, busy=True, note=note)
        page.headers["Retry-After"] = str(limiter.retry_after_s())
        return page
    text = _normal(note)
    error = _note_error(text, language.tag, required=done == "noted")
    if error is not None:
        return _page(request, session, now, found, language, error=error, note=note)
    if _repeated(session, staff_pass, text, now):
        text = ""
    try:
        shown = _record(session, staff_pass, view, done=done, note=text, now=now)
    except HistoryFullError:  # refused before anything changed: the page reads on
        full = FieldError(HISTORY_FULL, {})
        return _page(request, session, now, found, language, error=full, note=note)
    except TaskError:  # changed since it was read (resolved by another): show it as it is
        session.rollback()
        shown = None
    query = {"lang": language.tag} | ({"done": shown} if shown else {})
    return RedirectResponse(f"{PREFIX}{quote(token, safe='')}?{urlencode(query)}", status_code=303)


def _normal(note: str) -> str:
    """The note as the task's history keeps it: trimmed, on one line."""
    return note.strip().replace("\r\n", "\n").replace("\n", " ")


def _note_error(text: str, tag: str, *, required: bool) -> FieldError | None:
    if required and not text:
        return FieldError(NOTE_EMPTY, {})
    if len(text) > MAX_NOTE_CHARS:
        values = {"most": local_number(tag, MAX_NOTE_CHARS), "length": local_number(tag, len(text))}
        return FieldError(NOTE_TOO_LONG, values)
    if control_character_in(text, prose=True) is not None:
        return FieldError(NOTE_UNPRINTABLE, {})
    return None


def _repeated(session: Session, staff_pass: StaffPass, text: str, now: datetime) -> bool:
    """Whether the task's latest entry is this note from this member, moments ago."""
    last = history(session, task_id=staff_pass.task_id, latest=1)
    return (
        bool(text)
        and bool(last)
        and last[0].actor == staff_pass.actor[:MAX_ACTOR_CHARS]
        and last[0].note == text
        and now - last[0].at <= timedelta(seconds=REPEAT_S)
    )


def _record(
    session: Session, staff_pass: StaffPass, view: TaskView, *, done: Done, note: str, now: datetime
) -> Done | None:
    """Record the change; what the page then confirms. On a resolved task, a note is all
    that is left to add (a second tap on "Resolved", a colleague who resolved it first)."""
    task_id, actor = staff_pass.task_id, staff_pass.actor
    if done == "noted" or view.state == "resolved":
        if note:
            add_note(session, task_id=task_id, actor=actor, now=now, note=note)
        if done == "acknowledged":
            return "noted" if note else None
        return done
    if done == "acknowledged":
        acknowledge(session, task_id=task_id, actor=actor, now=now, note=note)
    else:
        resolve(session, task_id=task_id, actor=actor, now=now, note=note)
    return done
