"""The dashboard in-process (FastAPI's TestClient over a real database), signed in by role."""

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hub.config import HubSettings
from hub.ingest.store import add_location
from hub.users import Role, add_user
from hub.web.app import create_app

PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def web_app(sessions: sessionmaker[Session], tmp_path: Path) -> FastAPI:
    """The app over a database with two sites, and one user of each role."""
    with sessions.begin() as session:
        for site in ("hel", "osl"):
            add_location(session, location_id=site, name=site.upper(), time_zone="Europe/Helsinki")
        add_user(session, username="admin", role=Role.ADMIN, password=PASSWORD)
        add_user(session, username="tech", role=Role.TECHNICIAN, password=PASSWORD)
        add_user(session, username="manager", role=Role.MANAGER, password=PASSWORD, sites=("hel",))
    return create_app(HubSettings(data_dir=tmp_path, db="sqlite://"), sessions)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; returns the session's CSRF token."""
    token = CSRF_FIELD.search(client.get("/login").text)
    assert token, "the login form has no CSRF token"
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get("/api/me")
    assert page.status_code == 200
    meta = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text)
    assert meta
    return meta.group(1)


@pytest.fixture
def client_as(web_app: FastAPI) -> Iterator[Callable[[str | None], TestClient]]:
    """client_as("manager") -> a client signed in as that user; None -> signed out."""
    clients: list[TestClient] = []

    def make(username: str | None) -> TestClient:
        client = TestClient(web_app)
        clients.append(client)
        if username:
            client.headers["X-CSRF-Token"] = sign_in(client, username)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client_at(
    web_app: FastAPI, sessions: sessionmaker[Session], tmp_path: Path
) -> Iterator[Callable[[datetime, str], TestClient]]:
    """client_at(now, "manager") -> a client signed in as that user to the app (the same
    database and users) on a clock that says `now`."""
    clients: list[TestClient] = []

    def make(now: datetime, username: str) -> TestClient:
        app = create_app(web_app.state.context.settings, sessions, clock=lambda: now)
        client = TestClient(app)
        clients.append(client)
        client.headers["X-CSRF-Token"] = sign_in(client, username)
        return client

    yield make
    for client in clients:
        client.close()
