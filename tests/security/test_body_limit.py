"""A body larger than the ceiling is refused with 413 before it is buffered, on the public
pages (phone survey, staff links, sign-in) as anywhere, said length or chunked; what stays
under it is served as before."""

import http.client
import resource
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.config import HubSettings
from hub.db import make_engine, session_factory
from hub.web.app import create_app
from hub.web.body_limit import MAX_BODY_BYTES
from hub.web.server import WebServer

PUBLIC_POSTS = ["/login", "/t/AAAAAAAAAAAAAAAAAAAAAA", "/s/not-a-link/note", "/language"]
CHUNK = b"x" * 65536


@pytest.fixture
def sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    """The ceiling does not depend on the database: SQLite only."""
    engine = make_engine(sqlite_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def hub_url(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[str]:
    server = WebServer(create_app(HubSettings(data_dir=tmp_path), sessions), "127.0.0.1", 0)
    url = server.start()
    assert server.wait_started()
    yield url
    server.stop()


def _connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    assert parts.hostname is not None
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def _form_headers(length: int | None) -> dict[str, str]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if length is not None:
        headers["Content-Length"] = str(length)
    return headers


@pytest.mark.parametrize("path", PUBLIC_POSTS)
def test_a_declared_length_over_the_ceiling_is_refused_before_the_body_is_read(
    hub_url: str, path: str
) -> None:
    connection = _connection(hub_url)
    connection.putrequest("POST", path)
    for name, value in _form_headers(200 * 1024 * 1024).items():
        connection.putheader(name, value)
    connection.endheaders()  # and no body at all: the answer must not wait for it
    response = connection.getresponse()
    assert response.status == 413
    assert b"at most" in response.read()
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    connection.close()


@pytest.mark.parametrize("path", ["/t/AAAAAAAAAAAAAAAAAAAAAA", "/s/not-a-link/note"])
def test_a_chunked_body_is_cut_off_at_the_ceiling(hub_url: str, path: str) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    connection = _connection(hub_url)
    connection.putrequest("POST", path)
    headers = _form_headers(None) | {"Transfer-Encoding": "chunked"}
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders()
    sent = 0
    try:
        while sent < 64 * 1024 * 1024:  # 64 MiB offered; the hub stops reading near 1 MiB
            connection.send(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
            sent += len(CHUNK)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the hub answered and closed: it no longer reads
    response = connection.getresponse()
    assert response.status == 413
    connection.close()
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 32 * 1024, f"the process grew {grown_kib} KiB for a refused body"


def test_a_body_under_the_ceiling_is_served_as_before(hub_url: str) -> None:
    connection = _connection(hub_url)
    body = b"username=nobody&password=" + b"x" * (MAX_BODY_BYTES // 2)
    connection.request("POST", "/login", body=body, headers=_form_headers(len(body)))
    response = connection.getresponse()
    assert response.status != 413
    response.read()
    connection.close()
