"""Teams, their members and routes, and which team an alert at a place belongs to."""

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.alerts.rules import QuietHours
from hub.hierarchy import NAME_MAX_CHARS, LocationTree
from hub.models import AlertRule, Location, Task, Team, TeamMember, TeamRule
from protocol.errors import ConfigError
from protocol.messages import LOCATION_ID_PATTERN
from protocol.text import printable

MAX_TEAMS = 500
MAX_MEMBERS = 50
"""Routes one team may have: a roster, not a mailing list."""
DEFAULT_ACK_MINUTES = 15
DEFAULT_RESOLVE_MINUTES = 60
MAX_TARGET_MINUTES = 7 * 24 * 60
EMAIL = re.compile(r"^[^@\s,;<>\"]{1,64}@[^@\s,;<>\"]{1,255}$")
"""One address: no list (`,` `;`), no display name (`<>` `"`)."""
MQTT_TOPIC = re.compile(r"^[^#+\s$][^#+\s]{0,199}$")
"""A topic to publish to: no wildcards, and not the broker's own `$SYS` tree."""
MAX_URL_CHARS = 2000


class Route(StrEnum):
    EMAIL = "email"
    SLACK = "slack"  # a Slack-style incoming webhook (Mattermost and Rocket.Chat take it too)
    TEAMS = "teams"  # a Microsoft Teams workflow webhook: an Adaptive Card
    NTFY = "ntfy"  # https://ntfy.example.org/<topic>: a push to the ntfy app
    WEBHOOK = "webhook"  # the task as JSON
    MQTT = "mqtt"  # the task as JSON on a topic of the hub's broker


class Role(StrEnum):
    MEMBER = "member"
    ESCALATION = "escalation"


@dataclass(frozen=True)
class Member:
    id: int
    team_id: str
    name: str
    role: Role
    route: Route
    target: str


@dataclass(frozen=True)
class TeamView:
    team_id: str
    name: str
    location_id: str
    working_hours: QuietHours | None
    ack_minutes: int
    resolve_minutes: int
    rules: tuple[int, ...]
    """The alert rules it answers; empty: every rule at its places."""
    members: tuple[Member, ...]

    def reachable(self, role: Role) -> list[Member]:
        return [m for m in self.members if m.role is role]


def checked_route(route: Route, target: str) -> str:
    """The target as stored, or a ConfigError saying what a target of this route looks like."""
    printable(target, what="route target")
    target = target.strip()
    if route is Route.EMAIL:
        if not EMAIL.match(target):
            raise ConfigError(f"{target!r} is no e-mail address (name@example.org)")
    elif route is Route.MQTT:
        if not MQTT_TOPIC.match(target):
            raise ConfigError(
                f"MQTT topic {target!r}: 1 to 200 characters, no '#', '+', spaces or leading '$'"
            )
    elif not _http_url(target, path_needed=route is Route.NTFY):
        where = "https://ntfy.example.org/<topic>" if route is Route.NTFY else "an http(s):// URL"
        raise ConfigError(f"a {route} route needs {where}, not {target!r}")
    return target


def _http_url(target: str, *, path_needed: bool) -> bool:
    if len(target) > MAX_URL_CHARS or any(c.isspace() for c in target):
        return False
    try:
        url = urlsplit(target)
        url.port  # noqa: B018 (it reads the port, refusing one that is no number)
    except ValueError:  # a malformed port or IPv6 host
        return False
    path = url.path.strip("/")
    return (
        url.scheme in ("http", "https") and bool(url.hostname) and (bool(path) or not path_needed)
    )


def _name(name: str, *, what: str) -> str:
    """A display name fit for a message, a CSV cell and a log line, or a ConfigError."""
    printable(name, what=what)
    name = name.strip()
    if not name or len(name) > NAME_MAX_CHARS:
        raise ConfigError(f"a {what} has 1 to {NAME_MAX_CHARS} characters, not only spaces")
    return name


def add_team(
    session: Session,
    *,
    team_id: str,
    name: str,
    location_id: str,
    now: datetime,
    working_hours: str | None = None,
    ack_minutes: int = DEFAULT_ACK_MINUTES,
    resolve_minutes: int = DEFAULT_RESOLVE_MINUTES,
    rules: Collection[int] = (),
) -> TeamView:
    """A new team, responsible for `location_id` and beneath it."""
    if not re.fullmatch(LOCATION_ID_PATTERN, team_id):
        raise ConfigError(f"team id {team_id!r}: lowercase letters, digits, '.', '_' and '-'")
    if session.get(Team, team_id) is not None:
        raise ConfigError(f"a team {team_id!r} exists; remove it first or pick another id")
    if session.get(Location, location_id) is None:
        raise ConfigError(f"no location {location_id!r}; see `seed-hub locations list`")
    if (session.scalar(select(func.count()).select_from(Team)) or 0) >= MAX_TEAMS:
        raise ConfigError(f"this hub has {MAX_TEAMS} teams already")
    name = _name(name, what="team name")
    _check_minutes(ack_minutes, resolve_minutes)
    hours = None if working_hours is None else str(_working_hours(working_hours))
    session.add(
        Team(
            team_id=team_id,
            name=name,
            location_id=location_id,
            working_hours=hours,
            ack_minutes=ack_minutes,
            resolve_minutes=resolve_minutes,
            created_at=now,
        )
    )
    session.flush()
    set_rules(session, team_id=team_id, rules=rules)
    return team_view(session, team_id=team_id)


def _working_hours(text: str) -> QuietHours:
    hours = QuietHours.parse(text)
    if hours.start == hours.end:
        raise ConfigError(f"working hours {text!r} are no time at all; leave them out for 24 h")
    return hours


def _check_minutes(ack: int, resolve: int) -> None:
    if not 1 <= ack <= MAX_TARGET_MINUTES or not 1 <= resolve <= MAX_TARGET_MINUTES:
        raise ConfigError(f"target times are 1 to {MAX_TARGET_MINUTES} minutes")
    if resolve < ack:
        raise ConfigError("the time to resolve cannot be shorter than the time to acknowledge")


def set_rules(session: Session, *, team_id: str, rules: Collection[int]) -> None:
    """The rules the team answers (none: every rule at its places)."""
    if session.get(Team, team_id) is None:
        raise ConfigError(f"no team {team_id!r}; see `seed-hub teams list`")
    for rule_id in rules:
        if session.get(AlertRule, rule_id) is None:
            raise ConfigError(f"no alert rule {rule_id}; see `seed-hub alerts rules list`")
    for row in session.scalars(select(TeamRule).where(TeamRule.team_id == team_id)):
        session.delete(row)
    session.flush()
    session.add_all(TeamRule(team_id=team_id, rule_id=r) for r in sorted(set(rules)))


def add_member(
    session: Session, *, team_id: str, name: str, route: Route, target: str, role: Role
) -> Member:
    if session.get(Team, team_id) is None:
        raise ConfigError(f"no team {team_id!r}; see `seed-hub teams list`")
    if len(team_view(session, team_id=team_id).members) >= MAX_MEMBERS:
        raise ConfigError(f"team {team_id!r} has {MAX_MEMBERS} members already")
    row = TeamMember(
        team_id=team_id,
        name=_name(name, what="member name"),
        role=role.value,
        route=route.value,
        target=checked_route(route, target),
    )
    session.add(row)
    session.flush()
    return _member(row)


def remove_member(session: Session, *, member_id: int, now: datetime) -> None:
    """Stop notifying them; their row stays, so the history still names them."""
    row = session.get(TeamMember, member_id)
    if row is None or row.removed_at is not None:
        raise ConfigError(f"no member {member_id}; see `seed-hub teams show TEAM`")
    row.removed_at = now


def _member(row: TeamMember) -> Member:
    return Member(row.id, row.team_id, row.name, Role(row.role), Route(row.route), row.target)


def team_view(session: Session, *, team_id: str) -> TeamView:
    team = session.get(Team, team_id)
    if team is None:
        raise ConfigError(f"no team {team_id!r}; see `seed-hub teams list`")
    return _views(session, [team])[0]


def list_teams(session: Session, *, within: Collection[str] | None = None) -> list[TeamView]:
    query = select(Team).order_by(Team.team_id)
    if within is not None:
        query = query.where(Team.location_id.in_(within))
    return _views(session, list(session.scalars(query)))


def _views(session: Session, teams: list[Team]) -> list[TeamView]:
    ids = [t.team_id for t in teams]
    members: dict[str, list[Member]] = {i: [] for i in ids}
    for row in session.scalars(
        select(TeamMember)
        .where(TeamMember.team_id.in_(ids), TeamMember.removed_at.is_(None))
        .order_by(TeamMember.id)
    ):
        members[row.team_id].append(_member(row))
    rules: dict[str, list[int]] = {i: [] for i in ids}
    for team_id, rule_id in session.execute(
        select(TeamRule.team_id, TeamRule.rule_id).where(TeamRule.team_id.in_(ids))
    ):
        rules[team_id].append(rule_id)
    return [
        TeamView(
            team_id=t.team_id,
            name=t.name,
            location_id=t.location_id,
            working_hours=QuietHours.parse(t.working_hours) if t.working_hours else None,
            ack_minutes=t.ack_minutes,
            resolve_minutes=t.resolve_minutes,
            rules=tuple(sorted(rules[t.team_id])),
            members=tuple(members[t.team_id]),
        )
        for t in teams
    ]


def remove_team(session: Session, *, team_id: str) -> None:
    """Delete a team that never had a task (one with tasks keeps its history: empty it)."""
    team = session.get(Team, team_id)
    if team is None:
        raise ConfigError(f"no team {team_id!r}; see `seed-hub teams list`")
    if session.scalars(select(Task.id).where(Task.team_id == team_id).limit(1)).first() is not None:
        raise ConfigError(
            f"team {team_id!r} has tasks; their history needs it. Remove its members instead"
        )
    session.delete(team)


def responsible_teams(
    teams: Collection[TeamView], tree: LocationTree, *, location_id: str, rule_id: int | None
) -> list[TeamView]:
    """The teams an alert of this rule at this place goes to: of those whose places include
    it and who answer the rule, the ones closest to the place (a team at the touchpoint
    before one at its terminal, before one for the whole airport)."""
    if location_id not in tree:
        return []
    chain = [location_id, *tree.ancestors(location_id)]
    for place in chain:
        here = [t for t in teams if t.location_id == place and _answers(t, rule_id)]
        if here:
            return sorted(here, key=lambda t: t.team_id)
    return []


def _answers(team: TeamView, rule_id: int | None) -> bool:
    return not team.rules or (rule_id is not None and rule_id in team.rules)
