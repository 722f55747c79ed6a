"""Every page and API route requires a signed-in user of the right role.

ACCESS says who may use each route of the app. A route that is not in it fails
`test_every_route_of_the_app_has_an_entry_in_the_access_table`, so whoever adds one (or
merges a branch that does) must decide who may use it; each role is then walked over every
route: signed out -> 401 (API) or 303 to /login (pages), the wrong role -> 403, a manager
asking for a location outside his sites -> 404, the right role -> the route's success status.
"""

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute, Mount

from hub.db import make_engine, session_factory
from hub.users import Role
from tests.hub.web.conftest import PASSWORD

try:  # FastAPI >= 0.130 keeps included routers as one route each; this walks into them
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI lists every route flat

    def iter_route_contexts(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:  # type: ignore[misc]
        yield from routes


ClientAs = Callable[[str | None], TestClient]

EVERYONE = frozenset(Role)
MANAGERS = frozenset({Role.MANAGER, Role.ADMIN})
TECHNICIANS = frozenset({Role.TECHNICIAN, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})
USERS = {"admin": Role.ADMIN, "manager": Role.MANAGER, "tech": Role.TECHNICIAN}
MY_SITE, NOT_MY_SITE = "hel", "osl"  # the manager of the web_app fixture is given hel only


@dataclass(frozen=True)
class Rule:
    """Who may use a route, and how to ask it something it answers with `ok`."""

    roles: frozenset[Role] | None  # None: public, signed in or not
    ok: int = 200
    location: str | None = None  # the path or query parameter naming a location
    form: dict[str, str] = field(default_factory=dict)
    body: dict[str, object] | None = None  # JSON; "{location}" is filled in like a form's
    url: str | None = None  # where the path alone is not a URL (a mount)
    ends_sessions: bool = False  # ends every session of the user: asked after all the others


ACCESS: dict[tuple[str, str], Rule] = {
    ("GET", "/static"): Rule(None, url="/static/app.js"),
    ("GET", "/login"): Rule(None),
    ("POST", "/login"): Rule(None, ok=303, form={"username": "{user}", "password": PASSWORD}),
    # Signing out without a session harms no one.
    ("POST", "/logout"): Rule(None, ok=303, ends_sessions=True),
    ("POST", "/language"): Rule(None, ok=303, form={"language": "nl"}),
    # The phone survey is public; a link that does not exist leads to its friendly 404.
    ("GET", "/t/{token}"): Rule(None, ok=404),
    ("POST", "/t/{token}"): Rule(
        None, ok=404, form={"ticket": "x", "button": "happy", "lang": "en"}
    ),
    ("GET", "/t/{token}/reason"): Rule(None, ok=404),
    ("POST", "/t/{token}/reason"): Rule(None, ok=404, form={"ticket": "x", "lang": "en"}),
    ("GET", "/t/{token}/comment"): Rule(None, ok=404),
    ("POST", "/t/{token}/comment"): Rule(None, ok=404, form={"ticket": "x", "lang": "en"}),
    ("GET", "/t/{token}/thanks"): Rule(None, ok=404),
    # A staff task's page is public: its signed link is the key; "dummy" opens nothing.
    ("GET", "/s/{token}"): Rule(None, ok=403),
    ("POST", "/s/{token}/acknowledge"): Rule(None, ok=403),
    ("POST", "/s/{token}/resolve"): Rule(None, ok=403),
    ("POST", "/s/{token}/note"): Rule(None, ok=403, form={"note": "x"}),
    ("GET", "/api/me"): Rule(EVERYONE),
    ("GET", "/api/locations/{location_id}/phone-links"): Rule(MANAGERS, location="location_id"),
    ("POST", "/api/locations/{location_id}/phone-links"): Rule(
        MANAGERS, ok=201, location="location_id", body={}
    ),
    # No link "nothing" exists: the right role gets as far as looking it up.
    ("POST", "/api/phone-links/{token}/revoke"): Rule(
        MANAGERS, ok=404, url="/api/phone-links/nothing/revoke", body={}
    ),
    ("POST", "/api/phone-links/{token}/reissue"): Rule(
        MANAGERS, ok=404, url="/api/phone-links/nothing/reissue", body={}
    ),
    ("GET", "/api/locations/{location_id}/poster.pdf"): Rule(MANAGERS, location="location_id"),
    ("GET", "/api/locations/{location_id}/poster.svg"): Rule(MANAGERS, location="location_id"),
    ("GET", "/api/locations/{location_id}/comments"): Rule(MANAGERS, location="location_id"),
    ("GET", "/api/locations/{location_id}/comments.csv"): Rule(MANAGERS, location="location_id"),
    ("POST", "/api/comments/{response_id}/hide"): Rule(
        MANAGERS, ok=404, url="/api/comments/nothing/hide", body={}
    ),
    ("POST", "/api/comments/{response_id}/show"): Rule(
        MANAGERS, ok=404, url="/api/comments/nothing/show", body={}
    ),
    ("GET", "/openapi.json"): Rule(EVERYONE),
    ("GET", "/users"): Rule(ADMINS),
    ("POST", "/users"): Rule(ADMINS, form={"username": "new-{user}", "role": "technician"}),
    ("GET", "/"): Rule(MANAGERS),
    ("GET", "/api/overview"): Rule(MANAGERS),
    ("GET", "/api/locations"): Rule(MANAGERS),
    ("GET", "/locations/{location_id}"): Rule(MANAGERS, location="location_id"),
    ("GET", "/api/locations/{location_id}"): Rule(MANAGERS, location="location_id"),
    ("GET", "/compare"): Rule(MANAGERS),
    ("GET", "/api/compare"): Rule(MANAGERS, location="a"),
    ("GET", "/fleet"): Rule(TECHNICIANS),
    ("GET", "/api/fleet"): Rule(TECHNICIANS),
    ("GET", "/alerts"): Rule(MANAGERS),
    ("GET", "/api/alerts"): Rule(MANAGERS, location="location"),
    # No alert 999999 exists: the right role gets as far as looking it up.
    ("POST", "/api/alerts/{alert_id}/acknowledge"): Rule(
        MANAGERS, ok=404, url="/api/alerts/999999/acknowledge", body={}
    ),
    ("POST", "/api/alerts/{alert_id}/comments"): Rule(
        MANAGERS, ok=404, url="/api/alerts/999999/comments", body={"text": "seen"}
    ),
    ("GET", "/api/alert-rules"): Rule(MANAGERS),
    ("POST", "/api/alert-rules"): Rule(
        MANAGERS,
        ok=201,
        location="body",
        body={"location": "{location}", "kind": "negative_share", "threshold": 50},
    ),
    ("DELETE", "/api/alert-rules/{rule_id}"): Rule(MANAGERS, ok=404, url="/api/alert-rules/999999"),
    ("GET", "/reports"): Rule(MANAGERS),
    ("GET", "/api/reports"): Rule(MANAGERS),
    # No weekly PDF is kept in this app: the right role gets as far as looking for it.
    ("GET", "/api/reports/{site}/{name}"): Rule(
        MANAGERS, ok=404, url="/api/reports/hel/hel-2026-W47.pdf"
    ),
    ("GET", "/api/exports/responses.csv"): Rule(MANAGERS, location="location"),
    ("GET", "/api/exports/scores.csv"): Rule(MANAGERS, location="location"),
    ("GET", "/api/exports/reasons.csv"): Rule(MANAGERS, location="location"),
    ("GET", "/tasks"): Rule(MANAGERS),
    ("GET", "/api/tasks"): Rule(MANAGERS, location="location"),
    ("GET", "/api/tasks/figures"): Rule(MANAGERS, location="location"),
    ("GET", "/api/teams"): Rule(MANAGERS),
    # No task 999999 and no team "nothing" exist: the right role gets as far as looking.
    ("GET", "/api/tasks/{task_id}"): Rule(MANAGERS, ok=404, url="/api/tasks/999999"),
    ("POST", "/api/tasks"): Rule(
        MANAGERS,
        ok=404,
        location="body",
        body={"team": "nothing", "location": "{location}", "title": "Spill"},
    ),
    ("POST", "/api/tasks/{task_id}/acknowledge"): Rule(
        MANAGERS, ok=404, url="/api/tasks/999999/acknowledge", body={}
    ),
    ("POST", "/api/tasks/{task_id}/resolve"): Rule(
        MANAGERS, ok=404, url="/api/tasks/999999/resolve", body={}
    ),
    ("POST", "/api/tasks/{task_id}/notes"): Rule(
        MANAGERS, ok=404, url="/api/tasks/999999/notes", body={"note": "seen"}
    ),
    ("GET", "/api/exports/tasks.csv"): Rule(MANAGERS, location="location"),
    ("GET", "/api/exports/task-figures.csv"): Rule(MANAGERS, location="location"),
    ("GET", "/surveys"): Rule(MANAGERS),
    ("GET", "/api/surveys"): Rule(MANAGERS),
    ("GET", "/api/locations/{location_id}/languages"): Rule(MANAGERS, location="location_id"),
    ("GET", "/api/surveys/{survey_id}"): Rule(MANAGERS, ok=404, url="/api/surveys/nothing"),
    ("POST", "/api/surveys"): Rule(MANAGERS, ok=422, body={"toml": "id = 1"}),
    ("POST", "/api/surveys/{survey_id}/assign"): Rule(
        MANAGERS,
        ok=422,
        location="body",
        body={"location": "{location}"},
        url="/api/surveys/nothing/assign",
    ),
    ("POST", "/api/surveys/{survey_id}/retire"): Rule(
        MANAGERS, ok=404, url="/api/surveys/nothing/retire"
    ),
    ("PUT", "/api/locations/{location_id}/languages"): Rule(
        MANAGERS, location="location_id", body={"languages": ["en"]}
    ),
    ("GET", "/api/locations/{location_id}/camera"): Rule(MANAGERS, location="location_id"),
    ("GET", "/api/locations/{location_id}/camera-approvals"): Rule(
        MANAGERS, location="location_id"
    ),
    # No approval covers hel: the notice is refused, saying so, until one is recorded.
    ("GET", "/api/locations/{location_id}/camera-notice.pdf"): Rule(
        MANAGERS, ok=409, location="location_id"
    ),
    ("PUT", "/api/locations/{location_id}/audience"): Rule(
        ADMINS, location="location_id", body={"audience": "public"}
    ),
    ("POST", "/api/locations/{location_id}/camera-approvals"): Rule(
        ADMINS,
        ok=201,
        location="location_id",
        body={
            "approved_by": "DPO",
            "impact_assessment": "DPIA-1",
            "approved_on": "2020-01-01",
            "deployer_name": "Airport",
            "deployer_contact": "dpo@example.com",
            "legal_basis": "GDPR Art. 6(1)(f)",
        },
    ),
    # No approval 999999 and no kiosk "nothing" exist: the right role gets as far as looking.
    ("POST", "/api/camera-approvals/{approval_id}/withdraw"): Rule(
        ADMINS, ok=404, url="/api/camera-approvals/999999/withdraw", body={}
    ),
    ("POST", "/api/devices/{device_id}/camera"): Rule(
        ADMINS, ok=404, url="/api/devices/nothing/camera", body={"enabled": False}
    ),
    ("GET", "/api/camera-audit"): Rule(ADMINS),
    ("GET", "/api/exports/camera-audit.csv"): Rule(ADMINS),
    # Prometheus' bearer token, not a session; no token configured here.
    ("GET", "/metrics"): Rule(None, ok=404),
}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app answers, included routers and mounts too."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(getattr(route, "original_route", route), Mount):
            found.add(("GET", str(route.path)))
        else:
            found.update((method, str(route.path)) for method in route.methods or ())
    return found - {("HEAD", path) for _method, path in found}


def test_every_route_of_the_app_has_an_entry_in_the_access_table(web_app: FastAPI) -> None:
    routes = app_routes(web_app)
    missing = sorted(routes - ACCESS.keys())
    stale = sorted(ACCESS.keys() - routes)
    assert not missing, (
        "routes without an entry in ACCESS (tests/hub/web/test_route_access.py); "
        "say who may use each: " + ", ".join(f"{m} {p}" for m, p in missing)
    )
    assert not stale, "ACCESS names routes the app no longer has: " + ", ".join(
        f"{m} {p}" for m, p in stale
    )


@pytest.fixture
def sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    """Who may use a route does not depend on the database: SQLite only, for speed."""
    engine = make_engine(sqlite_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.mark.parametrize("username", [None, *USERS])
def test_each_route_answers_each_role_as_the_access_table_says(
    client_as: ClientAs, web_app: FastAPI, username: str | None
) -> None:
    signed_in = client_as(username)
    if username is None:  # signed out, yet with a CSRF token: it is the sign-in that counts
        signed_in.headers["X-CSRF-Token"] = _csrf_meta(signed_in.get("/login").text)
    role = USERS[username] if username else None
    wrong: list[str] = []
    for (method, path), rule in sorted(ACCESS.items(), key=lambda kv: (kv[1].ends_sessions, kv[0])):
        checks = [(MY_SITE, _expected(rule, role, path, mine=True))]
        if rule.location and role is Role.MANAGER:
            checks.append((NOT_MY_SITE, _expected(rule, role, path, mine=False)))
        for location, expected in checks:
            url, query, form = _request(rule, path, location, username or "manager")
            body = _filled(rule.body, location)
            # A copy of the session each time: signing in or out must not change the next ask.
            with TestClient(web_app, cookies=dict(signed_in.cookies)) as client:
                client.headers.update(signed_in.headers)
                response = client.request(
                    method, url, params=query, data=form or None, json=body, follow_redirects=False
                )
            got: int | str = response.status_code
            if got == 303 and rule.roles is not None:  # a refused page sends one to the login
                got_to = response.headers["location"]
                got = 303 if got_to.startswith("/login?next=/") else f"303 to {got_to}"
            if got != expected:
                asked = f"{url}?{urlencode(query)}" if query else url
                wrong.append(f"{method} {asked}: expected {expected}, got {got}")
    assert not wrong, f"as {username or 'nobody'}:\n" + "\n".join(wrong)


def _expected(rule: Rule, role: Role | None, path: str, *, mine: bool) -> int:
    if rule.roles is None:
        return rule.ok
    if role is None:
        return 401 if path.startswith("/api/") or path == "/openapi.json" else 303
    if role not in rule.roles:
        return 403
    return rule.ok if mine else 404


def _request(
    rule: Rule, path: str, location: str, username: str
) -> tuple[str, dict[str, str], dict[str, str]]:
    url = rule.url or re.sub(
        r"\{(\w+)(:\w+)?\}", lambda m: location if m.group(1) == rule.location else "dummy", path
    )
    query = {}
    if rule.location and rule.location != "body" and f"{{{rule.location}}}" not in path:
        query[rule.location] = location
    form = {k: v.format(user=username) for k, v in rule.form.items()}
    return url, query, form


def _filled(body: dict[str, object] | None, location: str) -> dict[str, object] | None:
    if body is None:
        return None
    return {k: location if v == "{location}" else v for k, v in body.items()}


def _csrf_meta(page: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found, "the page has no CSRF meta tag"
    return found.group(1)
