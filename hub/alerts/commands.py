"""`seed-hub alerts rules add|list|remove` and `seed-hub alerts list`."""

import argparse
import json

from sqlalchemy.orm import Session

from hub.alerts.records import add_rule, list_alerts, list_rules, remove_rule
from hub.alerts.rules import QuietHours, Rule, RuleKind
from hub.cli_options import DB, Commands, SettingsFrom, session_command
from hub.clock import Clock, utc_now
from protocol.messages import Button


def _rules_add(session: Session, args: argparse.Namespace, clock: Clock = utc_now) -> None:
    rule = Rule(
        id=0,
        location_id=args.location,
        kind=RuleKind(args.kind),
        threshold=args.threshold,
        window_min=args.window,
        min_responses=args.min_responses,
        button=Button(args.button) if args.button else None,
        quiet=QuietHours.parse(args.quiet) if args.quiet else None,
    )
    row = add_rule(session, rule=rule, created_by="cli", now=clock())
    print(f"rule {row.id} at {args.location} (and beneath): {Rule.from_row(row).describe()}")


def _rules_list(session: Session, _args: argparse.Namespace) -> None:
    for rule in list_rules(session):
        print(f"{rule.id:>4} {rule.location_id:<24} {rule.kind:<15} {rule.describe()}")


def _rules_remove(session: Session, args: argparse.Namespace) -> None:
    remove_rule(session, rule_id=args.rule_id)
    print(f"rule {args.rule_id} removed; its alerts stay")


def _alerts_list(session: Session, args: argparse.Namespace) -> None:
    views = list_alerts(session, state=args.state, limit=args.limit)
    if args.json:
        print(json.dumps([v.__dict__ for v in views], default=str, indent=2))
        return
    for v in views:
        ack = f"ack {v.acknowledged_by}" if v.acknowledged_at else "open"
        print(f"{v.id:>5} {v.opened_at:%Y-%m-%d %H:%M} {v.location:<20} {ack:<14} {v.message}")


def add_alert_commands(commands: Commands, settings_from: SettingsFrom) -> None:
    alerts = commands.add_parser("alerts", help="alert rules and the alerts they raised")
    actions = alerts.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="alerts, newest first", parents=[DB])
    listing.add_argument("--state", choices=("open", "acknowledged", "all"), default="open")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=session_command(_alerts_list, settings_from))
    rules = actions.add_parser("rules", help="what raises alerts").add_subparsers(
        dest="rule_action", required=True
    )
    add = rules.add_parser(
        "add", help="a rule at a location and every location beneath it", parents=[DB]
    )
    add.add_argument("--location", required=True)
    add.add_argument("--kind", required=True, choices=[k.value for k in RuleKind])
    add.add_argument(
        "--threshold",
        type=float,
        required=True,
        help="%% negative, Happy Index, presses, CUSUM h, minutes offline, events, or seconds",
    )
    add.add_argument("--window", type=int, default=15, metavar="MIN")
    add.add_argument("--min-responses", type=int, default=0)
    add.add_argument("--button", choices=[b.value for b in Button], help="for answer_count")
    add.add_argument("--quiet", metavar="HH:MM-HH:MM", help="in the location's own time")
    add.set_defaults(run=session_command(_rules_add, settings_from))
    rule_list = rules.add_parser("list", parents=[DB])
    rule_list.set_defaults(run=session_command(_rules_list, settings_from))
    remove = rules.add_parser("remove", parents=[DB])
    remove.add_argument("rule_id", type=int)
    remove.set_defaults(run=session_command(_rules_remove, settings_from))
