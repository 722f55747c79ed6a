"""The survey on a traveller's phone, through the app: each step posts and is redirected to
the next; resends store nothing twice; misuse, floods and dead links get their answers."""

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.models import Comment, Event, FollowUpAnswer
from hub.phone.guard import AddressLimiter, WriteSlots
from hub.phone.links import issue_link, revoke_link
from hub.surveys.store import assign_survey, create_survey, set_languages
from hub.web.app import create_app
from tests.hub.factories import NOON
from tests.hub.surveys.survey_files import security

TICKET = re.compile(r'name="ticket" value="([^"]+)"')
PAGE_BUDGET_BYTES = 50_000


@pytest.fixture
def token(sessions: sessionmaker[Session], web_app: FastAPI) -> str:
    """A link to `hel`, which asks the security survey in English and Persian."""
    with sessions.begin() as session:
        set_languages(session, location_id="hel", languages=["en", "fa"])
        create_survey(session, parsed=security(), by="admin", now=NOON)
        assign_survey(session, survey_id="security", location_id="hel", by="admin", now=NOON)
        return issue_link(session, location_id="hel", by="admin", now=NOON).token


@pytest.fixture
def phone(web_app: FastAPI, sessions: sessionmaker[Session]) -> Callable[[datetime], TestClient]:
    """phone(now) -> a browser on a phone, to the app on a clock that says `now`."""

    def make(now: datetime) -> TestClient:
        app = create_app(web_app.state.context.settings, sessions, clock=lambda: now)
        return TestClient(app, follow_redirects=False)

    return make


def ticket_of(page: Response) -> str:
    found = TICKET.search(page.text)
    assert found, page.text
    return found.group(1)


def answer(client: TestClient, token: str, button: str, lang: str = "en") -> Response:
    ticket = ticket_of(client.get(f"/t/{token}", params={"lang": lang}))
    return client.post(f"/t/{token}", data={"ticket": ticket, "button": button, "lang": lang})


def test_scan_to_thanks_stores_the_response_its_reason_and_comment_once(
    phone: Callable[[datetime], TestClient], token: str, sessions: sessionmaker[Session]
) -> None:
    client = phone(NOON)
    question = client.get(f"/t/{token}", headers={"Accept-Language": "fa-IR,fa;q=0.9"})
    assert 'dir="rtl"' in question.text and "بازرسی امنیتی چطور بود؟" in question.text
    assert "مدت \u06f5 دقیقه" in question.text  # five, in Persian digits, with no script
    ticket = ticket_of(question)
    sent = {"ticket": ticket, "button": "unhappy", "lang": "fa"}
    first = client.post(f"/t/{token}", data=sent)
    again = client.post(f"/t/{token}", data=sent)  # the page lost the answer and sent it again
    assert first.status_code == again.status_code == 303
    assert first.headers["location"].startswith(f"/t/{token}/reason?")
    reason_page = client.get(first.headers["location"])
    assert "صف طولانی" in reason_page.text
    onward = ticket_of(reason_page)
    for _ in range(2):
        step = client.post(
            f"/t/{token}/reason", data={"ticket": onward, "option": "queue", "lang": "fa"}
        )
    assert step.headers["location"].startswith(f"/t/{token}/comment?")
    comment = {"ticket": onward, "text": "Write to a.b@example.org", "lang": "fa"}
    for _ in range(2):
        done = client.post(f"/t/{token}/comment", data=comment)
    assert done.headers["location"] == f"/t/{token}/thanks?lang=fa"
    assert "سپاسگزاریم" in client.get(done.headers["location"]).text
    with sessions() as session:
        [event] = session.scalars(select(Event)).all()
        assert (event.channel, event.button, event.misuse) == ("web", "unhappy", False)
        [reason] = session.scalars(select(FollowUpAnswer)).all()
        assert (reason.event_id, reason.option, reason.language) == (event.event_id, "queue", "fa")
        [stored] = session.scalars(select(Comment)).all()
        assert (stored.event_id, stored.text) == (event.event_id, "Write to [email]")


def test_a_second_answer_within_the_interval_is_flagged_misuse(
    phone: Callable[[datetime], TestClient], token: str, sessions: sessionmaker[Session]
) -> None:
    client = phone(NOON)
    first = answer(client, token, "happy")
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Path=/t/" in cookie and "SameSite=lax" in cookie
    answer(client, token, "happy")
    later = phone(NOON + timedelta(minutes=10))
    later.cookies = client.cookies
    answer(later, token, "happy")
    with sessions() as session:
        flags = [e.misuse for e in session.scalars(select(Event).order_by(Event.event_id))]
    assert flags == [False, True, False]


def test_a_positive_answer_skips_to_its_own_follow_up_and_a_skip_stores_no_option(
    phone: Callable[[datetime], TestClient], token: str, sessions: sessionmaker[Session]
) -> None:
    client = phone(NOON)
    reason_page = client.get(answer(client, token, "very_happy").headers["location"])
    assert "What went well?" in reason_page.text
    skipped = client.post(
        f"/t/{token}/reason", data={"ticket": ticket_of(reason_page), "option": "", "lang": "en"}
    )
    assert skipped.status_code == 303
    with sessions() as session:
        [reason] = session.scalars(select(FollowUpAnswer)).all()
        assert (reason.question, reason.option) == ("positive", None)


def test_a_forged_or_borrowed_ticket_starts_again_and_stores_nothing(
    phone: Callable[[datetime], TestClient], token: str, sessions: sessionmaker[Session]
) -> None:
    client = phone(NOON)
    ticket = ticket_of(client.get(f"/t/{token}"))
    with sessions.begin() as session:
        other = issue_link(session, location_id="hel", by="admin", now=NOON).token
    for path, signed in ((f"/t/{token}", ticket[:-2] + "xx"), (f"/t/{other}", ticket)):
        refused = client.post(path, data={"ticket": signed, "button": "happy", "lang": "en"})
        assert refused.status_code == 303 and "ticket" not in refused.headers["location"]
    stale = phone(NOON + timedelta(hours=3))
    late = stale.post(f"/t/{token}", data={"ticket": ticket, "button": "happy", "lang": "en"})
    assert late.status_code == 303 and "ticket" not in late.headers["location"]
    with sessions() as session:
        assert session.scalars(select(Event)).all() == []


def test_a_revoked_link_says_so_kindly_and_an_unknown_one_too(
    phone: Callable[[datetime], TestClient], token: str, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        revoke_link(session, token=token, by="admin", now=NOON)
    client = phone(NOON)
    gone = client.get(f"/t/{token}?lang=fa")
    assert gone.status_code == 410 and "این کد دیگر استفاده نمی‌شود" in gone.text
    late = client.post(f"/t/{token}", data={"ticket": "x", "button": "happy", "lang": "en"})
    assert late.status_code == 410
    for path in ("/t/AAAAAAAAAAAAAAAAAAAAAA", "/t/not-a-token", "/t/" + "x" * 60):
        nowhere = client.get(path)
        assert nowhere.status_code == 404 and "This link leads nowhere" in nowhere.text


def test_a_flood_from_one_address_is_refused_before_the_database(
    phone: Callable[[datetime], TestClient], token: str, sessions: sessionmaker[Session]
) -> None:
    client = phone(NOON)
    client.app.state.phone.limiter = AddressLimiter(3, clock=lambda: 0.0)  # type: ignore[attr-defined]
    codes = [answer(client, token, "happy").status_code for _ in range(5)]
    assert codes == [303, 303, 303, 429, 429]
    refused = answer(client, token, "happy")
    assert int(refused.headers["Retry-After"]) >= 1
    client.app.state.phone.slots = WriteSlots(1)  # type: ignore[attr-defined]
    with client.app.state.phone.slots.taken():  # type: ignore[attr-defined]
        client.app.state.phone.limiter = AddressLimiter(60)  # type: ignore[attr-defined]
        busy = answer(client, token, "happy")
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "2"
    with sessions() as session:
        assert len(session.scalars(select(Event)).all()) == 3
    client.app.state.phone.views = AddressLimiter(2, clock=lambda: 0.0)  # type: ignore[attr-defined]
    assert [client.get(f"/t/{token}").status_code for _ in range(3)] == [200, 200, 429]
    persian = client.get(f"/t/{token}", headers={"Accept-Language": "fa"})
    assert persian.status_code == 429 and 'dir="rtl"' in persian.text  # in the phone's language


def test_the_page_is_light_and_its_own(phone: Callable[[datetime], TestClient], token: str) -> None:
    client = phone(NOON)
    page = client.get(f"/t/{token}")
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    assert {"/static/phone.css", "/static/phone.js"} <= set(assets)
    assert not re.search(r'(?:href|src)="(?:https?:)?//', page.text)  # nothing from elsewhere
    weight = len(page.content) + sum(len(client.get(a).content) for a in assets)
    assert weight < PAGE_BUDGET_BYTES
    assert "seed_session" not in page.headers.get("set-cookie", "")
