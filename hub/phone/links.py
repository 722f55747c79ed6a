"""The links a poster's QR code carries (`/t/<token>`): issued per touchpoint or per kiosk,
revoked when a poster is taken down or reprinted.

A token is 128 random bits: it names a place, grants nothing else, and cannot be guessed
from another one.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Device, Location, PhoneLink
from protocol.errors import ConfigError

TOKEN_BYTES = 16
TOKEN_PATTERN = r"[A-Za-z0-9_-]{22}"
"""What `secrets.token_urlsafe(TOKEN_BYTES)` makes: a path with anything else is no link."""
MAX_LIVE_LINKS = 20
"""Live links a place may have: one per kiosk and a few posters; more is a script gone wrong."""


@dataclass(frozen=True)
class Link:
    token: str
    location_id: str
    device_id: str | None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None

    @property
    def live(self) -> bool:
        return self.revoked_at is None

    def path(self) -> str:
        return f"/t/{self.token}"


def _link(row: PhoneLink) -> Link:
    return Link(
        row.token, row.location_id, row.device_id, row.created_at, row.created_by, row.revoked_at
    )


def issue_link(
    session: Session, *, location_id: str, by: str, now: datetime, device_id: str | None = None
) -> Link:
    """A new live link to the place (or to one of its kiosks)."""
    if session.get(Location, location_id) is None:
        raise ConfigError(f"no location {location_id!r}; see `seed-hub locations list`")
    if device_id is not None:
        device = session.get(Device, device_id)
        if device is None or device.location_id != location_id:
            raise ConfigError(f"no kiosk {device_id!r} stands at {location_id!r}")
    if len(links_of(session, location_id=location_id, live_only=True)) >= MAX_LIVE_LINKS:
        raise ConfigError(
            f"{location_id!r} has {MAX_LIVE_LINKS} live links already; revoke one first"
        )
    row = PhoneLink(
        token=secrets.token_urlsafe(TOKEN_BYTES),
        location_id=location_id,
        device_id=device_id,
        created_at=now,
        created_by=by,
    )
    session.add(row)
    session.flush()
    return _link(row)


def revoke_link(session: Session, *, token: str, by: str, now: datetime) -> Link:
    """Take a link down: its page then says so kindly. Revoking twice changes nothing."""
    row = session.get(PhoneLink, token)
    if row is None:
        raise ConfigError(f"no link {token!r}; see `seed-hub qr list LOCATION`")
    if row.revoked_at is None:
        row.revoked_at = now
        row.revoked_by = by
    return _link(row)


def reissue_link(session: Session, *, token: str, by: str, now: datetime) -> Link:
    """Revoke a link and issue its place (and kiosk) a new one: a reprinted poster."""
    old = revoke_link(session, token=token, by=by, now=now)
    return issue_link(session, location_id=old.location_id, device_id=old.device_id, by=by, now=now)


def links_of(session: Session, *, location_id: str, live_only: bool = False) -> list[Link]:
    """The place's links, newest first."""
    statement = select(PhoneLink).where(PhoneLink.location_id == location_id)
    if live_only:
        statement = statement.where(PhoneLink.revoked_at.is_(None))
    rows = session.scalars(statement.order_by(PhoneLink.created_at.desc(), PhoneLink.token))
    return [_link(row) for row in rows]


def find_link(session: Session, *, token: str) -> Link | None:
    row = session.get(PhoneLink, token)
    return None if row is None else _link(row)


def live_link(session: Session, *, location_id: str, by: str, now: datetime) -> Link:
    """The place's newest live link without a kiosk, issued if it has none: what a poster
    printed from the dashboard or the command line carries."""
    for link in links_of(session, location_id=location_id, live_only=True):
        if link.device_id is None:
            return link
    return issue_link(session, location_id=location_id, by=by, now=now)
