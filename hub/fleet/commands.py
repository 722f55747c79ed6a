"""`seed-hub fleet …` and `seed-hub devices …`: what a technician types, one kiosk or fifty."""

import argparse
import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.camera.commands import cli_actor
from hub.cli_options import DB, Commands, SettingsFrom
from hub.config import HubSettings
from hub.db import make_engine, migrate, session_factory
from hub.fleet.broker_files import BrokerLayout
from hub.fleet.provision import (
    BROKER_URL_SETTING,
    UNSET,
    Fleet,
    Site,
    apply_changes,
    devices_overview,
    init_fleet,
)
from protocol.errors import ConfigError
from protocol.text import for_log

Action = Callable[[Fleet, argparse.Namespace, HubSettings], None]


def _runner(action: Action, settings_from: SettingsFrom) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        settings = settings_from(args)
        if getattr(args, "broker_url", None):
            fleet_settings = settings.fleet.model_copy(
                update={BROKER_URL_SETTING[args.auth]: args.broker_url}
            )
            settings = settings.model_copy(update={"fleet": fleet_settings})
        engine = make_engine(settings.database_url)
        try:
            migrate(engine)
            sessions = session_factory(engine)
            with sessions.begin() as session:
                fleet = Fleet(session, settings)
                action(fleet, args, settings)
            for line in apply_changes(fleet.pending, settings, sessions):
                print(line)
        finally:
            engine.dispose()
        return 0

    return run


def _site(args: argparse.Namespace, location: str) -> Site:
    return Site(
        site=args.site, area=args.area, location=location, time_zone=args.tz, name=args.name
    )


def _fleet_init(fleet: Fleet, args: argparse.Namespace, settings: HubSettings) -> None:
    layout = BrokerLayout(
        settings.fleet_folder,
        hub_port=args.hub_port,
        password_port=args.password_port,
        certificate_port=args.certificate_port,
    )
    for path in init_fleet(settings, hosts=args.host, layout=layout):
        print(f"wrote {path}")
    fleet.pending.broker_files = True
    print(
        f"next: append {layout.folder / 'hub.env'} to /etc/seed-hub/hub.env, link "
        f"{layout.config_file} into /etc/mosquitto/conf.d/, make {layout.folder} readable "
        "by the mosquitto group, and restart mosquitto and seed-hub"
    )


def _fleet_sync(fleet: Fleet, _args: argparse.Namespace, _settings: HubSettings) -> None:
    fleet.pending.broker_files = True


def _devices_add(fleet: Fleet, args: argparse.Namespace, _settings: HubSettings) -> None:
    folder = fleet.add(
        args.device_id,
        _site(args, args.location),
        auth=args.auth,
        out_dir=args.out,
        display=args.display,
        actor=cli_actor(),
    )
    bundle = f"; bundle in {folder}" if folder else " (no credentials: give --out for a bundle)"
    print(f"{args.device_id} registered at {args.location}{bundle}")


def _devices_import(fleet: Fleet, args: argparse.Namespace, _settings: HubSettings) -> None:
    """One kiosk per CSV row: device_id, site, area, location, tz (area and tz may be empty)."""
    with args.csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    missing = {"device_id", "site", "location"} - set(rows[0] if rows else {})
    if missing:
        raise ConfigError(f"{args.csv}: needs the columns {sorted(missing)} in its header row")
    for number, row in enumerate(rows, start=1):
        site = Site(
            site=row["site"],
            area=row.get("area") or None,
            location=row["location"],
            time_zone=row.get("tz") or "UTC",
            name=row.get("name") or None,
        )
        try:
            folder = fleet.add(
                row["device_id"], site, auth=args.auth, out_dir=args.out, actor=cli_actor()
            )
        except ConfigError as exc:
            raise ConfigError(f"{args.csv} row {number + 1}: {exc}; nothing was saved") from exc
        print(f"[{number}/{len(rows)}] {row['device_id']} at {row['location']}: {folder}")


def _devices_list(fleet: Fleet, args: argparse.Namespace, _settings: HubSettings) -> None:
    devices = devices_overview(fleet.session)
    if args.json:
        print(json.dumps(devices, indent=2))
        return
    for d in devices:
        # What a kiosk sent, stored before text was checked, reaches the terminal escaped.
        device_id, location_id = for_log(d["device_id"]), for_log(d["location_id"] or "-")
        print(
            f"{device_id:<24} {location_id:<24} {d['state']:<8} "
            f"{d['auth'] or 'no credentials':<14} last seen {d['last_seen_at'] or 'never'} "
            f"config v{d['applied_config_version'] or '-'}/{d['config_version'] or '-'}"
            + (f" REFUSED: {for_log(d['config_error'])}" if d["config_error"] else "")
        )


def _devices_move(fleet: Fleet, args: argparse.Namespace, _settings: HubSettings) -> None:
    config = fleet.move(args.device_id, _site(args, args.location), actor=cli_actor())
    print(f"{args.device_id} moved to {args.location}; config v{config.version} goes to the kiosk")


def _devices_rotate(fleet: Fleet, args: argparse.Namespace, _settings: HubSettings) -> None:
    folder = fleet.rotate(args.device_id, out_dir=args.out, auth=args.auth)
    print(f"{args.device_id}: new credentials go to {folder}; the old ones stop working")


def _devices_revoke(fleet: Fleet, args: argparse.Namespace, _settings: HubSettings) -> None:
    fleet.revoke(args.device_id, actor=cli_actor())
    print(f"{args.device_id} revoked; its past data stays")


CAMERA_SETTINGS: dict[str | None, bool | str | None] = {
    None: None,
    "on": True,
    "off": False,
    "default": UNSET,
}


def _devices_configure(fleet: Fleet, args: argparse.Namespace, settings: HubSettings) -> None:
    config = fleet.configure(
        args.device_id,
        actor=cli_actor(),
        reason=args.reason,
        response_interval_s=args.response_interval,
        heartbeat_s=args.heartbeat,
        camera_enabled=CAMERA_SETTINGS[args.camera],
    )
    print(
        f"{args.device_id}: config v{config.version} {json.dumps(config.settings())}; "
        f"the hub publishes it within {settings.fleet.config_publish_s:g} s"
    )


def add_fleet_commands(commands: Commands, settings_from: SettingsFrom) -> None:
    def command(group: Commands, name: str, action: Action, help_text: str) -> Any:
        parser = group.add_parser(name, help=help_text, description=help_text, parents=[DB])
        parser.set_defaults(run=_runner(action, settings_from))
        return parser

    fleet = commands.add_parser("fleet", help="the fleet CA and the broker's files")
    fleet_commands = fleet.add_subparsers(dest="action", required=True)
    init = command(
        fleet_commands, "init", _fleet_init, "create the CA, broker certificate and accounts"
    )
    init.add_argument(
        "--host", action="append", required=True, help="name kiosks dial (repeat for more)"
    )
    init.add_argument("--hub-port", type=int, default=1883)
    init.add_argument("--password-port", type=int, default=8883)
    init.add_argument("--certificate-port", type=int, default=8884)
    command(fleet_commands, "sync", _fleet_sync, "rewrite the broker's files from the database")

    devices = commands.add_parser("devices", help="kiosks: provision, list, move, rotate, revoke")
    device_commands = devices.add_subparsers(dest="action", required=True)
    add = command(device_commands, "add", _devices_add, "register a kiosk and write its bundle")
    add.add_argument("device_id")
    add.add_argument(
        "--display",
        action="store_true",
        help="the kiosk has a touch display: its bundle sets up the page and the browser",
    )
    _placement_arguments(add)
    _credential_arguments(add)
    batch = command(device_commands, "import", _devices_import, _devices_import.__doc__ or "")
    batch.add_argument("csv", type=Path)
    _credential_arguments(batch)
    listing = command(device_commands, "list", _devices_list, "every kiosk and its state")
    listing.add_argument("--json", action="store_true")
    move = command(device_commands, "move", _devices_move, "stand a kiosk at another touchpoint")
    move.add_argument("device_id")
    _placement_arguments(move)
    rotate = command(device_commands, "rotate", _devices_rotate, "issue new credentials")
    rotate.add_argument("device_id")
    rotate.add_argument("--out", type=Path, required=True, help="folder for the new bundle")
    rotate.add_argument("--auth", choices=("password", "certificate"))
    revoke = command(device_commands, "revoke", _devices_revoke, "the kiosk can no longer connect")
    revoke.add_argument("device_id")
    configure = command(
        device_commands, "configure", _devices_configure, "push settings to a running kiosk"
    )
    configure.add_argument("device_id")
    configure.add_argument("--response-interval", type=float, metavar="S")
    configure.add_argument("--heartbeat", type=float, metavar="S")
    configure.add_argument(
        "--camera",
        choices=("on", "off", "default"),
        help="turn the camera on or off; default: as the kiosk's own file says (which may turn "
        "it on). On and default need a place whose audience is public and a recorded approval "
        "(`seed-hub camera approve`); every switch is written to the camera audit log",
    )
    configure.add_argument(
        "--reason",
        metavar="TEXT",
        help="why the camera is switched, for the audit log (default: the approval's impact "
        "assessment and approver when turned on)",
    )


def _placement_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--site", help="the site (an airport), e.g. hel; without it the location must exist"
    )
    parser.add_argument("--area", help="optional area within the site, e.g. hel-t2")
    parser.add_argument("--location", required=True, help="the touchpoint the kiosk stands at")
    parser.add_argument("--name", help="the touchpoint's display name")
    parser.add_argument("--tz", default="UTC", help="IANA time zone of new places (default UTC)")


def _credential_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, help="write credentials and a bundle to OUT/DEVICE_ID/")
    parser.add_argument(
        "--auth",
        choices=("password", "certificate"),
        default="password",
        help="a random password (default) or an X.509 client certificate",
    )
    parser.add_argument("--broker-url", help="override $SEED_HUB_KIOSK_(CERTIFICATE_)BROKER_URL")
