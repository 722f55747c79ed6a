"""Issue 13, item 8: signing out, a new password and `users disable` end every session of the
user at once; a cookie captured before any of them stops working."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hub.cli import main
from hub.config import HubSettings
from hub.ingest.store import add_location
from hub.users import Role, add_user
from hub.web.app import create_app
from tests.hub.web.conftest import PASSWORD, sign_in

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def app(sessions: sessionmaker[Session], tmp_path: Path) -> FastAPI:
    with sessions.begin() as session:
        add_location(session, location_id="hel", name="HEL", time_zone="Europe/Helsinki")
        add_user(session, username="anna", role=Role.MANAGER, password=PASSWORD, sites=("hel",))
    return create_app(HubSettings(data_dir=tmp_path), sessions)


@pytest.fixture
def browsers(app: FastAPI) -> Iterator[tuple[TestClient, TestClient]]:
    """Anna's laptop, signed in, and a thief holding a copy of its cookie."""
    with TestClient(app) as laptop, TestClient(app) as thief:
        laptop.headers["X-CSRF-Token"] = sign_in(laptop, "anna")
        thief.cookies.update(laptop.cookies)
        assert thief.get("/api/me").status_code == 200
        yield laptop, thief


def test_signing_out_ends_a_copy_of_the_cookie_too(
    browsers: tuple[TestClient, TestClient],
) -> None:
    laptop, thief = browsers
    assert laptop.post("/logout", follow_redirects=False).status_code == 303
    assert thief.get("/api/me").status_code == 401
    assert thief.get("/", follow_redirects=False).status_code == 303


def test_signing_out_on_one_device_signs_out_every_device(
    app: FastAPI, browsers: tuple[TestClient, TestClient]
) -> None:
    laptop, _thief = browsers
    with TestClient(app) as phone:
        sign_in(phone, "anna")
        laptop.post("/logout")
        assert phone.get("/api/me").status_code == 401
        sign_in(phone, "anna")  # and she can sign in again at once
        assert phone.get("/api/me").status_code == 200


def test_a_stale_cookie_cannot_sign_the_user_out_again(
    app: FastAPI, browsers: tuple[TestClient, TestClient]
) -> None:
    laptop, thief = browsers
    laptop.post("/logout")
    with TestClient(app) as fresh:
        sign_in(fresh, "anna")
        thief.headers["X-CSRF-Token"] = laptop.headers["X-CSRF-Token"]
        thief.post("/logout")
        assert fresh.get("/api/me").status_code == 200


def test_a_new_password_ends_the_sessions_the_old_one_opened(
    browsers: tuple[TestClient, TestClient], sessions: sessionmaker[Session]
) -> None:
    laptop, thief = browsers
    with sessions.begin() as session:
        add_user(session, username="anna", role=Role.MANAGER, password=NEW_PASSWORD, sites=("hel",))
    assert thief.get("/api/me").status_code == 401
    assert laptop.get("/api/me").status_code == 401
    sign_in(laptop, "anna", NEW_PASSWORD)
    assert laptop.get("/api/me").status_code == 200


def test_users_disable_ends_her_sessions_for_good_even_once_she_is_enabled_again(
    browsers: tuple[TestClient, TestClient], sessions: sessionmaker[Session], db_url: str
) -> None:
    _laptop, thief = browsers
    assert main(["users", "disable", "anna", "--db", db_url]) == 0
    assert thief.get("/api/me").status_code == 401
    with sessions.begin() as session:  # enabled again, with the password she had
        add_user(session, username="anna", role=Role.MANAGER, password=PASSWORD, sites=("hel",))
    assert thief.get("/api/me").status_code == 401
