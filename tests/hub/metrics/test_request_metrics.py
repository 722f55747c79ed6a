"""Web request latency, labelled by route template, method and status class: never by the
path a client sent, so that a scanner cannot grow the labels without end."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hub.config import HubSettings
from hub.web.app import create_app
from tests.hub.metrics.samples import value

COUNT = "seed_hub_http_request_duration_seconds_count"


@pytest.fixture
def client(sessions: sessionmaker[Session], tmp_path: Path) -> TestClient:
    return TestClient(create_app(HubSettings(data_dir=tmp_path), sessions))


def _requests(route: str, method: str = "GET", status_class: str = "2xx") -> float:
    return value(COUNT, route=route, method=method, status_class=status_class)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_requests_are_counted_by_route_template(client: TestClient) -> None:
    location = _requests("/locations/{location_id}", status_class="3xx")
    login = _requests("/login")
    static = _requests("/static/{path}")
    unmatched = _requests("unmatched", status_class="4xx")
    for place in ("gate-a", "gate-b", "a-path-a-scanner-made-up"):
        assert client.get(f"/locations/{place}", follow_redirects=False).status_code == 303
    assert client.get("/login").status_code == 200
    assert client.get("/static/app.js").status_code == 200
    for path in ("/wp-admin", "/.env"):
        assert client.get(path).status_code == 404
    assert _requests("/locations/{location_id}", status_class="3xx") - location == 3
    assert _requests("/login") - login == 1
    assert _requests("/static/{path}") - static == 1
    assert _requests("unmatched", status_class="4xx") - unmatched == 2
    assert value(COUNT, route="/wp-admin", method="GET", status_class="4xx") == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_made_up_method_is_counted_as_other(client: TestClient) -> None:
    before = _requests("/login", method="other", status_class="4xx")
    assert client.request("BREW", "/login").status_code == 405
    assert _requests("/login", method="other", status_class="4xx") - before == 1
