"""A task's page behind the signed link in a staff notification, through the app: each
button posts and is redirected back with what it did; a second tap records nothing twice;
a forged, stale or orphaned link, or one bent towards another task, opens nothing; a note it
cannot keep shows the page again with why, next to the field."""

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session, sessionmaker

from hub.models import Task
from hub.phone.guard import AddressLimiter
from hub.tasks import records
from hub.tasks.links import StaffLinks
from hub.tasks.records import (
    MAX_NOTE_CHARS,
    HistoryEntry,
    TaskView,
    acknowledge,
    add_note,
    escalate_overdue,
    history,
    open_by_hand,
    task_view,
)
from hub.tasks.teams import Role, Route, add_member, add_team, remove_member
from hub.web.app import create_app
from hub.web.routes_staff import HISTORY_SHOWN, POSTS_PER_MINUTE, REPEAT_S
from tests.hub.factories import NOON

REFUSED = "This link no longer works"
Staff = Callable[[datetime], TestClient]


@dataclass(frozen=True)
class Crew:
    """Cleaning at `hel` (Anna and Ben) with a task there; security at `osl` with one too."""

    anna: int
    ben: int
    task: int
    other_task: int


@pytest.fixture
def crew(web_app: FastAPI, sessions: sessionmaker[Session]) -> Crew:
    with sessions.begin() as session:
        add_team(session, team_id="clean-hel", name="Cleaning HEL", location_id="hel", now=NOON)
        add_team(session, team_id="sec-osl", name="Security OSL", location_id="osl", now=NOON)
        anna, ben = (
            add_member(
                session,
                team_id="clean-hel",
                name=name,
                route=Route.EMAIL,
                target=f"{name.lower()}@example.org",
                role=Role.MEMBER,
            ).id
            for name in ("Anna", "Ben")
        )
        task = open_by_hand(
            session,
            team_id="clean-hel",
            location_id="hel",
            title="Refill the soap in the washroom",
            by="manager",
            now=NOON,
        )
        other = open_by_hand(
            session,
            team_id="sec-osl",
            location_id="osl",
            title="Open a second lane",
            by="manager",
            now=NOON,
        )
    return Crew(anna, ben, task, other)


@pytest.fixture
def staff(web_app: FastAPI, sessions: sessionmaker[Session]) -> Staff:
    """staff(now) -> a phone with no dashboard account, to the app on a clock at `now`."""

    def make(now: datetime) -> TestClient:
        app = create_app(web_app.state.context.settings, sessions, clock=lambda: now)
        return TestClient(app, follow_redirects=False)

    return make


def link(client: TestClient, *, task_id: int, member_id: int) -> str:
    """The path in the notification, signed by the client's app at its clock's time."""
    path: str = client.app.state.staff_links.path(  # type: ignore[attr-defined]
        task_id=task_id, member_id=member_id
    )
    return path


def events(sessions: sessionmaker[Session], task_id: int) -> list[HistoryEntry]:
    with sessions() as session:
        return history(session, task_id=task_id)


def view(sessions: sessionmaker[Session], task_id: int) -> TaskView:
    with sessions() as session:
        return task_view(session, task_id=task_id)


def test_on_my_way_then_resolved_with_a_note_each_recorded_once_with_who_and_when(
    staff: Staff, crew: Crew, sessions: sessionmaker[Session]
) -> None:
    client = staff(NOON + timedelta(minutes=3))
    path = link(client, task_id=crew.task, member_id=crew.anna)
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "Refill the soap in the washroom" in text and "Cleaning HEL" in text
    assert "HEL" in text and "3 minutes ago" in text
    assert "2:00\u202fPM" in text  # noon in UTC is 2 PM in Helsinki, the place's time
    assert 'class="state open">Open<' in text and "On my way" in text and "Resolved<" in text
    assert 'role="status"' not in text  # nothing done yet, nothing to confirm

    for _ in range(2):  # a double tap
        answer = client.post(f"{path}/acknowledge", data={"lang": "en"})
        assert answer.status_code == 303
        assert answer.headers["location"] == f"{path}?lang=en&done=acknowledged"
    confirmed = client.get(answer.headers["location"]).text
    assert re.search(
        r'<p class="confirm" id="done" role="status" tabindex="-1" autofocus>', confirmed
    )
    assert "The team sees that you are on your way." in confirmed
    assert 'class="state acknowledged">On the way<' in confirmed
    assert "On my way</button>" not in confirmed and "Anna (by link), at 2:03\u202fPM" in confirmed

    later = staff(NOON + timedelta(minutes=20))
    for _ in range(2):
        done = later.post(
            f"{path}/resolve", data={"note": "  Refilled,\r\nand mopped ", "lang": "en"}
        )
        assert done.headers["location"] == f"{path}?lang=en&done=resolved"
    resolved = later.get(done.headers["location"]).text
    assert "Thank you. The task is resolved." in resolved
    assert "Resolved by Anna (by link) at 2:20\u202fPM." in resolved
    assert "On my way</button>" not in resolved and "Resolved</button>" not in resolved
    assert "Add a note</button>" in resolved and "Refilled, and mopped" in resolved

    assert [(e.action, e.actor, e.at, e.note) for e in events(sessions, crew.task)] == [
        ("opened", "manager", NOON, ""),
        ("acknowledged", "Anna (by link)", NOON + timedelta(minutes=3), ""),
        ("resolved", "Anna (by link)", NOON + timedelta(minutes=20), "Refilled, and mopped"),
    ]
    task = view(sessions, crew.task)
    assert (task.state, task.acknowledged_by, task.resolved_by) == (
        "resolved",
        "Anna (by link)",
        "Anna (by link)",
    )
    assert task.resolved_at == NOON + timedelta(minutes=20)
    assert view(sessions, crew.other_task).state == "open"


def test_resolved_straight_away_counts_as_on_the_way_and_a_colleagues_second_resolve_adds_a_note(
    staff: Staff, crew: Crew, sessions: sessionmaker[Session]
) -> None:
    client = staff(NOON + timedelta(minutes=5))
    anna = link(client, task_id=crew.task, member_id=crew.anna)
    ben = link(client, task_id=crew.task, member_id=crew.ben)
    assert client.post(f"{anna}/resolve", data={}).headers["location"].endswith("done=resolved")
    late = client.post(f"{ben}/resolve", data={"note": "Was already done", "lang": "en"})
    assert late.headers["location"] == f"{ben}?lang=en&done=resolved"
    page = client.get(ben).text
    assert "Resolved by Anna (by link)" in page and "This link is for Ben" in page
    tapped = client.post(f"{ben}/acknowledge", data={"lang": "en"})  # an old page's button
    assert tapped.headers["location"] == f"{ben}?lang=en"
    task = view(sessions, crew.task)
    assert task.acknowledged_at == task.resolved_at == NOON + timedelta(minutes=5)
    assert [(e.action, e.actor, e.note) for e in events(sessions, crew.task)][1:] == [
        ("resolved", "Anna (by link)", ""),
        ("note", "Ben (by link)", "Was already done"),
    ]


def test_a_note_sent_twice_is_kept_once_and_the_same_words_later_again(
    staff: Staff, crew: Crew, sessions: sessionmaker[Session]
) -> None:
    client = staff(NOON)
    path = link(client, task_id=crew.task, member_id=crew.anna)
    for _ in range(2):
        noted = client.post(f"{path}/note", data={"note": "Soap is on order", "lang": "en"})
        assert noted.headers["location"] == f"{path}?lang=en&done=noted"
    page = client.get(noted.headers["location"]).text
    assert "Your note is added." in page and "(just now)" in page
    later = staff(NOON + timedelta(seconds=REPEAT_S + 1))
    later.post(f"{path}/note", data={"note": "Soap is on order"})
    staff(NOON + timedelta(seconds=REPEAT_S + 2)).post(
        link(client, task_id=crew.task, member_id=crew.ben) + "/note",
        data={"note": "Soap is on order"},
    )
    notes = [(e.actor, e.at) for e in events(sessions, crew.task) if e.action == "note"]
    assert notes == [
        ("Anna (by link)", NOON),
        ("Anna (by link)", NOON + timedelta(seconds=REPEAT_S + 1)),
        ("Ben (by link)", NOON + timedelta(seconds=REPEAT_S + 2)),
    ]


@pytest.mark.parametrize(
    ("action", "note", "message"),
    [
        ("note", "   ", "Write the note first, then press “Add a note”."),
        (
            "note",
            "x" * (MAX_NOTE_CHARS + 1),
            "A note has at most 1,000 characters; this one has 1,001.",
        ),
        ("resolve", "y" * (MAX_NOTE_CHARS + 1), "A note has at most 1,000 characters"),
        ("acknowledge", "tab\there", "The note holds a character that cannot be kept"),
        ("resolve", "bidi \u202eevil", "The note holds a character that cannot be kept"),
    ],
)
def test_a_note_it_cannot_keep_shows_the_page_again_with_the_error_on_the_field(
    staff: Staff,
    crew: Crew,
    sessions: sessionmaker[Session],
    action: str,
    note: str,
    message: str,
) -> None:
    client = staff(NOON)
    path = link(client, task_id=crew.task, member_id=crew.anna)
    page = client.post(f"{path}/{action}", data={"note": note, "lang": "en"})
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert f'<p class="error" id="note-error">{message}' in page.text
    field = re.search(r"<textarea id=\"note\"[^>]*>", page.text)
    assert field, page.text
    assert 'aria-describedby="note-error note-hint"' in field.group()
    assert 'aria-invalid="true"' in field.group() and "autofocus" in field.group()
    assert f">{note.strip()[:50]}" in page.text or not note.strip()  # what they wrote, kept
    assert view(sessions, crew.task).state == "open"
    assert [e.action for e in events(sessions, crew.task)] == ["opened"]


def test_a_note_of_exactly_the_limit_is_kept(
    staff: Staff, crew: Crew, sessions: sessionmaker[Session]
) -> None:
    client = staff(NOON)
    path = link(client, task_id=crew.task, member_id=crew.anna)
    note = "z" * MAX_NOTE_CHARS
    assert client.post(f"{path}/note", data={"note": note}).status_code == 303
    assert events(sessions, crew.task)[-1].note == note


def _payload_swapped(token: str, task_id: int, member_id: int) -> str:
    """The token with another task in its payload and its own signature."""
    payload = base64.urlsafe_b64encode(json.dumps([task_id, member_id]).encode()).rstrip(b"=")
    return payload.decode() + token[token.index(".") :]


def _refused(page: Response) -> None:
    assert page.status_code == 403, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert REFUSED in page.text and "ask your team lead" in page.text
    assert "Traceback" not in page.text and "Refill the soap" not in page.text


def test_a_forged_stale_or_orphaned_link_opens_nothing_and_changes_nothing(
    staff: Staff, crew: Crew, sessions: sessionmaker[Session]
) -> None:
    client = staff(NOON)
    path = link(client, task_id=crew.task, member_id=crew.anna)
    token = path.removeprefix("/s/")
    elsewhere = StaffLinks("another hub's secret " * 3, max_age_s=3600, clock=lambda: NOON)
    forged = [
        token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"),  # a changed signature
        _payload_swapped(token, crew.task, crew.ben),  # another member, the same signature
        elsewhere.token(task_id=crew.task, member_id=crew.anna),  # signed by another hub
        "not-a-token",
        quote('a?b"<i>', safe=""),  # echoed nowhere unescaped
        "x" * 500,
        link(client, task_id=crew.task + 1000, member_id=crew.anna).removeprefix("/s/"),
    ]
    for bad in forged:
        page = client.get(f"/s/{bad}")
        _refused(page)
        assert "<i>" not in page.text and 'b"' not in page.text
        for action in ("acknowledge", "resolve", "note"):
            _refused(client.post(f"/s/{bad}/{action}", data={"note": "forged"}))

    stale = staff(NOON + timedelta(hours=24, seconds=2))  # link_hours is 24 by default
    _refused(stale.get(path))
    _refused(stale.post(f"{path}/resolve", data={}))
    with sessions.begin() as session:
        remove_member(session, member_id=crew.anna, now=NOON)
    _refused(client.get(path))
    _refused(client.post(f"{path}/acknowledge", data={}))
    assert [e.action for e in events(sessions, crew.task)] == ["opened"]
    assert view(sessions, crew.task).state == "open"


def test_a_link_for_one_task_reaches_no_other(
    staff: Staff, crew: Crew, sessions: sessionmaker[Session]
) -> None:
    client = staff(NOON)
    path = link(client, task_id=crew.task, member_id=crew.anna)
    token = path.removeprefix("/s/")
    page = client.get(path, params={"task_id": crew.other_task, "task": crew.other_task})
    assert "Refill the soap" in page.text and "Open a second lane" not in page.text
    _refused(client.get(f"/s/{_payload_swapped(token, crew.other_task, crew.anna)}"))
    _refused(client.post(f"/s/{_payload_swapped(token, crew.other_task, crew.anna)}/resolve"))
    assert client.get(f"/s/{crew.other_task}").status_code == 403
    assert client.get(f"{path}/../{crew.other_task}").status_code in {403, 404}
    sent = client.post(f"{path}/resolve", data={"task_id": str(crew.other_task), "note": "done"})
    assert sent.status_code == 303
    assert view(sessions, crew.task).state == "resolved"  # the link's own task, only
    assert view(sessions, crew.other_task).state == "open"
    assert [e.action for e in events(sessions, crew.other_task)] == ["opened"]


def test_headers_keep_the_link_to_the_page_and_the_page_out_of_caches(
    staff: Staff, crew: Crew
) -> None:
    client = staff(NOON)
    path = link(client, task_id=crew.task, member_id=crew.anna)
    for answer in (
        client.get(path),
        client.get("/s/forged"),
        client.post(f"{path}/note", data={"note": ""}),
        client.post(f"{path}/acknowledge", data={}),  # no CSRF token: the link is the key
    ):
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        assert "set-cookie" not in answer.headers  # no session, no tracking
    page = client.get(path).text
    assert '<meta name="referrer" content="no-referrer">' in page
    assert "<script" not in page  # nothing needs a script
    assert not re.search(r'(?:href|src|action)="(?:https?:)?//', page)  # nothing elsewhere
    assert client.get("/alerts").status_code == 303  # the link signs nobody in to the dashboard


def test_the_page_speaks_the_browsers_language_or_the_one_asked_for(
    staff: Staff, crew: Crew
) -> None:
    client = staff(NOON + timedelta(minutes=12))
    path = link(client, task_id=crew.task, member_id=crew.anna)
    persian = client.get(path, headers={"Accept-Language": "fa-IR,fa;q=0.9"}).text
    assert '<html lang="fa" dir="rtl">' in persian
    # 14:00 and "12 minutes ago", in Persian digits, with no script
    assert "\u06f1\u06f4:\u06f0\u06f0" in persian and "\u06f1\u06f2 دقیقه پیش" in persian
    assert 'name="lang" value="fa"' in persian
    dutch = client.get(path, params={"lang": "nl"}, headers={"Accept-Language": "fa"}).text
    assert '<html lang="nl" dir="ltr">' in dutch and "12 minuten geleden" in dutch
    moved = client.post(f"{path}/acknowledge", data={"lang": "fa"})
    assert moved.headers["location"] == f"{path}?lang=fa&done=acknowledged"
    refused = client.get("/s/forged", headers={"Accept-Language": "fa"}).text
    assert '<html lang="fa" dir="rtl">' in refused
    switch = re.findall(r'<a href="([^"]+)" lang="([^"]+)"', dutch)
    assert (f"{path}?lang=fa", "fa") in switch and (f"{path}?lang=en", "en") in switch


def test_what_travellers_said_and_an_escalation_are_shown(
    staff: Staff, crew: Crew, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        task = session.get(Task, crew.task)
        assert task is not None
        task.negative_share, task.responses, task.device_id = 0.625, 16, "k-wc-1"
        escalate_overdue(session, now=NOON + timedelta(minutes=16))
    client = staff(NOON + timedelta(minutes=16))
    page = client.get(link(client, task_id=crew.task, member_id=crew.anna)).text
    assert "62% of 16, in the 1 hour before it opened" in page
    assert "Kiosk k-wc-1" in page
    assert 'class="state escalated">Escalated<' in page
    # the hub's stored English sentence is not quoted as if a person wrote it
    assert "Escalated: not acknowledged in time</span>" in page and "The hub</span>" in page
    assert "nobody managed" not in page and '<q class="note"' not in page
    with sessions.begin() as session:
        guard = add_member(
            session,
            team_id="sec-osl",
            name="Guard",
            route=Route.EMAIL,
            target="guard@example.org",
            role=Role.MEMBER,
        )
        late = open_by_hand(
            session, team_id="sec-osl", location_id="osl", title="Lane", by="manager", now=NOON
        )
        acknowledge(session, task_id=late, actor="manager", now=NOON + timedelta(minutes=1))
        escalate_overdue(session, now=NOON + timedelta(hours=3))  # on the way, not resolved
    later = staff(NOON + timedelta(hours=3))
    page = later.get(link(later, task_id=late, member_id=guard.id)).text
    escalations = re.findall(r'<span class="what">(Escalated[^<]*)</span>', page)
    assert escalations == ["Escalated: not resolved in time"]


def test_a_manager_is_named_a_manager_and_members_by_their_names(
    staff: Staff, crew: Crew, sessions: sessionmaker[Session]
) -> None:
    long_name = "N" * 195  # " (by link)" runs past the history's column
    with sessions.begin() as session:
        task = open_by_hand(
            session,
            team_id="clean-hel",
            location_id="hel",
            title="Bin",
            by="j.smith@ops",
            now=NOON,
        )
        acknowledge(session, task_id=task, actor="j.smith@ops", now=NOON, note="Asked Ben")
        long_member = add_member(
            session,
            team_id="clean-hel",
            name=long_name,
            route=Route.EMAIL,
            target="n@example.org",
            role=Role.MEMBER,
        ).id
        add_note(session, task_id=task, actor="cli", now=NOON, note="From the console")
    client = staff(NOON + timedelta(minutes=1))
    long_path = link(client, task_id=task, member_id=long_member)
    client.post(f"{long_path}/note", data={"note": "Long name here"})
    client.post(f"{link(client, task_id=task, member_id=crew.ben)}/resolve", data={})
    page = client.get(long_path).text
    assert "j.smith" not in page and "cli<" not in page
    assert "(1 minute ago) · A manager</dd>" in page
    assert "Resolved by Ben (by link) at" in page
    who = re.findall(r'<span class="who">([^<]*)</span>', page)
    assert who == ["A manager", "A manager", "A manager", f"{long_name} (by link)", "Ben (by link)"]

    manager_acked = staff(NOON + timedelta(minutes=2))
    page = manager_acked.get(link(manager_acked, task_id=crew.task, member_id=crew.anna)).text
    assert "Opened</dt>" in page and "· A manager</dd>" in page  # crew.task: by "manager"
    with sessions.begin() as session:
        acknowledge(session, task_id=crew.task, actor="j.smith@ops", now=NOON)
    page = manager_acked.get(link(manager_acked, task_id=crew.task, member_id=crew.anna)).text
    assert "A manager, at 2:00\u202fPM" in page and "j.smith" not in page


def test_the_page_shows_the_latest_entries_only(
    staff: Staff, crew: Crew, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        for n in range(1, 31):
            add_note(session, task_id=crew.task, actor="Anna (by link)", now=NOON, note=f"#{n}#")
    client = staff(NOON)
    page = client.get(link(client, task_id=crew.task, member_id=crew.anna)).text
    shown = re.findall(r"<q class=\"note\" dir=\"auto\">#(\d+)#</q>", page)
    assert shown == [str(n) for n in range(31 - HISTORY_SHOWN, 31)]


def test_presses_are_throttled_per_task_and_member_with_a_page_in_its_language(
    staff: Staff, crew: Crew, sessions: sessionmaker[Session]
) -> None:
    client = staff(NOON)
    moment = [0.0]
    client.app.state.staff_limiter = AddressLimiter(  # type: ignore[attr-defined]
        POSTS_PER_MINUTE, clock=lambda: moment[0]
    )
    anna = link(client, task_id=crew.task, member_id=crew.anna)
    for n in range(POSTS_PER_MINUTE):
        answer = client.post(f"{anna}/note", data={"note": f"note {n}", "lang": "en"})
        assert answer.status_code == 303
    busy = client.post(f"{anna}/note", data={"note": "one too many", "lang": "nl"})
    assert busy.status_code == 429 and busy.headers["retry-after"] == "6"
    assert busy.headers["content-type"].startswith("text/html")
    assert '<html lang="nl" dir="ltr">' in busy.text
    assert '<p class="error" id="busy" role="alert" tabindex="-1" autofocus>' in busy.text
    assert ">one too many</textarea>" in busy.text  # what they wrote, kept
    assert busy.headers["cache-control"] == "no-store"
    assert client.post(f"{anna}/resolve", data={}).status_code == 429
    ben = link(client, task_id=crew.task, member_id=crew.ben)
    assert client.post(f"{ben}/note", data={"note": "Ben's own"}).status_code == 303
    assert client.get(anna).status_code == 200  # reading is not pressing
    moment[0] = 6.0  # a press comes back every six seconds
    assert client.post(f"{anna}/note", data={"note": "after a pause"}).status_code == 303
    assert client.post(f"{anna}/note", data={"note": "too soon"}).status_code == 429
    notes = [e.note for e in events(sessions, crew.task) if e.action == "note"]
    assert notes == [*(f"note {n}" for n in range(POSTS_PER_MINUTE)), "Ben's own", "after a pause"]
    assert view(sessions, crew.task).state == "open"


def test_the_app_throttles_without_being_told(staff: Staff, crew: Crew) -> None:
    client = staff(NOON)
    anna = link(client, task_id=crew.task, member_id=crew.anna)
    answers = [
        client.post(f"{anna}/note", data={"note": f"n{n}"}).status_code
        for n in range(POSTS_PER_MINUTE + 1)
    ]
    assert answers == [303] * POSTS_PER_MINUTE + [429]


def test_a_full_history_refuses_a_note_as_the_page_refuses_others(
    staff: Staff, crew: Crew, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "MAX_EVENTS_PER_TASK", 3)
    client = staff(NOON)
    path = link(client, task_id=crew.task, member_id=crew.anna)
    for note in ("first", "second"):
        assert client.post(f"{path}/note", data={"note": note}).status_code == 303
    full = client.post(f"{path}/note", data={"note": "third", "lang": "en"})
    assert full.status_code == 422, full.text
    assert '<p class="error" id="note-error">The history of this task is full' in full.text
    assert ">third</textarea>" in full.text and 'aria-invalid="true"' in full.text
    # "Resolved" still resolves, with its note; a note afterwards is refused
    resolved = client.post(f"{path}/resolve", data={"note": "done anyway"})
    assert resolved.headers["location"].endswith("done=resolved")
    again = client.post(f"{path}/resolve", data={"note": "and mopped", "lang": "en"})
    assert again.status_code == 422 and "The history of this task is full" in again.text
    assert [(e.action, e.note) for e in events(sessions, crew.task)] == [
        ("opened", ""),
        ("note", "first"),
        ("note", "second"),
        ("resolved", "done anyway"),
    ]


@pytest.mark.parametrize("size", [MAX_NOTE_CHARS * 4 + 1, 5000, 10_000_000])
def test_a_note_far_past_the_limit_is_refused_before_the_page_and_not_sent_back(
    staff: Staff, crew: Crew, sessions: sessionmaker[Session], size: int
) -> None:
    client = staff(NOON)
    path = link(client, task_id=crew.task, member_id=crew.anna)
    answer = client.post(f"{path}/note", data={"note": "x" * size, "lang": "en"})
    assert answer.status_code in {413, 422}, answer.status_code
    assert answer.status_code == 413 or size < 1_000_000  # a body limit stops the 10 MB one
    assert len(answer.content) < size + 1000 and "x" * 4001 not in answer.text[:4001]
    assert "Refill the soap" not in answer.text  # no task page rendered with it
    assert [e.action for e in events(sessions, crew.task)] == ["opened"]


def test_a_note_between_the_limit_and_four_times_it_gets_the_friendly_error(
    staff: Staff, crew: Crew
) -> None:
    client = staff(NOON)
    path = link(client, task_id=crew.task, member_id=crew.anna)
    page = client.post(f"{path}/note", data={"note": "x" * MAX_NOTE_CHARS * 4, "lang": "en"})
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert "A note has at most 1,000 characters; this one has 4,000." in page.text


def test_a_language_field_or_query_past_35_characters_is_refused(
    staff: Staff, crew: Crew, sessions: sessionmaker[Session]
) -> None:
    client = staff(NOON)
    path = link(client, task_id=crew.task, member_id=crew.anna)
    assert client.post(f"{path}/note", data={"note": "x", "lang": "e" * 36}).status_code == 422
    assert client.get(path, params={"lang": "e" * 36}).status_code == 422
    assert client.get(path, params={"lang": "e" * 35}).status_code == 200
    assert [e.action for e in events(sessions, crew.task)] == ["opened"]
