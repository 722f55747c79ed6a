"""The tasks API, page and CSV exports: who may see and do what, a manager's sites only, each
action with its history, the figures against a hand-made set of tasks, and the CSV files."""

import csv
import io
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.models import Task, TaskNotification
from hub.tasks import records
from hub.tasks.teams import Role, Route, add_member, add_team
from hub.web import routes_tasks
from tests.hub.factories import NOON, place

Client = Callable[[str | None], TestClient]
ClientAt = Callable[[datetime, str], TestClient]
TARGET = "cleaner@example.org"


def _minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def _task(
    session: Session,
    *,
    team_id: str,
    location_id: str,
    opened: datetime,
    ack: float | None = None,
    done: float | None = None,
    recovery: tuple[tuple[int, int], tuple[int, int], str] | None = None,
) -> int:
    """A task opened by hand at `opened`, acknowledged `ack` and resolved `done` minutes
    later; `recovery`: ((unhappy, total) before, (unhappy, total) after, verdict)."""
    task_id = records.open_by_hand(
        session, team_id=team_id, location_id=location_id, title="Wet floor", by="ana", now=opened
    )
    if ack is not None:
        records.acknowledge(session, task_id=task_id, actor="ben", now=opened + _minutes(ack))
    if done is not None:
        records.resolve(session, task_id=task_id, actor="ben", now=opened + _minutes(done))
    if recovery is not None:
        row = session.get(Task, task_id)
        assert row is not None
        (row.before_unhappy, row.before_total), (row.after_unhappy, row.after_total) = recovery[:2]
        row.recovery = recovery[2]
    return task_id


@pytest.fixture
def tasks(web_app: FastAPI, sessions: sessionmaker[Session]) -> dict[str, int]:
    """Team "cleaning" at hel (the manager's site) with tasks at its gate and washroom, as
    the figures test works them out by hand; team "osl-crew" with one task at osl."""
    with sessions.begin() as session:
        place(session, "hel-gate", parent="hel")
        place(session, "hel-wc", parent="hel")
        for team_id, site in (("cleaning", "hel"), ("osl-crew", "osl")):
            add_team(session, team_id=team_id, name=team_id.title(), location_id=site, now=NOON)
            add_member(
                session,
                team_id=team_id,
                name="Ana",
                route=Route.EMAIL,
                target=TARGET,
                role=Role.MEMBER,
            )
        start = NOON - timedelta(hours=5)
        return {
            "a": _task(
                session,
                team_id="cleaning",
                location_id="hel-gate",
                opened=start,
                ack=5,
                done=30,
                recovery=((6, 10), (1, 10), "recovered"),
            ),
            "b": _task(
                session,
                team_id="cleaning",
                location_id="hel-gate",
                opened=start + timedelta(hours=1),
                ack=20,
                done=90,
                recovery=((5, 10), (5, 10), "not_recovered"),
            ),
            "c": _task(
                session,
                team_id="cleaning",
                location_id="hel-gate",
                opened=start + timedelta(hours=2),
                ack=10,
                done=40,
                recovery=((1, 2), (0, 3), "too_few"),
            ),
            "d": _task(
                session, team_id="cleaning", location_id="hel-wc", opened=NOON - timedelta(hours=2)
            ),
            "osl": _task(session, team_id="osl-crew", location_id="osl", opened=NOON),
        }


def _ids(answer: list[dict[str, Any]]) -> list[int]:
    return [t["id"] for t in answer]


def test_only_signed_in_managers_and_admins_see_or_act(
    client_as: Client, tasks: dict[str, int]
) -> None:
    nobody, tech = client_as(None), client_as("tech")
    token = re.search(r'name="csrf-token" content="([^"]+)"', nobody.get("/login").text)
    assert token
    nobody.headers["X-CSRF-Token"] = token.group(1)  # it is the sign-in that is missing
    for client, status in ((nobody, 401), (tech, 403)):
        assert client.get("/api/tasks").status_code == status
        assert client.get("/api/teams").status_code == status
        assert client.get("/api/tasks/figures").status_code == status
        assert client.get(f"/api/tasks/{tasks['a']}").status_code == status
        assert client.post(f"/api/tasks/{tasks['d']}/acknowledge", json={}).status_code == status
    assert nobody.get("/tasks", follow_redirects=False).status_code == 303
    assert tech.get("/tasks").status_code == 403
    no_csrf = client_as("admin")
    no_csrf.headers.pop("X-CSRF-Token")
    assert no_csrf.post(f"/api/tasks/{tasks['d']}/resolve", json={}).status_code == 403
    with_csrf = client_as("admin")
    assert with_csrf.post(f"/api/tasks/{tasks['d']}/resolve", json={}).status_code == 200


def test_a_manager_sees_and_touches_his_sites_tasks_only(
    client_as: Client, tasks: dict[str, int]
) -> None:
    manager = client_as("manager")
    assert _ids(manager.get("/api/tasks?state=all").json()) == [
        tasks["d"],
        tasks["c"],
        tasks["b"],
        tasks["a"],
    ], "newest first, osl's left out"
    assert manager.get("/api/tasks?location=osl").status_code == 404
    assert manager.get("/api/tasks?location=nowhere").status_code == 404
    assert manager.get(f"/api/tasks/{tasks['osl']}").status_code == 404
    for action, body in (("acknowledge", {}), ("resolve", {}), ("notes", {"note": "x"})):
        answer = manager.post(f"/api/tasks/{tasks['osl']}/{action}", json=body)
        assert answer.status_code == 404, action
    opened = {"team": "osl-crew", "location": "osl", "title": "Spill"}
    assert manager.post("/api/tasks", json=opened).status_code == 404
    assert manager.get("/api/tasks/figures?location=osl").status_code == 404
    assert [t["team"] for t in manager.get("/api/teams").json()] == ["cleaning"]
    admin = client_as("admin")
    assert tasks["osl"] in _ids(admin.get("/api/tasks?state=all").json())
    assert [t["team"] for t in admin.get("/api/teams").json()] == ["cleaning", "osl-crew"]


def test_the_listing_filters_by_state_team_place_and_limit(
    client_as: Client, tasks: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        escalated = records.escalate_overdue(session, now=NOON + timedelta(hours=3))
    assert escalated == [tasks["d"], tasks["osl"]]
    admin = client_as("admin")

    def listed(query: str) -> list[int]:
        answer = admin.get(f"/api/tasks?{query}")
        assert answer.status_code == 200, answer.text
        return _ids(answer.json())

    assert listed("") == [tasks["osl"], tasks["d"]], "unresolved by default"
    assert listed("state=open") == [tasks["osl"], tasks["d"]]
    assert listed("state=acknowledged") == []
    assert listed("state=resolved") == [tasks["c"], tasks["b"], tasks["a"]]
    assert listed("state=escalated") == [tasks["osl"], tasks["d"]]
    assert len(listed("state=all")) == 5
    assert listed("state=all&team=osl-crew") == [tasks["osl"]]
    assert listed("state=all&location=hel-wc") == [tasks["d"]]
    assert listed("state=all&limit=2") == [tasks["osl"], tasks["d"]]
    assert admin.get("/api/tasks?state=lost").status_code == 422
    assert admin.get("/api/tasks?limit=0").status_code == 422
    shown = admin.get("/api/tasks?location=hel-wc").json()[0]
    assert (shown["state"], shown["shown_state"], shown["escalated"]) == (
        "open",
        "escalated",
        True,
    )


def test_a_task_is_opened_by_hand_acknowledged_noted_and_resolved_with_its_history(
    client_at: ClientAt, tasks: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    manager = client_at(NOON, "manager")
    body = {"team": "cleaning", "location": "hel-wc", "title": "Paper towels out"}
    made = manager.post("/api/tasks", json=body)
    assert made.status_code == 201, made.text
    task = made.json()
    assert (task["team_name"], task["location_name"], task["time_zone"]) == (
        "Cleaning",
        "Hel-Wc",
        "Europe/Helsinki",
    )
    assert (task["state"], task["opened_by"], task["alert"]) == ("open", "manager", None)
    assert datetime.fromisoformat(task["ack_due_at"]) == NOON + timedelta(minutes=15)
    assert datetime.fromisoformat(task["resolve_due_at"]) == NOON + timedelta(minutes=60)
    task_id = task["id"]
    with sessions() as session:
        notices = session.scalars(
            select(TaskNotification.reason).where(TaskNotification.task_id == task_id)
        ).all()
        assert notices == ["opened"], "the team's member is notified"

    later = client_at(NOON + timedelta(minutes=7), "manager")
    acked = later.post(f"/api/tasks/{task_id}/acknowledge", json={"note": "on my way"}).json()
    assert (acked["state"], acked["acknowledged_by"]) == ("acknowledged", "manager")
    assert datetime.fromisoformat(acked["acknowledged_at"]) == NOON + timedelta(minutes=7)
    noted = later.post(f"/api/tasks/{task_id}/notes", json={"note": "trolley fetched"})
    assert noted.status_code == 200
    done = client_at(NOON + timedelta(minutes=25), "admin")
    resolved = done.post(f"/api/tasks/{task_id}/resolve", json={"note": "refilled"}).json()
    assert (resolved["state"], resolved["resolved_by"], resolved["overdue"]) == (
        "resolved",
        "admin",
        False,
    )
    history = [(h["actor"], h["action"], h["note"]) for h in resolved["history"]]
    assert history == [
        ("manager", "opened", ""),
        ("manager", "acknowledged", "on my way"),
        ("manager", "note", "trolley fetched"),
        ("admin", "resolved", "refilled"),
    ]
    assert manager.get(f"/api/tasks/{task_id}").json()["history"] == resolved["history"]
    assert resolved["history_total"] == 4
    again = done.post(f"/api/tasks/{task_id}/resolve", json={})
    assert again.status_code == 200 and len(again.json()["history"]) == 4, "a double tap"
    refused = done.post(f"/api/tasks/{task_id}/acknowledge", json={})
    assert refused.status_code == 400
    assert refused.json()["detail"] == f"task {task_id} is resolved already"


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"team": "nobody", "location": "hel", "title": "x"}, 404, "no team 'nobody'"),
        ({"team": "cleaning", "location": "osl", "title": "x"}, 404, "no location 'osl'"),
        ({"team": "cleaning", "location": "hel", "title": "a\u202eb"}, 400, "control character"),
        ({"team": "cleaning", "location": "hel", "title": "   "}, 400, "needs a title"),
        ({"team": "cleaning", "location": "hel", "title": ""}, 422, ""),
        ({"team": "cleaning", "location": "hel", "title": "x" * 301}, 422, ""),
        ({"team": "Bad Team!", "location": "hel", "title": "x"}, 422, ""),
        ({"team": "cleaning", "location": "hel", "title": "x", "extra": 1}, 422, ""),
    ],
)
def test_a_task_a_manager_cannot_open_is_refused_with_the_reason(
    client_as: Client, tasks: dict[str, int], body: dict[str, Any], status: int, detail: str
) -> None:
    answer = client_as("manager").post("/api/tasks", json=body)
    assert answer.status_code == status, answer.text
    assert detail in str(answer.json()["detail"])


def test_a_team_opens_no_task_at_a_place_it_does_not_look_after(
    client_as: Client, web_app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        place(session, "hel-gate", parent="hel")
        place(session, "hel-wc", parent="hel")
        add_team(session, team_id="gate", name="Gate", location_id="hel-gate", now=NOON)
    body = {"team": "gate", "location": "hel-wc", "title": "Spill"}
    answer = client_as("manager").post("/api/tasks", json=body)
    assert answer.status_code == 400
    assert answer.json()["detail"] == "team 'gate' does not look after 'hel-wc'"


def test_notes_are_checked(client_as: Client, tasks: dict[str, int]) -> None:
    manager = client_as("manager")
    path = f"/api/tasks/{tasks['d']}/notes"
    assert manager.post(path, json={"note": ""}).status_code == 422
    assert manager.post(path, json={"note": "y" * 1001}).status_code == 422
    blank = manager.post(path, json={"note": "   "})
    assert (blank.status_code, blank.json()["detail"]) == (400, "a note needs some text")
    assert manager.post(path, json={"note": "bad\x00"}).status_code == 400
    assert manager.get(f"/api/tasks/{tasks['d']}").json()["history"][-1]["action"] == "opened"
    assert manager.post("/api/tasks/999999/notes", json={"note": "x"}).status_code == 404
    assert manager.get("/api/tasks/0").status_code == 422


def test_a_measured_task_shows_its_shares_before_and_after_with_the_change(
    client_as: Client, tasks: dict[str, int]
) -> None:
    task = client_as("manager").get(f"/api/tasks/{tasks['a']}").json()
    assert task["before"] == {"unhappy": 6, "total": 10, "share": 0.6}
    assert task["after"] == {"unhappy": 1, "total": 10, "share": 0.1}
    assert task["recovery"] == "recovered"
    change = task["change"]
    assert change["difference"] == pytest.approx(-0.5)
    assert change["low"] < change["difference"] < change["high"] < 0
    unmeasured = client_as("manager").get(f"/api/tasks/{tasks['d']}").json()
    assert (unmeasured["before"], unmeasured["change"], unmeasured["recovery"]) == (
        None,
        None,
        None,
    )


def test_teams_show_members_by_name_and_route_never_their_address(
    client_as: Client, tasks: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        add_team(
            session,
            team_id="night",
            name="Night shift",
            location_id="hel-gate",
            now=NOON,
            working_hours="22:00-06:00",
            ack_minutes=5,
            resolve_minutes=30,
        )
    for who in ("manager", "admin"):
        answer = client_as(who).get("/api/teams")
        assert TARGET not in answer.text
        teams = {t["team"]: t for t in answer.json()}
        assert teams["cleaning"]["members"] == [{"name": "Ana", "role": "member", "route": "email"}]
        assert teams["cleaning"]["places"] == ["hel", "hel-gate", "hel-wc"]
        night = teams["night"]
        assert (night["working_hours"], night["ack_minutes"], night["resolve_minutes"]) == (
            "22:00-06:00",
            5,
            30,
        )
        assert (night["location_name"], night["places"], night["rules"]) == (
            "Hel-Gate",
            ["hel-gate"],
            [],
        )


def test_the_figures_are_those_worked_out_by_hand(
    client_at: ClientAt, tasks: dict[str, int]
) -> None:
    """cleaning at hel-gate: acknowledged after 5, 20 and 10 minutes (target 15), resolved
    after 30, 90 and 40 (target 60); recovered, not recovered, too few. At hel-wc one task
    never acknowledged, both its targets passed by noon."""
    answer = client_at(NOON, "manager").get("/api/tasks/figures?days=7")
    assert answer.status_code == 200, answer.text
    figures = answer.json()
    assert datetime.fromisoformat(figures["period"]["until"]) == NOON
    rows = {row["location"]: row for row in figures["rows"]}
    assert [row["location"] for row in figures["rows"]] == ["hel-gate", "hel-wc", None]
    gate, total = rows["hel-gate"], rows[None]
    assert {k: gate[k] for k in ("team", "location_name", "tasks", "acknowledged", "resolved")} == {
        "team": "cleaning",
        "location_name": "Hel-Gate",
        "tasks": 3,
        "acknowledged": 3,
        "resolved": 3,
    }
    assert (gate["ack_median_min"], gate["ack_p90_min"]) == (10, 20)
    assert (gate["resolve_median_min"], gate["resolve_p90_min"]) == (40, 90)
    assert gate["ack_in_time"] == pytest.approx(2 / 3)
    assert gate["resolve_in_time"] == pytest.approx(2 / 3)
    assert (gate["recovered"], gate["not_recovered"], gate["too_few"]) == (1, 1, 1)
    assert gate["recovered_share"] == 0.5
    assert (total["tasks"], total["acknowledged"], total["resolved"]) == (4, 3, 3)
    assert (total["ack_median_min"], total["ack_p90_min"]) == (10, 20)
    assert (total["ack_in_time"], total["resolve_in_time"]) == (0.5, 0.5)
    assert rows["hel-wc"]["ack_median_min"] is None
    assert rows["hel-wc"]["ack_in_time"] == 0
    only_wc = client_at(NOON, "manager").get("/api/tasks/figures?location=hel-wc").json()
    assert [(r["location"], r["tasks"]) for r in only_wc["rows"]] == [("hel-wc", 1), (None, 1)]
    earlier = client_at(NOON, "manager").get(
        "/api/tasks/figures",
        params={"since": (NOON - timedelta(hours=3)).isoformat(), "until": NOON.isoformat()},
    )
    assert [(r["location"], r["tasks"]) for r in earlier.json()["rows"]] == [
        ("hel-gate", 1),
        ("hel-wc", 1),
        (None, 2),
    ]


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_tasks_csv_has_a_row_per_task_with_its_times_and_recovery(
    client_at: ClientAt, tasks: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        _task(
            session,
            team_id="cleaning",
            location_id="hel-wc",
            opened=NOON - timedelta(hours=1),
        )
        row = session.get(Task, tasks["d"])
        assert row is not None
        row.title = '=HYPERLINK("http://evil")'
    manager = client_at(NOON, "manager")
    answer = manager.get("/api/exports/tasks.csv", params={"days": 7})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == (
        'attachment; filename="seed-tasks-all-2026-11-16-2026-11-23.csv"'
    )
    rows = _rows(answer.text)
    assert [int(r["task_id"]) for r in rows[:4]] == [tasks["a"], tasks["b"], tasks["c"], tasks["d"]]
    assert {r["location_id"] for r in rows} == {"hel-gate", "hel-wc"}, "osl's left out"
    first = rows[0]
    assert (first["opened_at_utc"], first["opened_at_local"]) == (
        "2026-11-23T07:00:00Z",
        "2026-11-23T09:00:00+02:00",
    )
    assert (first["minutes_to_acknowledge"], first["minutes_to_resolve"]) == ("5.0", "30.0")
    assert (first["acknowledged_by"], first["resolved_by"], first["state"]) == (
        "ben",
        "ben",
        "resolved",
    )
    assert (first["before_unhappy"], first["before_total"], first["before_share"]) == (
        "6",
        "10",
        "0.6",
    )
    assert (first["after_share"], first["change"], first["recovery"]) == (
        "0.1",
        "-0.5",
        "recovered",
    )
    assert float(first["change_ci_low"]) < -0.5 < float(first["change_ci_high"]) < 0
    fourth = rows[3]
    assert fourth["title"] == '\'=HYPERLINK("http://evil")', "a formula is written as text"
    assert (fourth["acknowledged_at_utc"], fourth["recovery"], fourth["before_total"]) == (
        "",
        "",
        "",
    )
    assert manager.get("/api/exports/tasks.csv?location=osl").status_code == 404


def test_the_figures_csv_adds_up_as_the_api_does(
    client_at: ClientAt, tasks: dict[str, int]
) -> None:
    manager = client_at(NOON, "manager")
    answer = manager.get("/api/exports/task-figures.csv", params={"location": "hel"})
    assert answer.status_code == 200
    assert "seed-task-figures-hel-" in answer.headers["content-disposition"]
    rows = _rows(answer.text)
    assert [(r["team_id"], r["location_id"], r["tasks"]) for r in rows] == [
        ("cleaning", "hel-gate", "3"),
        ("cleaning", "hel-wc", "1"),
        ("cleaning", "", "4"),
    ]
    gate = rows[0]
    assert (gate["ack_median_min"], gate["ack_p90_min"], gate["resolve_p90_min"]) == (
        "10.0",
        "20.0",
        "90.0",
    )
    assert (gate["ack_in_time_share"], gate["recovered_share"]) == ("0.6667", "0.5")
    assert rows[1]["ack_median_min"] == "" and rows[1]["ack_in_time_share"] == "0.0"
    assert gate["until_utc"] == "2026-11-23T12:00:00Z"
    assert manager.get("/api/exports/task-figures.csv?location=osl").status_code == 404


@pytest.mark.parametrize("route", ["/api/exports/tasks.csv", "/api/exports/task-figures.csv"])
@pytest.mark.parametrize(("who", "status"), [(None, 401), ("tech", 403)])
def test_only_managers_and_admins_export_tasks(
    client_as: Client, route: str, who: str | None, status: int
) -> None:
    assert client_as(who).get(route).status_code == status


def test_the_tasks_page_is_the_managers(client_as: Client) -> None:
    page = client_as("manager").get("/tasks")
    assert page.status_code == 200
    assert '<script src="/static/tasks.js" defer></script>' in page.text
    assert 'href="/tasks" aria-current="page"' in page.text


def test_a_task_shows_its_latest_history_with_the_count_of_all(
    client_as: Client,
    tasks: dict[str, int],
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert routes_tasks.HISTORY_SHOWN == 200
    monkeypatch.setattr(routes_tasks, "HISTORY_SHOWN", 3)
    with sessions.begin() as session:
        for n in range(1, 6):
            records.add_note(session, task_id=tasks["d"], actor="ana", now=NOON, note=f"n{n}")
    task = client_as("manager").get(f"/api/tasks/{tasks['d']}").json()
    assert [h["note"] for h in task["history"]] == ["n3", "n4", "n5"]
    assert task["history_total"] == 6


def test_a_full_history_and_a_team_at_its_limit_are_refused_with_the_reason(
    client_as: Client, tasks: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "MAX_EVENTS_PER_TASK", 2)
    monkeypatch.setattr(records, "MAX_OPEN_TASKS_PER_TEAM", 1)
    manager = client_as("manager")
    path = f"/api/tasks/{tasks['d']}"
    assert manager.post(f"{path}/notes", json={"note": "one"}).status_code == 200
    full = manager.post(f"{path}/notes", json={"note": "two"})
    assert (full.status_code, full.json()["detail"]) == (
        400,
        f"task {tasks['d']} has 2 entries in its history; it takes no more notes",
    )
    assert manager.post(f"{path}/acknowledge", json={"note": "coming"}).status_code == 200
    assert manager.post(f"{path}/acknowledge", json={"note": "again"}).status_code == 400
    assert manager.get(path).json()["history_total"] == 3
    body = {"team": "cleaning", "location": "hel-wc", "title": "Spill"}
    refused = manager.post("/api/tasks", json=body)
    assert (refused.status_code, refused.json()["detail"]) == (
        400,
        "team 'cleaning' has 1 unresolved tasks; resolve some first",
    )
    assert manager.post(f"{path}/resolve", json={}).status_code == 200
    assert manager.post("/api/tasks", json=body).status_code == 201
