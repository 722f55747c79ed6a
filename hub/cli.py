"""`seed-hub`: run ingest, print reports, manage locations, devices, users, alerts, teams and
tasks."""

import argparse
import dataclasses
import gc
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub import __version__
from hub.alerts.commands import add_alert_commands
from hub.app import Hub, HubRole
from hub.camera.commands import add_camera_commands, cli_actor
from hub.camera.governance import set_audience
from hub.cli_options import DB, Commands, session_command
from hub.clock import Clock, as_utc, utc_now
from hub.config import HubSettings, MqttSettings, WebSettings
from hub.db import make_engine, migrate, schema_revision, session_factory
from hub.file_modes import private_data_dir, private_file
from hub.first_admin import hand_over_first_admin, retire_first_password
from hub.fleet.commands import add_fleet_commands
from hub.hierarchy import LocationTree
from hub.ingest.dead_letters import add_dead_letter_commands
from hub.ingest.store import add_location, flagged_presses
from hub.models import Audience, Location
from hub.phone.commands import add_qr_commands
from hub.protocol_commands import add_protocol_commands
from hub.reporting.analytics import rolled_up_report
from hub.reporting.exports import BY_CHOICES, reasons_csv, responses_csv, scores_csv
from hub.reporting.pdf import write_site_report
from hub.reporting.reasons import reasons
from hub.rollups.buckets import Period
from hub.signing import session_secret
from hub.surveys.commands import add_survey_commands
from hub.tasks.commands import add_task_commands, add_team_commands
from hub.users import Role, add_user, disable_user, list_users
from hub.workers import plan_workers, supervise
from protocol.errors import ConfigError, SeedError
from protocol.lab_aliases import add_lab_aliases
from protocol.logs import configure_logging
from protocol.text import for_log
from protocol.validation import summarise

REPORT_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _aware(text: str) -> datetime:
    """ISO 8601; a time without an offset is taken as UTC."""
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from exc


def _settings(args: argparse.Namespace) -> HubSettings:
    """The environment's settings, but for the command line's --db, --broker and --web-port."""
    overrides: dict[str, Any] = {}
    try:
        if db := getattr(args, "db", None):
            overrides["db"] = db
        if broker := getattr(args, "broker", None):
            overrides["mqtt"] = MqttSettings(broker=broker)
        if (port := getattr(args, "web_port", None)) is not None:
            overrides["web"] = WebSettings(port=port)
        return HubSettings(**overrides)
    except ValidationError as exc:
        raise ConfigError(f"invalid hub settings: {summarise(exc)}") from exc


def _serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    role = HubRole(args.role)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if args.workers > 1:
        return _serve_workers(settings, role, args, stop)
    hub = Hub(settings, role=role)
    address = hub.start()
    if address is not None:
        print(f"seed-hub: ingesting from {address.url}", flush=True)
    if hub.web is not None:
        print(f"seed-hub: dashboard at {hub.web.url}", flush=True)
    _first_admin(settings, hub.sessions)
    # Start-up's objects live as long as the process: out of every collection, they no
    # longer add a 60 ms pause to one request in ten (measured on a site's year view).
    gc.freeze()
    try:
        stop.wait(args.duration)
    finally:
        hub.stop()
    return 0


def _serve_workers(
    settings: HubSettings, role: HubRole, args: argparse.Namespace, stop: threading.Event
) -> int:
    """Migrate once, then run K workers of the role (a supervisor, not a hub itself)."""
    workers, web_url = plan_workers(settings, role, args.workers, args.log_level)
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        _first_admin(settings, session_factory(engine))
    finally:
        engine.dispose()
    session_secret(settings)  # made once here, or each worker would make its own
    print(f"seed-hub: {args.workers} {role.value} workers", flush=True)
    if web_url:
        print(f"seed-hub: dashboard at {web_url} ({args.workers} processes)", flush=True)
    return supervise(workers, stop, args.duration)


def _first_admin(settings: HubSettings, sessions: sessionmaker[Session]) -> None:
    """Keep the data folder private, then hand the first admin's password over in a file
    there: never on stdout, which under systemd is the journal."""
    private_data_dir(settings.data_dir, fleet_folder=settings.fleet_folder)
    with sessions.begin() as session:
        retire_first_password(session, settings.data_dir)
        handed_over = hand_over_first_admin(session, settings.data_dir)
    if handed_over:
        print(
            f"seed-hub: first start, created user 'admin'; his password is in {handed_over}"
            " (readable by this user only, deleted once he has changed it;"
            " add your own users with `seed-hub users add`)",
            flush=True,
        )


def _report(args: argparse.Namespace) -> int:
    engine = make_engine(_settings(args).database_url)
    migrate(engine)
    if args.pdf:
        if not args.site:
            raise ConfigError("--pdf needs --site SITE_ID")
        with session_factory(engine)() as session:
            write_site_report(session, args.site, _period(args), args.pdf)
        print(f"report of {args.site} written to {args.pdf}")
        return 0
    with session_factory(engine)() as session:
        scores = rolled_up_report(
            session,
            since=args.since,
            until=args.until,
            include_misuse=args.include_misuse,
            camera=_settings(args).camera,
        )
    rows = [score.as_dict() for score in scores]
    if args.json:
        with session_factory(engine)() as session:
            _add_reasons(session, rows, args)
        print(json.dumps(rows, indent=2, default=str, ensure_ascii=False))
    else:
        print(format_table(rows))
    return 0


def _add_reasons(session: Session, rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """Each row's follow-up reasons, over the report's period (all time without --since)."""
    period = Period(args.since or REPORT_EPOCH, args.until or utc_now())
    tree = LocationTree.load(session)
    for row in rows:
        if row["location"] in tree:
            found = reasons(session, tree=tree, location_id=row["location"], period=period)
            row["reasons"] = {
                "negative": dataclasses.asdict(found.negative),
                "positive": dataclasses.asdict(found.positive),
            }


def _period(args: argparse.Namespace, clock: Clock = utc_now) -> Period:
    """--since/--until; without --since, the 7 days before --until (default now)."""
    until = args.until or clock()
    period = Period(args.since, until) if args.since else Period.last(7, until=until)
    if period.since >= period.until:
        raise ConfigError("--since must come before --until")
    return period


def _export(args: argparse.Namespace) -> int:
    engine = make_engine(_settings(args).database_url)
    migrate(engine)
    with session_factory(engine)() as session, _output(args.out) as out:
        tree = LocationTree.load(session)
        if args.location and args.location not in tree:
            raise ConfigError(f"no location {args.location!r}")
        locations = tree.subtree(args.location) if args.location else set(tree.places)
        period = _period(args)
        if args.what == "responses":
            chunks = responses_csv(session, locations, period)
        elif args.what == "reasons":
            chunks = reasons_csv(session, tree, locations, period)
        else:
            chunks = scores_csv(session, tree, locations, period, args.by)
        for chunk in chunks:
            out.write(chunk)
    return 0


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    """Standard output, or `path` made for its owner only: an export holds every response."""
    if path is None:
        yield sys.stdout
        return
    if path.is_file() or not path.exists():  # a pipe or a terminal keeps its mode
        private_file(path)
    with path.open("w", encoding="utf-8", newline="") as out:
        yield out


def format_table(rows: list[dict[str, Any]]) -> str:
    header = (
        f"{'location':<28} {'n':>6} {'index':>6} {'positive (95% CI)':>24} {'misuse':>7}"
        f" {'observed':>9} {'gap':>6}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        index = "-" if row["happy_index"] is None else f"{row['happy_index']:.0f}"
        if row["positive_share"] is None:
            positive = "-"
        else:
            low, high = row["positive_ci"]
            positive = f"{row['positive_share']:.0%} ({low:.0%}-{high:.0%})"
        observed, gap = _observed_columns(row)
        lines.append(
            f"{row['location']:<28} {row['responses']:>6} {index:>6} {positive:>24} "
            f"{row['misuse']:>7} {observed:>9} {gap:>6}"
        )
    return "\n".join(lines)


def _observed_columns(row: dict[str, Any]) -> tuple[str, str]:
    """The observed index (from the cameras) with its coverage, "71 (62%)", and its gap to the
    Happy Index; "hidden" with too few readings to show (fewer than k, or a smaller group
    beneath would show), dashes without any."""
    observed = row.get("observed")
    if not observed:
        suppressed = row.get("observed_suppressed")
        return ("hidden" if suppressed else "-"), "-"
    gap = "-" if observed["gap"] is None else f"{observed['gap']:+.0f}"
    coverage = "" if observed["coverage"] is None else f" ({observed['coverage']:.0%})"
    return f"{observed['observed_index']:.0f}{coverage}", gap


def _with_session(action: Callable[[Any, argparse.Namespace], None]) -> Callable[..., int]:
    return session_command(action, _settings)


def _locations_add(session: Any, args: argparse.Namespace) -> None:
    add_location(
        session, location_id=args.location_id, name=args.name or args.location_id, time_zone=args.tz
    )
    print(f"location {args.location_id} ({args.tz}) saved")
    if args.audience:
        turned_off = set_audience(
            session,
            args.location_id,
            Audience(args.audience),
            actor=cli_actor(),
            now=utc_now(),
            max_config_bytes=_settings(args).ingest.max_payload_bytes,
        )
        print(
            f"audience: {args.audience}"
            + (f"; cameras turned off: {', '.join(turned_off)}" if turned_off else "")
        )


def _locations_list(session: Any, _args: argparse.Namespace) -> None:
    for loc in session.scalars(select(Location).order_by(Location.location_id)):
        location_id, name = for_log(loc.location_id), for_log(loc.name)  # stored before checks
        print(f"{location_id:<28} {loc.time_zone:<24} {name}")


def _flagged(session: Any, _args: argparse.Namespace) -> None:
    print(json.dumps(flagged_presses(session), indent=2))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seed-hub", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("--log-level", default="INFO")
    commands = parser.add_subparsers(dest="command", required=True)
    for add_commands in (_add_serve_and_report, _add_registry):
        add_commands(commands)
    add_lab_aliases(commands, parser.prog)  # bench, soak, chaos: for one release
    return parser


def _add_serve_and_report(commands: Commands) -> None:
    serve = commands.add_parser(
        "serve", help="ingest events until stopped (SIGINT/SIGTERM)", parents=[DB]
    )
    serve.add_argument(
        "--broker",
        metavar="URL",
        help="mqtt://host:port of Mosquitto; default: start an embedded broker",
    )
    serve.add_argument("--duration", type=float, metavar="S", help="stop by itself after S s")
    serve.add_argument(
        "--role",
        choices=[r.value for r in HubRole],
        default=HubRole.ALL.value,
        help="ingest: store and acknowledge (and run alerts, configs, reports in one of them); "
        "web: the dashboard and its API; all (default): both, as one small hub does",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="K",
        help="K processes of the role: ingest workers share one subscription (needs --broker), "
        "web workers share one port",
    )
    serve.add_argument(
        "--web-port",
        type=int,
        metavar="PORT",
        help="the dashboard's port (default $SEED_HUB_WEB_PORT, else 8080; a free one if taken)",
    )
    serve.set_defaults(run=_serve)

    report = commands.add_parser("report", help="per-location scores", parents=[DB])
    report.add_argument("--json", action="store_true", help="JSON instead of a table")
    report.add_argument("--since", type=_aware, help="ISO 8601, inclusive")
    report.add_argument("--until", type=_aware, help="ISO 8601, exclusive")
    report.add_argument(
        "--include-misuse", action="store_true", help="count presses flagged as misuse too"
    )
    report.add_argument("--pdf", type=Path, metavar="FILE", help="write a site's PDF report")
    report.add_argument("--site", help="the site of the PDF report")
    report.set_defaults(run=_report)

    export = commands.add_parser(
        "export", help="CSV of responses, scores or reasons (streamed)", parents=[DB]
    )
    export.add_argument("what", choices=("responses", "scores", "reasons"))
    export.add_argument("--location", help="a location and everything beneath it (default all)")
    export.add_argument("--since", type=_aware, help="ISO 8601, inclusive (default: 7 days ago)")
    export.add_argument("--until", type=_aware, help="ISO 8601, exclusive (default: now)")
    export.add_argument("--by", choices=BY_CHOICES, default="day", help="scores: rows per ...")
    export.add_argument("--out", type=Path, metavar="FILE", help="default: standard output")
    export.set_defaults(run=_export)


def _add_registry(commands: Commands) -> None:
    locations = commands.add_parser("locations", help="sites, areas, touchpoints, time zones")
    location_commands = locations.add_subparsers(dest="action", required=True)
    add = location_commands.add_parser("add", help="create or update a location", parents=[DB])
    add.add_argument("location_id")
    add.add_argument("--name")
    add.add_argument("--tz", required=True, help="IANA time zone, e.g. Europe/Helsinki")
    add.add_argument(
        "--audience",
        choices=[a.value for a in Audience],
        help="who answers there (and beneath, unless stricter): no camera where employees or "
        "education (see `seed-hub camera audience`); left out: as it is (new: public)",
    )
    add.set_defaults(run=_with_session(_locations_add))
    listing = location_commands.add_parser("list", parents=[DB])
    listing.set_defaults(run=_with_session(_locations_list))

    add_fleet_commands(commands, _settings)
    add_alert_commands(commands, _settings)
    add_team_commands(commands, _settings)
    add_task_commands(commands, _settings)
    add_survey_commands(commands, _settings)
    add_qr_commands(commands, _settings)
    add_camera_commands(commands, _settings)

    _add_users(commands)
    _add_db(commands)

    add_dead_letter_commands(commands, _settings)
    add_protocol_commands(commands)
    flagged = commands.add_parser(
        "flagged",
        help="presses kept out of scores by the hub (too_fast, backdated), per kiosk",
        description="Presses the hub stored but left out of scores: closer together than "
        "SEED_HUB_MIN_PRESS_INTERVAL_S (too_fast) or older than SEED_HUB_MAX_EVENT_AGE_DAYS "
        "(backdated), though the kiosk did not flag them. Many on one kiosk: look at it.",
        parents=[DB],
    )
    flagged.set_defaults(run=_with_session(_flagged))


def _users_add(session: Any, args: argparse.Namespace) -> None:
    password = add_user(
        session,
        username=args.username,
        role=Role(args.role),
        password=args.password,
        sites=tuple(args.site or ()),
    )
    shown = "the password you gave" if args.password else f"password {password} (shown once)"
    print(f"user {args.username} ({args.role}) saved; signs in with {shown}")


def _users_list(session: Any, _args: argparse.Namespace) -> None:
    for user in list_users(session):
        print(f"{user.username:<24} {user.role.value:<11} {', '.join(user.sites)}")


def _users_disable(session: Any, args: argparse.Namespace) -> None:
    disable_user(session, username=args.username)
    print(f"user {args.username} disabled; his sessions end at his next request")


def _db_upgrade(args: argparse.Namespace) -> int:
    engine = make_engine(_settings(args).database_url)
    try:
        before = schema_revision(engine)
        migrate(engine, revision=args.revision)
        after = schema_revision(engine)
    finally:
        engine.dispose()
    if before == after:
        print(f"schema already at {after}")
    else:
        print(f"schema migrated from {before or 'empty'} to {after}")
    return 0


def _db_current(args: argparse.Namespace) -> int:
    engine = make_engine(_settings(args).database_url)
    try:
        print(schema_revision(engine) or "empty (never migrated)")
    finally:
        engine.dispose()
    return 0


def _add_db(commands: Commands) -> None:
    db = commands.add_parser("db", help="the database schema (Alembic migrations)")
    actions = db.add_subparsers(dest="action", required=True)
    upgrade = actions.add_parser(
        "upgrade",
        help="migrate the schema (every hub process also does this on start)",
        description="Run before starting new hub versions on a shared database, so that "
        "workers never race to migrate. The same migrations run on SQLite and PostgreSQL.",
        parents=[DB],
    )
    upgrade.add_argument("--revision", default="head", help="target revision (default head)")
    upgrade.set_defaults(run=_db_upgrade)
    current = actions.add_parser("current", help="the schema's revision", parents=[DB])
    current.set_defaults(run=_db_current)


def _add_users(commands: Commands) -> None:
    users = commands.add_parser("users", help="who may sign in to the dashboard")
    actions = users.add_subparsers(dest="action", required=True)
    add = actions.add_parser(
        "add", help="create a user, or reset his role, sites and password", parents=[DB]
    )
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument(
        "--site", action="append", metavar="SITE", help="a site a manager sees (repeatable)"
    )
    add.add_argument("--password", help="default: a random one, printed once")
    add.set_defaults(run=_with_session(_users_add))
    listing = actions.add_parser("list", help="users who may sign in", parents=[DB])
    listing.set_defaults(run=_with_session(_users_list))
    disable = actions.add_parser("disable", help="stop a user signing in", parents=[DB])
    disable.add_argument("username")
    disable.set_defaults(run=_with_session(_users_disable))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(args.log_level, quiet=("amqtt", "transitions", "alembic"))
    try:
        code: int = args.run(args)
    except SeedError as exc:
        print(f"seed-hub: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
