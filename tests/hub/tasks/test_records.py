"""A task's life over a real database: opened or joined by alerts, acknowledged, resolved,
noted and escalated, with its history and the notifications it queues."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.alerts.engine import AlertEngine
from hub.alerts.records import open_alert
from hub.alerts.rules import Rule, RuleKind
from hub.hierarchy import LocationTree
from hub.models import Alert, AlertRule, Task, TaskNotification
from hub.tasks import records
from hub.tasks.records import (
    DEFAULT_WINDOW_MIN,
    MAX_EVENTS_PER_TASK,
    MAX_NOTE_CHARS,
    MAX_OPEN_TASKS_PER_TEAM,
    HistoryFullError,
    TaskError,
    acknowledge,
    add_note,
    escalate_overdue,
    history,
    history_length,
    list_tasks,
    open_by_hand,
    open_for_alert,
    resolve,
    task_view,
)
from hub.tasks.teams import Role, Route, add_member, team_view
from protocol.messages import Button
from tests.hub.alerts.conftest import Presser
from tests.hub.factories import NOON
from tests.hub.tasks.conftest import TeamMaker

MIN = timedelta(minutes=1)
U, VU, H = Button.UNHAPPY, Button.VERY_UNHAPPY, Button.HAPPY
MAIL = (Route.EMAIL, "cleaner@example.org")
HOOK = (Route.WEBHOOK, "http://127.0.0.1:9/boss")

Fire = Callable[..., list[int]]


@pytest.fixture
def fire(places: sessionmaker[Session]) -> Fire:
    """fire(rule_id, at=..., location_id=..., subject=...) -> the tasks its alert opened or
    joined, as the alert engine opens them."""

    def open_one(
        rule_id: int, *, at: datetime = NOON, location_id: str = "gate-a", subject: str = ""
    ) -> list[int]:
        with places.begin() as session:
            row = session.get(AlertRule, rule_id)
            assert row is not None
            rule = Rule.from_row(row)
            alert = open_alert(
                session,
                rule=rule,
                subject=subject or location_id,
                location_id=location_id,
                message=f"alert of rule {rule_id} at {location_id}",
                now=at,
                channels=[],
            )
            tree = LocationTree.load(session)
            return open_for_alert(session, alert=alert, rule=rule, tree=tree, now=at)

    return open_one


def notices(places: sessionmaker[Session], task_id: int) -> list[tuple[str, str]]:
    """(member name, reason) of the task's queued notifications."""
    with places() as session:
        team = task_view(session, task_id=task_id).team_id
        names = {m.id: m.name for m in team_view(session, team_id=team).members}
        rows = session.execute(
            select(TaskNotification.member_id, TaskNotification.reason)
            .where(TaskNotification.task_id == task_id)
            .order_by(TaskNotification.created_at, TaskNotification.member_id)
        )
        return [(names.get(member, str(member)), reason) for member, reason in rows]


def actions(places: sessionmaker[Session], task_id: int) -> list[tuple[str, str, str]]:
    with places() as session:
        return [(e.action, e.actor, e.note) for e in history(session, task_id=task_id)]


def test_an_alert_opens_a_task_for_each_responsible_team_with_what_travellers_said(
    places: sessionmaker[Session],
    presses: Presser,
    teams: TeamMaker,
    make_rule: Callable[..., int],
    fire: Fire,
) -> None:
    rule = make_rule(RuleKind.NEGATIVE_SHARE, 50, 15, min_responses=4)
    teams("cleaning", members=[MAIL, MAIL], escalation=[HOOK], ack_minutes=10)
    teams("security", members=[MAIL])
    teams("airport", location_id="hel", members=[MAIL])  # farther away: not this one
    presses([U, VU, U, H], at=[NOON - 14 * MIN, NOON - 9 * MIN, NOON - 2 * MIN, NOON - MIN])
    presses([U], at=[NOON - 20 * MIN])  # before the window
    presses([U, U], at=[NOON - MIN, NOON - MIN], misuse=True)
    first, second = fire(rule)
    with places() as session:
        cleaning, security = (task_view(session, task_id=i) for i in (first, second))
    assert (cleaning.team_id, security.team_id) == ("cleaning", "security")
    assert cleaning.title == f"alert of rule {rule} at gate-a"
    assert (cleaning.negative_share, cleaning.responses, cleaning.window_min) == (0.75, 4, 15)
    assert (cleaning.state, cleaning.shown_state, cleaning.opened_by) == ("open", "open", "hub")
    assert cleaning.alert_id is not None and cleaning.device_id is None
    assert (cleaning.location_name, cleaning.time_zone) == ("GATE-A", "Europe/Helsinki")
    assert cleaning.ack_due_at == NOON + 10 * MIN
    assert cleaning.resolve_due_at == NOON + 60 * MIN
    assert notices(places, first) == [("Member 1", "opened"), ("Member 2", "opened")]
    assert notices(places, second) == [("Member 1", "opened")]
    assert actions(places, first) == [("opened", "hub", "")]


def test_a_later_alert_at_the_place_joins_its_open_task(
    places: sessionmaker[Session], teams: TeamMaker, make_rule: Callable[..., int], fire: Fire
) -> None:
    share = make_rule(RuleKind.NEGATIVE_SHARE, 50, 15)
    index = make_rule(RuleKind.HAPPY_INDEX, 60, 30)
    teams(members=[MAIL])
    [task] = fire(share)
    assert fire(index, at=NOON + 5 * MIN) == [task]
    [elsewhere] = fire(share, location_id="gate-b", at=NOON + 6 * MIN)
    assert elsewhere != task
    with places() as session:
        joined = history(session, task_id=task)
        alerts = session.scalars(select(Alert.id).order_by(Alert.id)).all()
        assert len(session.scalars(select(Task.id)).all()) == 2
    assert [(e.action, e.at, e.alert_id) for e in joined] == [
        ("opened", NOON, alerts[0]),
        ("joined", NOON + 5 * MIN, alerts[1]),
    ]
    assert joined[1].note == f"alert of rule {index} at gate-a"
    assert notices(places, task) == [("Member 1", "opened")]  # not a second time
    with places.begin() as session:
        resolve(session, task_id=task, actor="ann", now=NOON + 20 * MIN)
    [again] = fire(share, at=NOON + 40 * MIN)
    assert again not in (task, elsewhere)  # a resolved task is not joined


def test_a_device_alert_names_its_kiosk_and_compares_an_hour(
    places: sessionmaker[Session], teams: TeamMaker, make_rule: Callable[..., int], fire: Fire
) -> None:
    offline = make_rule(RuleKind.DEVICE_OFFLINE, 10)
    teams(members=[MAIL])
    [task] = fire(offline, subject="k1")
    with places() as session:
        view = task_view(session, task_id=task)
    assert (view.device_id, view.window_min) == ("k1", DEFAULT_WINDOW_MIN)
    assert (view.negative_share, view.responses) == (None, 0)


def test_no_responsible_team_no_task(
    places: sessionmaker[Session], teams: TeamMaker, make_rule: Callable[..., int], fire: Fire
) -> None:
    rule = make_rule(RuleKind.NEGATIVE_SHARE, 50)
    teams(location_id="gate-b", members=[MAIL])
    assert fire(rule) == []


def test_the_alert_engine_opens_the_task(
    places: sessionmaker[Session],
    presses: Presser,
    teams: TeamMaker,
    make_rule: Callable[..., int],
    engine_for: Callable[..., AlertEngine],
) -> None:
    make_rule(RuleKind.NEGATIVE_SHARE, 50, 15, min_responses=4)
    teams(members=[MAIL])
    presses([U, U, U, H], at=[NOON - 4 * MIN, NOON - 3 * MIN, NOON - 2 * MIN, NOON - MIN])
    assert len(engine_for().evaluate(NOON)) == 1
    with places() as session:
        [task] = list_tasks(session)
    assert (task.location_id, task.negative_share, task.responses) == ("gate-a", 0.75, 4)
    assert task.title.startswith("75 % negative of 4 in the last 15 min")


def test_the_first_acknowledgement_counts_and_a_later_one_adds_its_note(
    places: sessionmaker[Session], teams: TeamMaker
) -> None:
    teams(members=[MAIL])
    with places.begin() as session:
        task = open_by_hand(
            session, team_id="cleaning", location_id="gate-a", title="Bin", by="max", now=NOON
        )
        first = acknowledge(session, task_id=task, actor="ann", now=NOON + MIN, note="On my way")
        later = acknowledge(session, task_id=task, actor="bob", now=NOON + 2 * MIN, note="Me too")
        acknowledge(session, task_id=task, actor="bob", now=NOON + 3 * MIN)  # nothing to add
    assert (first.state, first.acknowledged_at, first.acknowledged_by) == (
        "acknowledged",
        NOON + MIN,
        "ann",
    )
    assert (later.acknowledged_at, later.acknowledged_by) == (NOON + MIN, "ann")
    assert actions(places, task) == [
        ("opened", "max", ""),
        ("acknowledged", "ann", "On my way"),
        ("note", "bob", "Me too"),
    ]


def test_resolving_acknowledges_a_skipped_acknowledgement_and_twice_changes_nothing(
    places: sessionmaker[Session], teams: TeamMaker
) -> None:
    teams(members=[MAIL])
    with places.begin() as session:
        task = open_by_hand(
            session, team_id="cleaning", location_id="gate-a", title="Bin", by="max", now=NOON
        )
        done = resolve(session, task_id=task, actor="ann", now=NOON + 7 * MIN, note="Emptied")
        again = resolve(session, task_id=task, actor="bob", now=NOON + 8 * MIN, note="Done")
        with pytest.raises(TaskError, match="resolved already"):
            acknowledge(session, task_id=task, actor="bob", now=NOON + 9 * MIN)
    assert done == again
    assert (done.state, done.resolved_at, done.resolved_by) == ("resolved", NOON + 7 * MIN, "ann")
    assert (done.acknowledged_at, done.acknowledged_by) == (NOON + 7 * MIN, "ann")
    assert actions(places, task) == [("opened", "max", ""), ("resolved", "ann", "Emptied")]


def test_notes_are_bounded_and_printable(places: sessionmaker[Session], teams: TeamMaker) -> None:
    teams(members=[MAIL])
    with places.begin() as session:
        task = open_by_hand(
            session, team_id="cleaning", location_id="gate-a", title="Bin", by="max", now=NOON
        )
        add_note(session, task_id=task, actor="ann", now=NOON, note="x" * MAX_NOTE_CHARS)
        add_note(session, task_id=task, actor="ann", now=NOON, note=" Soap\r\nrefilled \n")
        for note, refusal in (
            ("x" * (MAX_NOTE_CHARS + 1), "at most 1000"),
            ("   ", "some text"),
            ("red \x1b[31m", "U\\+001B"),
            ("Soap \u202erefilled", "U\\+202E"),
            ("nul \x00", "U\\+0000"),
        ):
            with pytest.raises(TaskError, match=refusal):
                add_note(session, task_id=task, actor="ann", now=NOON, note=note)
        with pytest.raises(TaskError, match="no task 999"):
            add_note(session, task_id=999, actor="ann", now=NOON, note="hello")
    notes = [note for action, _, note in actions(places, task) if action == "note"]
    assert notes == ["x" * MAX_NOTE_CHARS, "Soap refilled"]


def test_a_refused_note_changes_nothing(places: sessionmaker[Session], teams: TeamMaker) -> None:
    teams(members=[MAIL])
    with places.begin() as session:
        task = open_by_hand(
            session, team_id="cleaning", location_id="gate-a", title="Bin", by="max", now=NOON
        )
    with places.begin() as session:
        # the page may show the refusal and go on in the same session
        for act in (acknowledge, resolve):
            with pytest.raises(TaskError):
                act(session, task_id=task, actor="ann", now=NOON + MIN, note="\x07")
        view = task_view(session, task_id=task)
    assert (view.state, view.acknowledged_at, view.resolved_at) == ("open", None, None)
    assert actions(places, task) == [("opened", "max", "")]


def test_a_long_name_acting_by_link_is_stored(
    places: sessionmaker[Session], teams: TeamMaker
) -> None:
    teams(members=[MAIL])
    actor = "N" * 200 + " (by link)"
    with places.begin() as session:
        task = open_by_hand(
            session, team_id="cleaning", location_id="gate-a", title="Bin", by=actor, now=NOON
        )
        acknowledge(session, task_id=task, actor=actor, now=NOON)
        resolve(session, task_id=task, actor=actor, now=NOON)
    with places() as session:
        view = task_view(session, task_id=task)
    assert view.opened_by == view.acknowledged_by == view.resolved_by == "N" * 200


def test_escalation_comes_once_after_the_due_time_to_the_escalation_contacts(
    places: sessionmaker[Session], teams: TeamMaker
) -> None:
    teams(members=[MAIL], escalation=[HOOK, HOOK], ack_minutes=15, resolve_minutes=60)
    with places.begin() as session:
        task = open_by_hand(
            session, team_id="cleaning", location_id="gate-a", title="Bin", by="max", now=NOON
        )
    for moment in (NOON + 14 * MIN, NOON + 15 * MIN):  # acknowledging at 15 min is in time
        with places.begin() as session:
            assert escalate_overdue(session, now=moment) == []
    with places.begin() as session:
        assert escalate_overdue(session, now=NOON + 15 * MIN + timedelta(seconds=1)) == [task]
        assert escalate_overdue(session, now=NOON + 2 * 60 * MIN) == []  # once
        view = task_view(session, task_id=task)
        [*_, last] = history(session, task_id=task)
    assert (view.escalated, view.shown_state, view.state) == (True, "escalated", "open")
    assert (last.action, last.note) == ("escalated", "nobody managed to acknowledge in time")
    assert last.missed == "acknowledge"  # what a page says instead of quoting the note
    assert notices(places, task) == [
        ("Member 1", "opened"),
        ("Escalation 1", "escalated"),
        ("Escalation 2", "escalated"),
    ]
    with places.begin() as session:
        done = resolve(session, task_id=task, actor="ann", now=NOON + 3 * 60 * MIN)
    assert (done.escalated, done.shown_state) == (True, "resolved")


def test_an_acknowledged_task_escalates_when_it_is_not_resolved_in_time(
    places: sessionmaker[Session], teams: TeamMaker
) -> None:
    teams(members=[MAIL], ack_minutes=15, resolve_minutes=60)  # no escalation contact
    with places.begin() as session:
        late = open_by_hand(
            session, team_id="cleaning", location_id="gate-a", title="Bin", by="max", now=NOON
        )
        done = open_by_hand(
            session, team_id="cleaning", location_id="gate-b", title="Mop", by="max", now=NOON
        )
        acknowledge(session, task_id=late, actor="ann", now=NOON + 5 * MIN)
        resolve(session, task_id=done, actor="ann", now=NOON + 5 * MIN)
    with places.begin() as session:
        assert escalate_overdue(session, now=NOON + 59 * MIN) == []
        assert escalate_overdue(session, now=NOON + 61 * MIN) == [late]
        [*_, last] = history(session, task_id=late)
    assert (last.note, last.missed) == ("nobody managed to resolve in time", "resolve")
    # a team without an escalation contact hears of its own escalations
    assert notices(places, late) == [("Member 1", "opened"), ("Member 1", "escalated")]


@pytest.mark.parametrize(
    ("hours", "at", "told"),
    [
        ("08:00-16:00", NOON, "Member 1"),  # 14:00 in Helsinki
        ("08:00-16:00", NOON + 6 * 60 * MIN, "Escalation 1"),  # 20:00
        ("08:00-16:00", NOON + 2 * 60 * MIN, "Escalation 1"),  # 16:00: the shift is over
        ("22:00-06:00", NOON + 10 * 60 * MIN, "Member 1"),  # midnight on the night shift
        ("22:00-06:00", NOON, "Escalation 1"),
    ],
)
def test_outside_working_hours_the_escalation_contacts_hear_of_a_new_task(
    places: sessionmaker[Session], teams: TeamMaker, hours: str, at: datetime, told: str
) -> None:
    teams(members=[MAIL], escalation=[HOOK], working_hours=hours)
    with places.begin() as session:
        task = open_by_hand(
            session, team_id="cleaning", location_id="gate-a", title="Bin", by="max", now=at
        )
    assert notices(places, task) == [(told, "opened")]


def test_a_task_by_hand_is_for_a_place_the_team_looks_after(
    places: sessionmaker[Session], teams: TeamMaker
) -> None:
    teams("gate-b-staff", location_id="gate-b", members=[MAIL])
    with places.begin() as session:
        task = open_by_hand(
            session,
            team_id="gate-b-staff",
            location_id="gate-b",
            title="  Queue\nbuilding ",
            by="max",
            now=NOON,
            window_min=30,
        )
        view = task_view(session, task_id=task)
        for place, refusal in (
            ("gate-a", "does not look after"),
            ("t2", "does not look after"),
            ("nowhere", "no location"),
        ):
            with pytest.raises(TaskError, match=refusal):
                open_by_hand(
                    session,
                    team_id="gate-b-staff",
                    location_id=place,
                    title="x",
                    by="max",
                    now=NOON,
                )
        for title, window, refusal in (
            (" ", 60, "needs a title"),
            ("x" * 301, 60, "at most 300"),
            ("a\tb", 60, "U\\+0009"),
            ("Bin", 0, "1 to"),
            ("Bin", 7 * 24 * 60 + 1, "1 to"),
        ):
            with pytest.raises(TaskError, match=refusal):
                open_by_hand(
                    session,
                    team_id="gate-b-staff",
                    location_id="gate-b",
                    title=title,
                    by="max",
                    now=NOON,
                    window_min=window,
                )
    assert (view.title, view.window_min, view.alert_id) == ("Queue building", 30, None)
    assert (view.opened_by, view.responses, view.negative_share) == ("max", 0, None)


def test_at_most_max_open_tasks_are_unresolved(
    places: sessionmaker[Session],
    teams: TeamMaker,
    make_rule: Callable[..., int],
    fire: Fire,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(records, "MAX_OPEN_TASKS", 2)
    rule = make_rule(RuleKind.NEGATIVE_SHARE, 50)
    teams(members=[MAIL])
    with places.begin() as session:
        first = open_by_hand(
            session, team_id="cleaning", location_id="gate-a", title="Bin", by="max", now=NOON
        )
        open_by_hand(
            session, team_id="cleaning", location_id="gate-b", title="Mop", by="max", now=NOON
        )
        with pytest.raises(TaskError, match="2 tasks are unresolved"):
            open_by_hand(
                session, team_id="cleaning", location_id="t2", title="Q", by="max", now=NOON
            )
    with caplog.at_level(logging.WARNING, logger="hub.tasks.records"):
        assert fire(rule, location_id="t2") == []  # the alert fires, no task opens
    [warning] = caplog.records
    assert warning.getMessage().endswith("opens no task for team cleaning: 2 tasks are unresolved")
    assert fire(rule, location_id="gate-a", at=NOON + MIN) == [first]  # joining still works
    with places.begin() as session:
        resolve(session, task_id=first, actor="ann", now=NOON + 2 * MIN)
    assert len(fire(rule, location_id="t2", at=NOON + 3 * MIN)) == 1


def test_tasks_are_listed_newest_first_by_state_team_and_place(
    places: sessionmaker[Session], teams: TeamMaker
) -> None:
    teams("cleaning", members=[MAIL])
    teams("security", members=[MAIL], ack_minutes=5, resolve_minutes=5)
    with places.begin() as session:

        def opened(team: str, place: str, minute: int) -> int:
            return open_by_hand(
                session, team_id=team, location_id=place, title="x", by="m", now=NOON + minute * MIN
            )

        a = opened("cleaning", "gate-a", 0)
        b = opened("cleaning", "gate-b", 1)
        c = opened("security", "gate-a", 2)
        d = opened("security", "gate-b", 3)
        acknowledge(session, task_id=b, actor="ann", now=NOON + 4 * MIN)
        resolve(session, task_id=a, actor="ann", now=NOON + 4 * MIN)
        assert escalate_overdue(session, now=NOON + 9 * MIN) == [c, d]

        def listed(**kwargs: object) -> list[int]:
            return [t.id for t in list_tasks(session, **kwargs)]  # type: ignore[arg-type]

        assert listed() == [d, c, b]
        assert listed(listing="all") == [d, c, b, a]
        assert listed(listing="open") == [d, c]
        assert listed(listing="acknowledged") == [b]
        assert listed(listing="resolved") == [a]
        assert listed(listing="escalated") == [d, c]
        assert listed(listing="all", team_id="cleaning") == [b, a]
        assert listed(listing="all", within={"gate-a"}) == [c, a]
        assert listed(listing="all", since=NOON + 2 * MIN) == [d, c]
        assert listed(listing="all", limit=1) == [d]


def test_history_is_in_the_order_things_happened(
    places: sessionmaker[Session], teams: TeamMaker, make_rule: Callable[..., int], fire: Fire
) -> None:
    rule = make_rule(RuleKind.NEGATIVE_SHARE, 50)
    teams(members=[MAIL], ack_minutes=5, resolve_minutes=10)
    [task] = fire(rule)
    fire(rule, at=NOON + MIN)
    with places.begin() as session:
        add_note(session, task_id=task, actor="max", now=NOON + 2 * MIN, note="Busy hour")
        escalate_overdue(session, now=NOON + 6 * MIN)
        acknowledge(session, task_id=task, actor="ann", now=NOON + 7 * MIN)
        resolve(session, task_id=task, actor="ann", now=NOON + 8 * MIN, note="Cleaned")
        add_note(session, task_id=task, actor="max", now=NOON + 9 * MIN, note="Thanks")
        entries = history(session, task_id=task)
    assert [(e.action, e.actor, e.at - NOON) for e in entries] == [
        ("opened", "hub", 0 * MIN),
        ("joined", "hub", 1 * MIN),
        ("note", "max", 2 * MIN),
        ("escalated", "hub", 6 * MIN),
        ("acknowledged", "ann", 7 * MIN),
        ("resolved", "ann", 8 * MIN),
        ("note", "max", 9 * MIN),
    ]


def test_a_member_added_later_hears_of_escalations_only(
    places: sessionmaker[Session], teams: TeamMaker
) -> None:
    teams(members=[MAIL], ack_minutes=5)
    with places.begin() as session:
        task = open_by_hand(
            session, team_id="cleaning", location_id="gate-a", title="Bin", by="max", now=NOON
        )
        add_member(
            session,
            team_id="cleaning",
            name="Boss",
            route=HOOK[0],
            target=HOOK[1],
            role=Role.ESCALATION,
        )
        escalate_overdue(session, now=NOON + 6 * MIN)
    assert notices(places, task) == [("Member 1", "opened"), ("Boss", "escalated")]


def test_one_team_at_its_limit_leaves_the_other_teams_theirs(
    places: sessionmaker[Session],
    teams: TeamMaker,
    make_rule: Callable[..., int],
    fire: Fire,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert MAX_OPEN_TASKS_PER_TEAM == 500
    monkeypatch.setattr(records, "MAX_OPEN_TASKS_PER_TEAM", 2)
    rule = make_rule(RuleKind.NEGATIVE_SHARE, 50)
    teams("cleaning", members=[MAIL])
    teams("security", members=[MAIL])
    with places.begin() as session:
        first, _ = (
            open_by_hand(
                session, team_id="cleaning", location_id=place, title="Bin", by="max", now=NOON
            )
            for place in ("gate-a", "gate-b")
        )
        with pytest.raises(TaskError, match="team 'cleaning' has 2 unresolved tasks"):
            open_by_hand(
                session, team_id="cleaning", location_id="t2", title="Q", by="max", now=NOON
            )
        security = open_by_hand(
            session, team_id="security", location_id="t2", title="Q", by="max", now=NOON
        )
    with caplog.at_level(logging.WARNING, logger="hub.tasks.records"):
        # at gate-a cleaning joins its task; at t2 security joins its own, cleaning opens none
        assert fire(rule, location_id="gate-a", at=NOON + MIN)[0] == first
        assert fire(rule, location_id="t2", at=NOON + MIN) == [security]
    [warning] = caplog.records
    assert "at t2 opens no task for team cleaning" in warning.getMessage()
    assert "team 'cleaning' has 2 unresolved tasks" in warning.getMessage()
    with places.begin() as session:
        resolve(session, task_id=first, actor="ann", now=NOON + 2 * MIN)
        assert open_by_hand(
            session, team_id="cleaning", location_id="t2", title="Q", by="max", now=NOON
        )


def test_a_full_history_takes_no_more_notes_but_the_task_still_moves_on(
    places: sessionmaker[Session],
    teams: TeamMaker,
    make_rule: Callable[..., int],
    fire: Fire,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert MAX_EVENTS_PER_TASK == 1000
    monkeypatch.setattr(records, "MAX_EVENTS_PER_TASK", 4)
    rule = make_rule(RuleKind.NEGATIVE_SHARE, 50)
    teams(members=[MAIL])
    [task] = fire(rule)
    with places.begin() as session:
        for n in range(3):
            add_note(session, task_id=task, actor="ann", now=NOON, note=f"note {n}")
        with pytest.raises(HistoryFullError, match=f"task {task} has 4 entries"):
            add_note(session, task_id=task, actor="ann", now=NOON + MIN, note="one more")
    assert fire(rule, at=NOON + MIN) == [task]  # joined, but not written down again
    with places.begin() as session:
        # "On my way" and "Resolved" change the task, so they are kept; a later note is not
        acknowledge(session, task_id=task, actor="ann", now=NOON + 2 * MIN, note="coming")
        with pytest.raises(HistoryFullError):
            acknowledge(session, task_id=task, actor="bob", now=NOON + 3 * MIN, note="me too")
        acknowledge(session, task_id=task, actor="bob", now=NOON + 3 * MIN)  # nothing to add
        done = resolve(session, task_id=task, actor="ann", now=NOON + 4 * MIN, note="mopped")
        with pytest.raises(HistoryFullError):
            add_note(session, task_id=task, actor="ann", now=NOON + 5 * MIN, note="thanks")
    assert done.state == "resolved"
    assert [a for a, _, _ in actions(places, task)] == [
        "opened",
        *["note"] * 3,
        "acknowledged",
        "resolved",
    ]


def test_the_latest_entries_of_a_history_come_oldest_first(
    places: sessionmaker[Session], teams: TeamMaker
) -> None:
    teams(members=[MAIL])
    with places.begin() as session:
        task = open_by_hand(
            session, team_id="cleaning", location_id="gate-a", title="Bin", by="max", now=NOON
        )
        for n in range(1, 6):
            add_note(session, task_id=task, actor="ann", now=NOON + n * MIN, note=f"note {n}")
        other = open_by_hand(
            session, team_id="cleaning", location_id="gate-b", title="Mop", by="max", now=NOON
        )
    with places() as session:
        assert [e.note for e in history(session, task_id=task, latest=3)] == [
            "note 3",
            "note 4",
            "note 5",
        ]
        assert [e.action for e in history(session, task_id=task, latest=1)] == ["note"]
        assert history(session, task_id=task, latest=0) == []
        assert history(session, task_id=task, latest=100) == history(session, task_id=task)
        assert len(history(session, task_id=task)) == history_length(session, task_id=task) == 6
        assert history_length(session, task_id=other) == 1
        assert history_length(session, task_id=999) == 0
