"""Teams over a real database: what a team, a member and a route may be, the limits, and
which team an alert at a place goes to."""

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.alerts.rules import RuleKind
from hub.hierarchy import LocationTree
from hub.models import TaskNotification, TeamMember
from hub.tasks import teams as teams_module
from hub.tasks.records import open_by_hand
from hub.tasks.teams import (
    MAX_MEMBERS,
    Role,
    Route,
    TeamView,
    add_member,
    add_team,
    checked_route,
    list_teams,
    remove_member,
    remove_team,
    responsible_teams,
    set_rules,
    team_view,
)
from protocol.errors import ConfigError
from tests.hub.factories import NOON
from tests.hub.tasks.conftest import TeamMaker

MAIL = (Route.EMAIL, "cleaner@example.org")


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"team_id": "Cleaning"}, "team id"),
        ({"team_id": ""}, "team id"),
        ({"team_id": "clean up"}, "team id"),
        ({"team_id": "x" * 65}, "team id"),
        ({"name": "   "}, "team name"),
        ({"name": "Clean\u202eing"}, r"U\+202E"),
        ({"name": "x" * 201}, "team name"),
        ({"location_id": "nowhere"}, "no location"),
        ({"ack_minutes": 0}, "target times"),
        ({"resolve_minutes": 7 * 24 * 60 + 1}, "target times"),
        ({"ack_minutes": 30, "resolve_minutes": 20}, "shorter"),
        ({"working_hours": "8-17"}, "HH:MM-HH:MM"),
        ({"working_hours": "08:00-17:00 "}, "HH:MM-HH:MM"),
        ({"working_hours": "08:00-08:00"}, "no time"),
        ({"rules": [999]}, "no alert rule 999"),
    ],
)
def test_a_team_is_checked(
    places: sessionmaker[Session], changes: dict[str, object], refusal: str
) -> None:
    given: dict[str, object] = {"team_id": "cleaning", "name": "Cleaning", "location_id": "t2"}
    with places() as session, pytest.raises(ConfigError, match=refusal):
        add_team(session, now=NOON, **(given | changes))  # type: ignore[arg-type]


def test_a_team_reads_back_and_its_id_is_taken(
    places: sessionmaker[Session], make_rule: Callable[..., int]
) -> None:
    rule = make_rule(RuleKind.NEGATIVE_SHARE, 50)
    with places.begin() as session:
        made = add_team(
            session,
            team_id="cleaning-t2",
            name=" Cleaning T2 ",
            location_id="t2",
            now=NOON,
            working_hours="22:00-06:00",
            ack_minutes=10,
            resolve_minutes=10,
            rules=[rule, rule],
        )
    assert (made.team_id, made.name, made.location_id) == ("cleaning-t2", "Cleaning T2", "t2")
    assert str(made.working_hours) == "22:00-06:00"
    assert (made.ack_minutes, made.resolve_minutes, made.rules) == (10, 10, (rule,))
    with places() as session, pytest.raises(ConfigError, match="exists"):
        add_team(session, team_id="cleaning-t2", name="Again", location_id="t2", now=NOON)


@pytest.mark.parametrize(
    ("route", "target", "stored"),
    [
        (Route.EMAIL, " cleaner@example.org ", "cleaner@example.org"),
        (Route.SLACK, "https://hooks.slack.com/services/T0/B0/xyz", None),
        (Route.TEAMS, "https://prod.westeurope.logic.azure.com:443/workflows/1?sig=x", None),
        (Route.NTFY, "https://ntfy.sh/cleaning-t2", None),
        (Route.WEBHOOK, "http://10.0.0.5:8080/tasks", None),
        (Route.MQTT, "staff/cleaning/t2", None),
    ],
)
def test_a_route_takes_its_own_kind_of_target(route: Route, target: str, stored: str) -> None:
    assert checked_route(route, target) == (stored or target)


@pytest.mark.parametrize(
    ("route", "target"),
    [
        (Route.EMAIL, "cleaner"),
        (Route.EMAIL, "a@b@example.org"),
        (Route.EMAIL, "a@example.org, boss@example.org"),
        (Route.EMAIL, "a@example.org\r\nBcc: all@example.org"),
        (Route.EMAIL, "https://example.org/"),
        (Route.SLACK, "hooks.slack.com/services/T0"),
        (Route.SLACK, "https://"),
        (Route.TEAMS, "ftp://example.org/hook"),
        (Route.NTFY, "https://ntfy.sh/"),
        (Route.NTFY, "https://ntfy.sh"),
        (Route.WEBHOOK, "https://example.org/a b"),
        (Route.WEBHOOK, "https://example.org:hook/"),
        (Route.WEBHOOK, "https://[::1/hook"),
        (Route.WEBHOOK, "https://example.org/" + "x" * 2000),
        (Route.MQTT, "staff/#"),
        (Route.MQTT, "staff/+/t2"),
        (Route.MQTT, "$SYS/broker"),
        (Route.MQTT, "staff/cleaning t2"),
        (Route.MQTT, ""),
        (Route.MQTT, "t" * 201),
        (Route.MQTT, "staff/\x00"),
    ],
)
def test_a_route_refuses_a_target_of_another_kind(route: Route, target: str) -> None:
    with pytest.raises(ConfigError):
        checked_route(route, target)


def test_members_read_back_and_a_removed_one_is_not_reached(
    places: sessionmaker[Session], teams: TeamMaker
) -> None:
    team = teams(
        members=[MAIL, (Route.NTFY, "https://ntfy.sh/t2")],
        escalation=[(Route.SLACK, "https://hooks.example.org/1")],
    )
    first, second, boss = team.members
    assert (first.role, first.route, first.target) == (Role.MEMBER, Route.EMAIL, MAIL[1])
    assert [m.id for m in team.reachable(Role.MEMBER)] == [first.id, second.id]
    assert team.reachable(Role.ESCALATION) == [boss]
    with places.begin() as session:
        remove_member(session, member_id=first.id, now=NOON)
        with pytest.raises(ConfigError, match="no member"):
            remove_member(session, member_id=first.id, now=NOON)
        assert team_view(session, team_id="cleaning").members == (second, boss)
        task_id = open_by_hand(
            session, team_id="cleaning", location_id="gate-a", title="Paper", by="ann", now=NOON
        )
    with places() as session:
        notified = session.scalars(
            select(TaskNotification.member_id).where(TaskNotification.task_id == task_id)
        ).all()
        kept = session.get(TeamMember, first.id)
    assert notified == [second.id]
    assert kept is not None and kept.name == "Member 1"  # the history still names them


def test_a_member_is_checked(places: sessionmaker[Session], teams: TeamMaker) -> None:
    teams()
    with places() as session:
        with pytest.raises(ConfigError, match="no team"):
            add_member(
                session, team_id="ghosts", name="A", route=MAIL[0], target=MAIL[1], role=Role.MEMBER
            )
        with pytest.raises(ConfigError, match="member name"):
            add_member(
                session,
                team_id="cleaning",
                name="",
                route=MAIL[0],
                target=MAIL[1],
                role=Role.MEMBER,
            )
        with pytest.raises(ConfigError, match="e-mail"):
            add_member(
                session, team_id="cleaning", name="A", route=MAIL[0], target="a", role=Role.MEMBER
            )


def test_a_team_has_at_most_max_members_and_a_removed_one_frees_a_place(
    places: sessionmaker[Session], teams: TeamMaker
) -> None:
    teams(members=[MAIL] * MAX_MEMBERS)
    with places.begin() as session:
        with pytest.raises(ConfigError, match=f"{MAX_MEMBERS} members"):
            add_member(
                session,
                team_id="cleaning",
                name="B",
                route=MAIL[0],
                target=MAIL[1],
                role=Role.MEMBER,
            )
        first = team_view(session, team_id="cleaning").members[0]
        remove_member(session, member_id=first.id, now=NOON)
        add_member(
            session, team_id="cleaning", name="B", route=MAIL[0], target=MAIL[1], role=Role.MEMBER
        )
        assert len(team_view(session, team_id="cleaning").members) == MAX_MEMBERS


def test_a_hub_has_at_most_max_teams(
    places: sessionmaker[Session], teams: TeamMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(teams_module, "MAX_TEAMS", 2)
    teams("one")
    teams("two")
    with pytest.raises(ConfigError, match="2 teams already"):
        teams("three")
    with places.begin() as session:
        remove_team(session, team_id="two")
    teams("three")
    with places() as session:
        assert [t.team_id for t in list_teams(session)] == ["one", "three"]
        assert [t.team_id for t in list_teams(session, within={"hel"})] == []


def test_a_team_with_tasks_is_not_removed(places: sessionmaker[Session], teams: TeamMaker) -> None:
    teams("cleaning", members=[MAIL])
    teams("security", members=[MAIL])
    with places.begin() as session:
        open_by_hand(
            session, team_id="cleaning", location_id="t2", title="Queue", by="ann", now=NOON
        )
    with places.begin() as session:
        with pytest.raises(ConfigError, match="has tasks"):
            remove_team(session, team_id="cleaning")
        remove_team(session, team_id="security")
    with places() as session:
        assert [t.team_id for t in list_teams(session)] == ["cleaning"]
        members = session.scalars(select(TeamMember.team_id)).all()
        with pytest.raises(ConfigError, match="no team"):
            remove_team(session, team_id="security")
    assert members == ["cleaning"]  # the removed team's members went with it


def test_the_closest_team_that_answers_the_rule_is_responsible(
    places: sessionmaker[Session], teams: TeamMaker, make_rule: Callable[..., int]
) -> None:
    share = make_rule(RuleKind.NEGATIVE_SHARE, 50)
    offline = make_rule(RuleKind.DEVICE_OFFLINE, 10)
    teams("airport", location_id="hel")
    teams("terminal", location_id="t2")
    teams("a-cleaning", location_id="gate-a", rules=[share])
    teams("a-security", location_id="gate-a", rules=[share])
    teams("a-tech", location_id="gate-a", rules=[offline])
    with places() as session:
        everyone, tree = list_teams(session), LocationTree.load(session)

    def chosen(location_id: str, rule_id: int | None) -> list[str]:
        picked = responsible_teams(everyone, tree, location_id=location_id, rule_id=rule_id)
        return [t.team_id for t in picked]

    assert chosen("gate-a", share) == ["a-cleaning", "a-security"]
    assert chosen("gate-a", offline) == ["a-tech"]
    assert chosen("gate-a", None) == ["terminal"]  # by hand: those answering every rule
    assert chosen("gate-b", share) == ["terminal"]
    assert chosen("t2", share) == ["terminal"]
    assert chosen("hel", offline) == ["airport"]
    assert chosen("elsewhere", share) == []
    with places.begin() as session:
        set_rules(session, team_id="terminal", rules=[offline])
        everyone = list_teams(session)
        with pytest.raises(ConfigError, match="no team"):
            set_rules(session, team_id="ghosts", rules=[offline])
    assert chosen("gate-b", share) == ["airport"]
    assert chosen("gate-b", offline) == ["terminal"]


def test_no_team_no_responsibility(places: sessionmaker[Session]) -> None:
    with places() as session:
        tree = LocationTree.load(session)
    nobody: list[TeamView] = []
    assert responsible_teams(nobody, tree, location_id="gate-a", rule_id=None) == []
