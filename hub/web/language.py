"""The dashboard in its reader's language: which language a request gets, the words its
templates and scripts show, and the switch that changes it.

The words live in gettext catalogs under `hub/web/locales/`, one `.po` file a language
(`python -m hub.web.messages` gathers them from the templates and scripts). A request gets
the language its reader chose with the switch (a cookie), else the best one their browser
asks for, else English.
"""

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from protocol.errors import ConfigError
from protocol.i18n import SOURCE_LANGUAGE, Catalogs, Language, load_catalogs, locale_of

LOCALES = Path(__file__).parent / "locales"
COOKIE = "seed_language"
NO_VALUE = "\u2013"  # an en dash where a figure or a moment is unknown
COOKIE_MAX_AGE_S = 365 * 24 * 3600
ACCEPT_LANGUAGE_LIMIT = 20
"""Tags read from one Accept-Language header: a longer one is someone's fuzzing."""

router = APIRouter(include_in_schema=False)


def catalogs() -> Catalogs:
    return load_catalogs(LOCALES)


def language_of(request: Request) -> Language:
    """The reader's choice, else the browser's best match, else English."""
    languages = catalogs().languages
    chosen = request.cookies.get(COOKIE, "")
    if chosen in languages:
        return languages[chosen]
    for tag in preferred(request.headers.get("accept-language", "")):
        match = _match(tag, languages)
        if match:
            return match
    return languages[SOURCE_LANGUAGE]


def preferred(header: str) -> list[str]:
    """Accept-Language's tags, most wanted first (`fa-IR,fa;q=0.9,en;q=0.5`)."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:ACCEPT_LANGUAGE_LIMIT]):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def _match(tag: str, languages: dict[str, Language]) -> Language | None:
    """The catalog for a tag: the same tag, else the same language (`zh-CN` reads `zh-Hans`)."""
    lowered = {known.lower(): language for known, language in languages.items()}
    if tag.lower() in lowered:
        return lowered[tag.lower()]
    try:
        wanted = locale_of(tag).language
    except ConfigError:  # a tag Babel does not know
        return None
    for known, language in languages.items():
        if locale_of(known).language == wanted:
            return language
    return None


def N_(text: str) -> str:  # noqa: N802 (gettext's name for "mark, translate later")
    """Marks a text for the catalogs; the template that shows it translates it."""
    return text


def translate(language: Language, message: str) -> str:
    return language.texts.get(message) or message


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translate(context["language"], message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    return translate(context["language"], singular if count == 1 else plural)


def number_element(value: float | None, digits: int = 0) -> Markup:
    """`{{ size | number(1) }}`: the number, which app.js writes the way the page's language
    does (one formatter, Intl's, for the templates' numbers and the scripts')."""
    if value is None:
        return Markup(NO_VALUE)
    return Markup('<data class="number" value="{0}" data-digits="{1}">{2}</data>').format(
        value, digits, f"{value:.{digits}f}"
    )


def moment_element(moment: datetime | None, never: str = NO_VALUE) -> Markup:
    """`{{ sent_at | when }}`: a moment that app.js writes in the reader's time zone and
    language (and the language's calendar)."""
    if moment is None:
        return Markup("{0}").format(never)
    stamp = moment.isoformat()
    return Markup('<time class="moment" datetime="{0}">{0}</time>').format(stamp)


def install(environment: Environment) -> None:
    """`{% trans %}` and `_()` in the templates, in the language of the page's request; the
    `number` and `when` filters for figures and moments."""
    environment.filters["number"] = number_element
    environment.filters["when"] = moment_element
    environment.add_extension("jinja2.ext.i18n")
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )


def template_context(request: Request) -> dict[str, Any]:
    """What every page's template gets: its language, the others, and its scripts' words."""
    language = language_of(request)
    return {
        "language": language,
        "languages": _choices(),
        "script_messages": script_messages(language.tag),
    }


@cache
def _choices() -> list[Language]:
    return sorted(catalogs().languages.values(), key=lambda language: language.tag)


@cache
def script_messages(tag: str) -> dict[str, str]:
    """The words the dashboard's scripts show, in the language: only where it differs.
    Worked out once a language, not on every page."""
    scripts = catalogs().shown_in(".js")
    return {
        message: text
        for message, text in catalogs().language(tag).texts.items()
        if message in scripts and text and text != message
    }


@router.post("/language")
def choose_language(
    language: Annotated[str, Form(max_length=16)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Remember the reader's language (a cookie for a year) and go back where they were."""
    back = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(back, status_code=303)
    if language in catalogs().languages:
        response.set_cookie(
            COOKIE, language, max_age=COOKIE_MAX_AGE_S, samesite="lax", httponly=True
        )
    return response
