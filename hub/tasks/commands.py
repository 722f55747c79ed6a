"""`seed-hub teams …` (who fixes which places, and how they are reached) and `seed-hub tasks …`
(the work itself: list, open by hand, acknowledge, resolve, note, and how fast it went)."""

import argparse
import json
from dataclasses import asdict
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from hub.alerts.rules import zone
from hub.alerts.webhook import redacted
from hub.cli_options import DB, Commands, SessionAction, SettingsFrom, session_command
from hub.clock import Clock, utc_now
from hub.rollups.buckets import Period
from hub.tasks import records, teams
from hub.tasks.records import TaskView
from hub.tasks.stats import task_figures
from hub.tasks.teams import Member, Role, Route, TeamView
from protocol.errors import ConfigError
from protocol.text import for_log

ACTOR = "cli"
LISTINGS = ("unresolved", "open", "acknowledged", "resolved", "escalated", "all")
MAX_FIGURE_DAYS = 366
MAX_LISTED = 10_000
TASK_HELP = "the task's id (see `seed-hub tasks list`)"
TEAM_HELP = "the team's id (see `seed-hub teams list`)"


def shown_target(member: Member) -> str:
    """An address or topic as it is; a URL redacted (a chat webhook's path is its secret)."""
    if member.route in (Route.EMAIL, Route.MQTT):
        return for_log(member.target)
    return redacted(member.target)


def _team_dict(team: TeamView) -> dict[str, Any]:
    return {
        "team_id": team.team_id,
        "name": team.name,
        "location_id": team.location_id,
        "working_hours": str(team.working_hours) if team.working_hours else None,
        "ack_minutes": team.ack_minutes,
        "resolve_minutes": team.resolve_minutes,
        "rules": list(team.rules),
        "members": [
            {
                "id": m.id,
                "name": m.name,
                "role": m.role.value,
                "route": m.route.value,
                "target": shown_target(m),
            }
            for m in team.members
        ],
    }


def _team_line(team: TeamView) -> str:
    hours = str(team.working_hours) if team.working_hours else "around the clock"
    rules = ", ".join(map(str, team.rules)) or "every rule"
    return (
        f"{team.team_id:<20} {for_log(team.name):<24} at {team.location_id:<16} {hours:<12} "
        f"ack {team.ack_minutes} min, resolve {team.resolve_minutes} min; {rules}; "
        f"{len(team.members)} member(s)"
    )


def _teams_add(session: Session, args: argparse.Namespace, clock: Clock = utc_now) -> None:
    team = teams.add_team(
        session,
        team_id=args.team,
        name=args.name,
        location_id=args.location,
        now=clock(),
        working_hours=args.hours,
        ack_minutes=args.ack_minutes,
        resolve_minutes=args.resolve_minutes,
        rules=args.rule or (),
    )
    print(f"team {team.team_id} saved; add its people with `seed-hub teams member-add`")
    print(_team_line(team))


def _teams_list(session: Session, args: argparse.Namespace) -> None:
    views = teams.list_teams(session)
    if args.json:
        print(json.dumps([_team_dict(t) for t in views], indent=2))
        return
    if not views:
        print("no teams yet; add one with `seed-hub teams add`")
    for team in views:
        print(_team_line(team))


def _teams_show(session: Session, args: argparse.Namespace) -> None:
    team = teams.team_view(session, team_id=args.team)
    print(_team_line(team))
    if not team.members:
        print("  nobody to notify: add someone with `seed-hub teams member-add`")
    for m in team.members:
        print(f"  {m.id:>5} {for_log(m.name):<24} {m.role.value:<10} {m.route.value:<7} ", end="")
        print(shown_target(m))


def _teams_remove(session: Session, args: argparse.Namespace) -> None:
    teams.remove_team(session, team_id=args.team)
    print(f"team {args.team} removed")


def _member_add(session: Session, args: argparse.Namespace) -> None:
    member = teams.add_member(
        session,
        team_id=args.team,
        name=args.name,
        route=Route(args.route),
        target=args.target,
        role=Role.ESCALATION if args.escalation else Role.MEMBER,
    )
    print(
        f"member {member.id} ({for_log(member.name)}, {member.role.value}) of {args.team}: "
        f"{member.route.value} {shown_target(member)}"
    )


def _member_remove(session: Session, args: argparse.Namespace, clock: Clock = utc_now) -> None:
    teams.remove_member(session, member_id=args.member_id, now=clock())
    print(f"member {args.member_id} removed; the tasks' history still names them")


def _teams_rules(session: Session, args: argparse.Namespace) -> None:
    teams.team_view(session, team_id=args.team)  # a ConfigError naming the team if there is none
    teams.set_rules(session, team_id=args.team, rules=args.rule or ())
    answered = ", ".join(map(str, sorted(set(args.rule or ())))) or "every rule at its places"
    print(f"team {args.team} answers {answered}")


def _local(moment: datetime | None, time_zone: str) -> str:
    return f"{moment.astimezone(zone(time_zone)):%Y-%m-%d %H:%M}" if moment else "-"


def _task_dict(task: TaskView) -> dict[str, Any]:
    fields = asdict(task)
    fields["state"] = task.shown_state
    return fields


def _task_line(task: TaskView) -> str:
    return (
        f"{task.id:>6} {_local(task.opened_at, task.time_zone)} {task.shown_state:<12} "
        f"{task.team_id:<16} {task.location_id:<16} {for_log(task.title)}"
    )


def _tasks_list(session: Session, args: argparse.Namespace) -> None:
    if not 1 <= args.limit <= MAX_LISTED:
        raise ConfigError(f"--limit: 1 to {MAX_LISTED}, not {args.limit}")
    if args.team:
        teams.team_view(session, team_id=args.team)
    views = records.list_tasks(session, listing=args.state, team_id=args.team, limit=args.limit)
    if args.json:
        print(json.dumps([_task_dict(t) for t in views], default=str, indent=2))
        return
    if not views:
        print(f"no {args.state} tasks" if args.state != "all" else "no tasks")
    for task in views:
        print(_task_line(task))


def _task_summary(task: TaskView) -> list[str]:
    tz = task.time_zone
    lines = [
        f"task {task.id}: {for_log(task.title)}",
        f"  team {task.team_id} ({for_log(task.team_name)}), at {task.location_id} ({tz})",
        f"  state {task.shown_state}; opened {_local(task.opened_at, tz)} by {task.opened_by}",
        f"  acknowledge by {_local(task.ack_due_at, tz)}, "
        f"resolve by {_local(task.resolve_due_at, tz)}",
    ]
    if task.detail:
        lines.insert(1, f"  {for_log(task.detail)}")
    if task.negative_share is not None and task.responses:
        lines.append(
            f"  travellers: {task.negative_share:.0%} negative of {task.responses} answers"
            f" in {task.window_min} min"
        )
    if task.device_id:
        lines.append(f"  kiosk {task.device_id}")
    if task.recovery is not None and task.before and task.after:
        (bu, bt), (au, at) = task.before, task.after
        lines.append(f"  recovery: {task.recovery} (unhappy {bu}/{bt} before, {au}/{at} after)")
    return lines


def _tasks_show(session: Session, args: argparse.Namespace) -> None:
    task = records.task_view(session, task_id=args.task_id)
    print("\n".join(_task_summary(task)))
    print("history:")
    for entry in records.history(session, task_id=task.id):
        note = f": {for_log(entry.note)}" if entry.note else ""
        when = _local(entry.at, task.time_zone)
        print(f"  {when} {for_log(entry.actor):<20} {entry.action}{note}")


def _tasks_open(session: Session, args: argparse.Namespace, clock: Clock = utc_now) -> None:
    task_id = records.open_by_hand(
        session,
        team_id=args.team,
        location_id=args.location,
        title=args.title,
        by=ACTOR,
        now=clock(),
    )
    print(f"task {task_id} opened for {args.team} at {args.location}; its team is notified")


def _tasks_ack(session: Session, args: argparse.Namespace, clock: Clock = utc_now) -> None:
    task = records.acknowledge(
        session, task_id=args.task_id, actor=ACTOR, now=clock(), note=args.note
    )
    print(f"task {task.id} acknowledged by {task.acknowledged_by}")


def _tasks_resolve(session: Session, args: argparse.Namespace, clock: Clock = utc_now) -> None:
    task = records.resolve(session, task_id=args.task_id, actor=ACTOR, now=clock(), note=args.note)
    print(f"task {task.id} resolved by {task.resolved_by}; its recovery is measured later")


def _tasks_note(session: Session, args: argparse.Namespace, clock: Clock = utc_now) -> None:
    records.add_note(session, task_id=args.task_id, actor=ACTOR, now=clock(), note=args.text)
    print(f"note added to task {args.task_id}")


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} min"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _tasks_figures(session: Session, args: argparse.Namespace, clock: Clock = utc_now) -> None:
    if not 1 <= args.days <= MAX_FIGURE_DAYS:
        raise ConfigError(f"--days: 1 to {MAX_FIGURE_DAYS}, not {args.days}")
    now = clock()
    rows = task_figures(session, period=Period.last(args.days, until=now), now=now)
    if args.json:
        print(
            json.dumps([asdict(r) | {"recovered_share": r.recovered_share} for r in rows], indent=2)
        )
        return
    if not rows:
        print(f"no tasks in the last {args.days} days")
    for r in rows:
        place = r.location_id or "(all its places)"
        print(
            f"{r.team_id:<16} {place:<18} {r.tasks:>4} tasks, ack median "
            f"{_minutes(r.ack_median_min)}, resolve median {_minutes(r.resolve_median_min)}, "
            f"in time {_share(r.ack_in_time)}/{_share(r.resolve_in_time)}, "
            f"recovered {_share(r.recovered_share)}"
        )


def _command(
    actions: Commands, settings_from: SettingsFrom, name: str, action: SessionAction, text: str
) -> argparse.ArgumentParser:
    """A subcommand `name` that runs `action` in one transaction; `text` is its help."""
    parser: argparse.ArgumentParser = actions.add_parser(name, help=text, parents=[DB])
    parser.set_defaults(run=session_command(action, settings_from))
    return parser


def add_team_commands(commands: Commands, settings_from: SettingsFrom) -> None:
    group = commands.add_parser("teams", help="staff teams: their places, rules and people")
    actions = group.add_subparsers(dest="action", required=True)
    command = partial(_command, actions, settings_from)

    add = command("add", _teams_add, "a team responsible for a location and all beneath it")
    add.add_argument("team", metavar="TEAM", help="its id: lowercase letters, digits, . _ -")
    add.add_argument("--name", required=True, help='what staff call it, e.g. "Cleaning T2"')
    add.add_argument("--location", required=True, help="the place it looks after, and beneath")
    add.add_argument(
        "--hours",
        metavar="HH:MM-HH:MM",
        help="working hours in the place's time (default: around the clock); outside them "
        "new tasks go to the escalation contact",
    )
    add.add_argument(
        "--ack-minutes",
        type=int,
        default=teams.DEFAULT_ACK_MINUTES,
        help="acknowledge within this, or the task is escalated (default %(default)s)",
    )
    add.add_argument(
        "--resolve-minutes",
        type=int,
        default=teams.DEFAULT_RESOLVE_MINUTES,
        help="resolve within this, or the task is escalated (default %(default)s)",
    )
    _rule_option(add)
    listing = command("list", _teams_list, "every team, with its targets and rules")
    listing.add_argument("--json", action="store_true", help="as JSON (URLs redacted)")
    show = command("show", _teams_show, "a team and its members (URLs redacted)")
    show.add_argument("team", metavar="TEAM", help=TEAM_HELP)
    remove = command("remove", _teams_remove, "delete a team that never had a task")
    remove.add_argument("team", metavar="TEAM", help=TEAM_HELP)
    member = command("member-add", _member_add, "someone a team's tasks reach, by one route")
    member.add_argument("team", metavar="TEAM", help=TEAM_HELP)
    member.add_argument("--name", required=True, help="as the task history will name them")
    member.add_argument("--route", required=True, choices=[r.value for r in Route])
    member.add_argument(
        "--target",
        required=True,
        help="email: an address; slack, teams, webhook: the webhook URL; "
        "ntfy: https://SERVER/TOPIC; mqtt: a topic under <prefix>/tasks/",
    )
    member.add_argument(
        "--escalation",
        action="store_true",
        help="an escalation contact: told of missed target times and of tasks opened "
        "outside working hours",
    )
    gone = command("member-remove", _member_remove, "stop notifying a member")
    gone.add_argument("member_id", metavar="MEMBER_ID", type=int, help="see `teams show`")
    rules = command("rules", _teams_rules, "the alert rules a team answers")
    rules.add_argument("team", metavar="TEAM", help=TEAM_HELP)
    _rule_option(rules)


def _rule_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rule",
        type=int,
        nargs="+",
        metavar="ID",
        help="only alerts of these rules (see `seed-hub alerts rules list`); "
        "left out: every rule at its places",
    )


def add_task_commands(commands: Commands, settings_from: SettingsFrom) -> None:
    group = commands.add_parser("tasks", help="work for staff: opened by alerts or by hand")
    actions = group.add_subparsers(dest="action", required=True)
    command = partial(_command, actions, settings_from)

    listing = command("list", _tasks_list, "tasks, newest first")
    listing.add_argument("--state", choices=LISTINGS, default="unresolved")
    listing.add_argument("--team", metavar="TEAM", help="only this team's")
    listing.add_argument("--limit", type=int, default=200, help="at most this many")
    listing.add_argument("--json", action="store_true")
    show = command("show", _tasks_show, "a task and its history, in its place's time")
    show.add_argument("task_id", metavar="ID", type=int, help=TASK_HELP)
    opening = command("open", _tasks_open, "open a task by hand; its team is notified")
    opening.add_argument("--team", required=True, metavar="TEAM", help="whose task it is")
    opening.add_argument("--location", required=True, help="at or beneath the team's place")
    opening.add_argument("--title", required=True, help="what needs doing")
    ack = command("ack", _tasks_ack, 'acknowledge a task ("on my way")')
    ack.add_argument("task_id", metavar="ID", type=int, help=TASK_HELP)
    ack.add_argument("--note", default="", help="recorded with the acknowledgement")
    resolve = command("resolve", _tasks_resolve, "mark a task done")
    resolve.add_argument("task_id", metavar="ID", type=int, help=TASK_HELP)
    resolve.add_argument("--note", default="", help="what was done")
    note = command("note", _tasks_note, "add a note to a task's history")
    note.add_argument("task_id", metavar="ID", type=int, help=TASK_HELP)
    note.add_argument("text", metavar="TEXT", help="the note, quoted")
    figures = command(
        "figures", _tasks_figures, "per team and place: how fast tasks were handled, recovered"
    )
    figures.add_argument("--days", type=int, default=7, help="the last N days (default 7)")
    figures.add_argument("--json", action="store_true")
