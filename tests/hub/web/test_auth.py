"""Signing in, roles, CSRF and the session cookie."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hub.users import authenticate, disable_user
from tests.hub.web.conftest import CSRF_FIELD, PASSWORD

ClientAs = Callable[[str | None], TestClient]


def test_a_page_without_a_session_redirects_to_the_login_with_the_way_back(
    client_as: ClientAs,
) -> None:
    response = client_as(None).get("/users?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/users?x=1"


def test_an_api_route_without_a_session_answers_401(client_as: ClientAs) -> None:
    assert client_as(None).get("/api/me").status_code == 401
    assert client_as(None).get("/openapi.json").status_code == 401


def test_a_wrong_password_is_refused_and_sets_no_session(client_as: ClientAs) -> None:
    client = client_as(None)
    token = CSRF_FIELD.search(client.get("/login").text)
    assert token
    response = client.post(
        "/login",
        data={"username": "admin", "password": "wrong password", "csrf_token": token.group(1)},
    )
    assert response.status_code == 401
    assert "Wrong user name or password" in response.text
    assert client.get("/api/me").status_code == 401


def test_the_login_form_needs_its_csrf_token(client_as: ClientAs) -> None:
    response = client_as(None).post("/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 403


def test_signing_in_lands_on_the_page_of_the_role(client_as: ClientAs) -> None:
    client = client_as(None)
    token = CSRF_FIELD.search(client.get("/login").text)
    assert token
    response = client.post(
        "/login",
        data={"username": "tech", "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/fleet"
    assert client.get("/api/me").json() == {"username": "tech", "role": "technician", "sites": []}


def test_the_way_back_after_signing_in_never_leaves_the_site(client_as: ClientAs) -> None:
    client = client_as(None)
    token = CSRF_FIELD.search(client.get("/login?next=//evil.example").text)
    assert token
    response = client.post(
        "/login",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": token.group(1),
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_a_post_without_the_csrf_token_is_refused_even_when_signed_in(
    client_as: ClientAs,
) -> None:
    client = client_as("admin")
    del client.headers["X-CSRF-Token"]
    assert client.post("/users", data={"username": "eve", "role": "admin"}).status_code == 403
    assert client.post("/logout").status_code == 403


@pytest.mark.parametrize(("username", "status"), [("admin", 200), ("manager", 403), ("tech", 403)])
def test_only_an_admin_sees_the_users(client_as: ClientAs, username: str, status: int) -> None:
    assert client_as(username).get("/users").status_code == status


def test_an_admin_adds_a_manager_whose_password_is_shown_once(
    client_as: ClientAs, sessions: sessionmaker[Session]
) -> None:
    response = client_as("admin").post(
        "/users", data={"username": "anna", "role": "manager", "sites": "osl"}
    )
    assert response.status_code == 200
    password = response.text.split("with the password ")[1].split(" ")[0]
    with sessions.begin() as session:
        user = authenticate(session, username="anna", password=password)
    assert user is not None and user.sites == ("osl",)


def test_a_disabled_user_is_signed_out_at_his_next_request(
    client_as: ClientAs, sessions: sessionmaker[Session]
) -> None:
    client = client_as("manager")
    assert client.get("/api/me").status_code == 200
    with sessions.begin() as session:
        disable_user(session, username="manager")
    assert client.get("/api/me").status_code == 401


def test_the_session_cookie_is_signed_and_http_only(client_as: ClientAs) -> None:
    client = client_as("admin")
    cookie = next(c for c in client.cookies.jar if c.name == "seed_session")
    assert cookie.has_nonstandard_attr("HttpOnly") or cookie.has_nonstandard_attr("httponly")
    client.cookies.set("seed_session", cookie.value[:-4] + "AAAA")
    assert client.get("/api/me").status_code == 401
