"""Issue 13, item 9: every answer carries the browser's security headers, no page needs inline
script, and cookies are Secure whenever the hub is reached over HTTPS, behind a proxy too."""

import re
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hub.config import HubSettings, WebSettings
from hub.db import make_engine, session_factory
from hub.users import Role, add_user
from hub.web.app import create_app
from hub.web.context import STATIC_DIR, TEMPLATES_DIR
from tests.hub.web.conftest import CSRF_FIELD, PASSWORD, sign_in

PROXY = ("127.0.0.1", 50000)  # trusted by default to report the scheme and the client
SIGNED_OUT = ["/login", "/static/app.js", "/static/style.css", "/api/me", "/", "/nowhere"]
SIGNED_IN = ["/", "/users", "/api/me", "/openapi.json", "/locations/nowhere", "/reports"]


@pytest.fixture
def sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    """Headers do not depend on the database: SQLite only, for speed."""
    engine = make_engine(sqlite_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def app(sessions: sessionmaker[Session], tmp_path: Path) -> FastAPI:
    with sessions.begin() as session:
        add_user(session, username="admin", role=Role.ADMIN, password=PASSWORD)
    return create_app(HubSettings(data_dir=tmp_path), sessions)


def _assert_locked_down(response: httpx.Response) -> None:
    asked = f"{response.request.method} {response.request.url.path}"
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'", asked
    assert policy["default-src"] == "'self'", asked
    for directive in ("object-src", "base-uri", "frame-ancestors"):
        assert policy[directive] == "'none'", asked
    assert policy["form-action"] == "'self'", asked
    assert "unsafe" not in response.headers["Content-Security-Policy"], asked
    assert response.headers["X-Content-Type-Options"] == "nosniff", asked
    assert response.headers["X-Frame-Options"] == "DENY", asked
    assert response.headers["Referrer-Policy"] in ("no-referrer", "same-origin"), asked


def test_every_answer_signed_out_carries_the_security_headers(app: FastAPI) -> None:
    with TestClient(app) as client:
        for path in SIGNED_OUT:
            _assert_locked_down(client.get(path, follow_redirects=False))
        _assert_locked_down(client.post("/login", data={"username": "x", "password": "y"}))


def test_every_answer_signed_in_carries_the_security_headers(app: FastAPI) -> None:
    with TestClient(app) as client:
        client.headers["X-CSRF-Token"] = sign_in(client, "admin")
        for path in SIGNED_IN:
            _assert_locked_down(client.get(path, follow_redirects=False))
        _assert_locked_down(client.post("/logout", follow_redirects=False))


def test_pages_with_personal_data_are_not_cached_and_assets_may_be(app: FastAPI) -> None:
    with TestClient(app) as client:
        sign_in(client, "admin")
        assert client.get("/api/me").headers["Cache-Control"] == "no-store"
        assert "no-store" not in client.get("/static/app.js").headers.get("Cache-Control", "")


def test_no_template_or_script_needs_inline_script_or_style() -> None:
    # A JSON data block (the scripts' words) is data the browser never runs: allowed.
    inline_script = re.compile(
        r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.IGNORECASE
    )
    handler = re.compile(r"\son[a-z]+\s*=|javascript:|\sstyle\s*=", re.IGNORECASE)
    for template in TEMPLATES_DIR.glob("*.html"):
        text = template.read_text()
        assert not inline_script.search(text), f"{template.name}: inline <script>"
        assert not handler.search(text), f"{template.name}: inline handler or style"
    for script in STATIC_DIR.glob("*.js"):
        text = script.read_text()
        # A style attribute holds declarations ("color: red"); Intl's `style: "percent"` does not.
        inline_style = r"\bstyle\s*:\s*[\"'`][^\"'`]*:|setAttribute\(\s*[\"']style"
        unsafe = rf"{inline_style}|\beval\(|new Function\(|innerHTML"
        assert not re.search(unsafe, text), script.name


def _session_cookie(response: httpx.Response) -> str:
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith("seed_session=")]
    assert found, "no session cookie was set"
    return found[0]


def _is_secure(cookie: str) -> bool:
    morsel = next(iter(SimpleCookie(cookie).values()))
    return bool(morsel["secure"])


def _login_page(app: FastAPI, *, base_url: str, client: tuple[str, int], proto: str = "") -> str:
    with TestClient(app, base_url=base_url, client=client) as browser:
        headers = {"X-Forwarded-Proto": proto} if proto else {}
        response = browser.get("/login", headers=headers)
        assert CSRF_FIELD.search(response.text)
        return _session_cookie(response)


def test_cookies_are_secure_over_https_and_plain_over_http(app: FastAPI) -> None:
    assert _is_secure(_login_page(app, base_url="https://hub.example", client=("192.0.2.1", 1)))
    assert not _is_secure(_login_page(app, base_url="http://hub.example", client=("192.0.2.1", 1)))


def test_behind_a_trusted_tls_proxy_cookies_are_secure_and_hsts_is_sent(app: FastAPI) -> None:
    cookie = _login_page(app, base_url="http://hub.internal", client=PROXY, proto="https")
    assert _is_secure(cookie)
    with TestClient(app, client=PROXY) as browser:
        answer = browser.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert answer.headers["Strict-Transport-Security"].startswith("max-age=")


def test_an_untrusted_client_cannot_claim_https(app: FastAPI) -> None:
    stranger = ("203.0.113.7", 1)
    cookie = _login_page(app, base_url="http://hub.example", client=stranger, proto="https")
    assert not _is_secure(cookie)


def test_secure_cookies_can_be_forced_for_a_proxy_that_says_nothing(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    app = create_app(HubSettings(data_dir=tmp_path, web=WebSettings(secure_cookies=True)), sessions)
    assert _is_secure(_login_page(app, base_url="http://hub.internal", client=PROXY))
