"""`seed-hub camera …`: approve cameras at a place, say who answers there, read and export the
audit log, see each kiosk's camera, print a place's notice."""

import argparse
import json
import os
import pwd
import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from hub.camera.audit import audit_csv, audit_entries, audit_json, verify_chain
from hub.camera.governance import (
    CameraState,
    approvals,
    camera_states,
    record_approval,
    set_audience,
    withdraw_approval,
)
from hub.cli_options import DB, Commands, SettingsFrom
from hub.clock import Clock, as_utc, utc_now
from hub.config import HubSettings
from hub.db import run_migrated
from hub.hierarchy import LocationTree
from hub.models import Audience, CameraApproval
from protocol.errors import ConfigError
from protocol.text import for_log

Action = Callable[[Session, argparse.Namespace, HubSettings], int | None]
"""A command's work; it may return the exit code (None: 0)."""
APPROVAL_HELP = "the approval's number (see `seed-hub camera approvals`)"


def cli_actor() -> str:
    """`cli:<login>`: who typed a command, as the audit log names them: the session's login
    name (the same under sudo), else the account of the real user id; never $USER or
    $LOGNAME, which anyone sets as they like."""
    try:
        return f"cli:{os.getlogin()}"
    except OSError:  # no login session: a service, a container, cron
        pass
    try:
        return f"cli:{pwd.getpwuid(os.getuid()).pw_name}"
    except KeyError:  # a user id without an account
        return f"cli:{os.getuid()}"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from exc


def _aware(text: str) -> datetime:
    """ISO 8601; a time without an offset is taken as UTC."""
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from exc


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


def _approval_dict(approval: CameraApproval) -> dict[str, Any]:
    return {
        "approval_id": approval.approval_id,
        "location_id": approval.location_id,
        "approved_by": approval.approved_by,
        "impact_assessment": approval.impact_assessment,
        "approved_on": approval.approved_on.isoformat(),
        "deployer_name": approval.deployer_name,
        "deployer_contact": approval.deployer_contact,
        "legal_basis": approval.legal_basis,
        "recorded_by": approval.recorded_by,
        "recorded_at": _iso(approval.recorded_at),
        "withdrawn_at": _iso(approval.withdrawn_at),
        "withdrawn_by": approval.withdrawn_by,
    }


def _approval_line(approval: CameraApproval) -> str:
    state = (
        f"WITHDRAWN {approval.withdrawn_at:%Y-%m-%d} by {for_log(approval.withdrawn_by)}"
        if approval.withdrawn_at
        else "active"
    )
    return (
        f"{approval.approval_id:>5} {approval.location_id:<20} {approval.approved_on} "
        f"{state}: {for_log(approval.impact_assessment)} approved by "
        f"{for_log(approval.approved_by)}; run by {for_log(approval.deployer_name)} "
        f"({for_log(approval.deployer_contact)}); {for_log(approval.legal_basis)}"
    )


def _approve(
    session: Session, args: argparse.Namespace, _settings: HubSettings, clock: Clock = utc_now
) -> None:
    approval = record_approval(
        session,
        args.location,
        approved_by=args.approved_by,
        impact_assessment=args.impact_assessment,
        approved_on=args.approved_on,
        deployer_name=args.deployer,
        deployer_contact=args.contact,
        legal_basis=args.legal_basis,
        actor=cli_actor(),
        now=clock(),
    )
    print(
        f"approval {approval.approval_id} recorded for {args.location} and every place beneath "
        f"it; turn a camera on with `seed-hub devices configure DEVICE --camera on`"
    )


def _approvals(session: Session, args: argparse.Namespace, _settings: HubSettings) -> None:
    found = approvals(session, args.location)
    if args.json:
        print(json.dumps([_approval_dict(a) for a in found], indent=2, ensure_ascii=False))
        return
    if not found:
        print("no camera approvals; record one with `seed-hub camera approve`")
    for approval in found:
        print(_approval_line(approval))


def _withdraw(
    session: Session, args: argparse.Namespace, settings: HubSettings, clock: Clock = utc_now
) -> None:
    turned_off = withdraw_approval(
        session,
        args.approval_id,
        actor=cli_actor(),
        now=clock(),
        max_config_bytes=settings.ingest.max_payload_bytes,
    )
    print(f"approval {args.approval_id} withdrawn; {_turned_off(turned_off, settings)}")


def _turned_off(device_ids: list[str], settings: HubSettings) -> str:
    if not device_ids:
        return "no camera had to be turned off"
    return (
        f"cameras turned off: {', '.join(device_ids)} (the hub publishes their config within "
        f"{settings.fleet.config_publish_s:g} s)"
    )


def _audience(
    session: Session, args: argparse.Namespace, settings: HubSettings, clock: Clock = utc_now
) -> None:
    turned_off = set_audience(
        session,
        args.location,
        Audience(args.audience),
        actor=cli_actor(),
        now=clock(),
        max_config_bytes=settings.ingest.max_payload_bytes,
    )
    print(f"audience at {args.location}: {args.audience}; {_turned_off(turned_off, settings)}")


def _log(session: Session, args: argparse.Namespace, _settings: HubSettings) -> int | None:
    if args.verify:
        return _verify(session, args)
    places = None
    if args.location:
        tree = LocationTree.load(session)
        if args.location not in tree:
            raise ConfigError(f"no location {args.location!r}")
        places = tree.subtree(args.location)
    entries = audit_entries(
        session, since=args.since, until=args.until, device_id=args.device, location_ids=places
    )
    if args.csv:
        print(audit_csv(entries), end="")
    elif args.json:
        print(json.dumps(audit_json(entries), indent=2, ensure_ascii=False))
    else:
        for e in entries:
            print(
                f"{e.at:%Y-%m-%d %H:%M:%S}Z {e.action:<8} {e.device_id:<20} "
                f"{e.location_id or '-':<20} {for_log(e.actor)}: {for_log(e.reason)}"
            )
    return None


def _verify(session: Session, args: argparse.Namespace) -> int:
    """Exit 1 naming the first entry that breaks the chain."""
    if args.since or args.until or args.device or args.location:
        raise ConfigError(
            "--verify checks the whole log: give no --since, --until, --device or --location"
        )
    check = verify_chain(session)
    older = (
        f"; {check.unchained} entries from before the chain (migration 0017) are not covered"
        if check.unchained
        else ""
    )
    if check.broken_at is not None:
        print(f"the chain is BROKEN: {check.problem}{older}", file=sys.stderr)
        return 1
    if check.newest_sha256 is None:
        print(f"the log has no chained entry yet{older}")
        return 0
    print(
        f"the chain holds: {check.chained} entries, the newest's sha256 {check.newest_sha256}"
        f"{older}. Keep that hash apart from the hub: a later check that ends elsewhere "
        "shows entries removed from the end."
    )
    return 0


def _desired(state: CameraState) -> str:
    return {True: "on", False: "off", None: "kiosk's file"}[state.desired]


def _status(session: Session, args: argparse.Namespace, _settings: HubSettings) -> None:
    states = camera_states(session, args.location)
    if args.json:
        print(json.dumps([asdict(s) for s in states], indent=2, ensure_ascii=False))
        return
    if not states:
        print("no kiosks")
    for s in states:
        approval = f"approval {s.approval_id}" if s.approval_id else "no approval"
        print(
            f"{for_log(s.device_id):<20} {s.location_id or '-':<20} {s.audience or '-':<9} "
            f"{approval:<12} wanted {_desired(s):<12} reported {s.reported or '-':<8} "
            + (f"NOT ALLOWED: {s.refused}" if s.refused else "allowed")
        )


def _notice(session: Session, args: argparse.Namespace, settings: HubSettings) -> None:
    from hub.camera.notice import write_notice  # noqa: PLC0415 (reportlab and the catalogs)

    path = write_notice(session, args.location, args.out, args.size, settings=settings.camera)
    print(f"notice of {args.location} ({args.size}) written to {path}")


def _runner(action: Action, settings_from: SettingsFrom) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        settings = settings_from(args)
        code: list[int | None] = []
        run_migrated(
            settings.database_url, lambda session: code.append(action(session, args, settings))
        )
        return code[0] or 0

    return run


def _command(
    actions: Commands, settings_from: SettingsFrom, name: str, action: Action, text: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = actions.add_parser(
        name, help=text, description=text, parents=[DB]
    )
    parser.set_defaults(run=_runner(action, settings_from))
    return parser


def add_camera_commands(commands: Commands, settings_from: SettingsFrom) -> None:
    group = commands.add_parser(
        "camera",
        help="camera governance: approvals, audiences, the audit log, notices",
        description="A camera may be on only where the public answers (the AI Act, Art. "
        "5(1)(f), forbids emotion recognition at workplaces and in education) and an "
        "approval is recorded. Every switch on or off is written to an append-only log.",
    )
    actions = group.add_subparsers(dest="action", required=True)
    command = partial(_command, actions, settings_from)

    approve = command(
        "approve",
        _approve,
        "record the deployer's approval for cameras at a place and every place beneath it",
    )
    approve.add_argument("location", metavar="LOCATION", help="a site covers all beneath it")
    approve.add_argument("--approved-by", required=True, help="the person who approved")
    approve.add_argument(
        "--impact-assessment",
        required=True,
        metavar="REFERENCE",
        help="the data-protection impact assessment's reference",
    )
    approve.add_argument(
        "--approved-on", required=True, type=_day, metavar="YYYY-MM-DD", help="not in the future"
    )
    approve.add_argument("--deployer", required=True, help="who runs the cameras (an operator)")
    approve.add_argument(
        "--contact", required=True, help="where people ask or object: an address, e-mail, phone"
    )
    approve.add_argument(
        "--legal-basis", required=True, help='e.g. "GDPR Art. 6(1)(a), consent by pressing"'
    )
    listing = command("approvals", _approvals, "approvals, withdrawn ones too, oldest first")
    listing.add_argument(
        "location", metavar="LOCATION", nargs="?", help="those at, above and beneath it"
    )
    listing.add_argument("--json", action="store_true")
    withdraw = command(
        "withdraw", _withdraw, "withdraw an approval; cameras nothing else covers are turned off"
    )
    withdraw.add_argument("approval_id", metavar="APPROVAL_ID", type=int, help=APPROVAL_HELP)
    audience = command(
        "audience",
        _audience,
        "say who answers at a place and beneath it; cameras on where the audience is not "
        "public are turned off",
    )
    audience.add_argument("location", metavar="LOCATION")
    audience.add_argument("audience", choices=[a.value for a in Audience])
    _add_log_command(command)
    status = command(
        "status", _status, "per kiosk: audience, approval, camera wanted by the hub and reported"
    )
    status.add_argument("location", metavar="LOCATION", nargs="?", help="it and beneath it")
    status.add_argument("--json", action="store_true")
    notice = command("notice", _notice, "write a place's printable camera notice (PDF)")
    notice.add_argument("location", metavar="LOCATION")
    notice.add_argument("--out", type=Path, required=True, metavar="FILE", help="the PDF to write")
    notice.add_argument("--size", choices=("A4", "A5"), default="A4")


def _add_log_command(command: Callable[..., argparse.ArgumentParser]) -> None:
    log = command(
        "log",
        _log,
        "the camera audit log, oldest first: who switched which camera on or off (or left it "
        "to the kiosk's own file), who approved, withdrew or set an audience, when, why, on "
        "which model; each entry chained to the one before by sha256",
    )
    log.add_argument("--since", type=_aware, help="ISO 8601, inclusive")
    log.add_argument("--until", type=_aware, help="ISO 8601, exclusive")
    log.add_argument("--device", metavar="DEVICE_ID", help="only this kiosk's")
    log.add_argument("--location", help="only at this place and beneath it")
    form = log.add_mutually_exclusive_group()
    form.add_argument("--csv", action="store_true", help="CSV, for a spreadsheet or an auditor")
    form.add_argument("--json", action="store_true")
    form.add_argument(
        "--verify",
        action="store_true",
        help="recompute the sha256 chain of the whole log; exit 1 naming the first entry "
        "changed, removed or slipped in",
    )
