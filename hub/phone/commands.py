"""`seed-hub qr issue|list|revoke|reissue|poster`: the links a poster's QR code carries, and
the poster itself, for a manager or an admin at a terminal. The same rules as the dashboard's
API (hub/web/routes_phone_admin.py)."""

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from hub.cli_options import DB, Commands, SettingsFrom
from hub.clock import utc_now
from hub.config import HubSettings
from hub.db import run_migrated
from hub.models import Location
from hub.phone.links import Link, issue_link, links_of, live_link, reissue_link, revoke_link
from hub.phone.poster import PAGES, poster_pdf, poster_svg
from hub.web.routes_phone_admin import link_url, poster_of
from protocol.errors import ConfigError

Action = Callable[[Session, argparse.Namespace, HubSettings], None]
FORMATS = (".pdf", ".svg")
PUBLIC_URL_VARIABLE = "SEED_HUB_PHONE_PUBLIC_URL"


def _by() -> str:
    """Who is typing: the OS user, as the links record who made them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return "cli"


def _command(action: Action, settings_from: SettingsFrom) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        settings = settings_from(args)
        run_migrated(settings.database_url, lambda session: action(session, args, settings))
        return 0

    return run


def public_base(settings: HubSettings) -> str:
    """Where phones reach the hub; without SEED_HUB_PHONE_PUBLIC_URL, the dashboard's own
    address, with a warning: a printed poster should not carry a loopback address."""
    if settings.phone.public_url:
        return settings.phone.public_url
    base = f"http://{settings.web.host}:{settings.web.port}"
    print(
        f"seed-hub: warning: {PUBLIC_URL_VARIABLE} is not set; links use {base}. Set it to "
        "where phones reach the hub (https://feedback.example.com) before printing posters.",
        file=sys.stderr,
    )
    return base


def _shown(link: Link, base: str) -> str:
    return f"{link_url(base, link)}  (token {link.token})"


def _issue(session: Session, args: argparse.Namespace, settings: HubSettings) -> None:
    link = issue_link(
        session, location_id=args.location, device_id=args.kiosk, by=args.by, now=utc_now()
    )
    print(f"new link to {args.location}: {_shown(link, public_base(settings))}")


def _list(session: Session, args: argparse.Namespace, settings: HubSettings) -> None:
    if session.get(Location, args.location) is None:
        raise ConfigError(f"no location {args.location!r}; see `seed-hub locations list`")
    links = sorted(links_of(session, location_id=args.location), key=lambda link: not link.live)
    if not links:
        print(f"{args.location} has no links; make one with `seed-hub qr issue {args.location}`")
        return
    base = public_base(settings)
    print(f"{'token':<24} {'kiosk':<16} {'created (by)':<34} {'revoked':<17} url")
    for link in links:
        created = f"{link.created_at:%Y-%m-%d %H:%M} ({link.created_by})"
        revoked = f"{link.revoked_at:%Y-%m-%d %H:%M}" if link.revoked_at else "live"
        kiosk = link.device_id or "-"
        print(f"{link.token:<24} {kiosk:<16} {created:<34} {revoked:<17} {link_url(base, link)}")


def _revoke(session: Session, args: argparse.Namespace, _settings: HubSettings) -> None:
    link = revoke_link(session, token=args.token, by=args.by, now=utc_now())
    print(f"link {link.token} to {link.location_id} revoked; its page now says so")


def _reissue(session: Session, args: argparse.Namespace, settings: HubSettings) -> None:
    link = reissue_link(session, token=args.token, by=args.by, now=utc_now())
    print(
        f"link {args.token} revoked; new link to {link.location_id}: "
        f"{_shown(link, public_base(settings))}"
    )


def _poster(session: Session, args: argparse.Namespace, settings: HubSettings) -> None:
    out: Path = args.out
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(f"--out {out}: name a .pdf or a .svg file (the format follows it)")
    link = _poster_link(session, args)
    poster = poster_of(
        session, location_id=link.location_id, url=link_url(public_base(settings), link)
    )
    content = poster_pdf(poster, args.size) if suffix == ".pdf" else poster_svg(poster, args.size)
    try:
        out.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot write {out}: {exc.strerror}; pick another --out") from exc
    print(f"poster of {args.location} ({args.size.upper()}) written to {out}: {poster.url}")


def _poster_link(session: Session, args: argparse.Namespace) -> Link:
    """The link asked for (live, and the location's), else the place's newest live one."""
    if args.token is None:
        return live_link(session, location_id=args.location, by=args.by, now=utc_now())
    for link in links_of(session, location_id=args.location, live_only=True):
        if link.token == args.token:
            return link
    raise ConfigError(
        f"no live link {args.token!r} to {args.location!r}; see `seed-hub qr list {args.location}`"
    )


def add_qr_commands(commands: Commands, settings_from: SettingsFrom) -> None:
    qr = commands.add_parser(
        "qr",
        help="the phone survey's QR links and posters",
        description="A poster's QR code carries a link (/t/TOKEN) to a place's survey on "
        "travellers' phones. Issue one per poster or per kiosk; revoke it when the poster "
        f"comes down, reissue it when it is reprinted. Links point at {PUBLIC_URL_VARIABLE} "
        "(where phones reach the hub); set it before printing.",
    )
    actions = qr.add_subparsers(dest="action", required=True)
    by = argparse.ArgumentParser(add_help=False)
    by.add_argument("--by", default=_by(), metavar="NAME", help="who (default: your OS user)")

    def command(name: str, action: Action, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(
            name, help=help_text, description=help_text, parents=[DB, by]
        )
        parser.set_defaults(run=_command(action, settings_from))
        return parser

    issue = command("issue", _issue, "a new live link to a location (or to one of its kiosks)")
    issue.add_argument("location")
    issue.add_argument("--kiosk", metavar="DEVICE", help="a kiosk standing at the location")
    listing = command("list", _list, "a location's links, live ones first")
    listing.add_argument("location")
    revoke = command("revoke", _revoke, "take a link down: its page then says so kindly")
    revoke.add_argument("token")
    reissue = command("reissue", _reissue, "revoke a link and issue its place a new one")
    reissue.add_argument("token")
    poster = command(
        "poster",
        _poster,
        "a printable poster of a location's newest live link (one is issued if it has none)",
    )
    poster.add_argument("location")
    poster.add_argument(
        "--out", type=Path, required=True, metavar="FILE", help="poster.pdf or poster.svg"
    )
    poster.add_argument("--size", choices=sorted(PAGES), default="a4", help="paper (default a4)")
    poster.add_argument("--token", help="a live link of the location (default: its newest)")
