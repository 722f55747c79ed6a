"""Dashboard users: argon2id-hashed passwords, three roles, and the sites a manager is given."""

import secrets
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from hub.clock import Clock, utc_now
from hub.hierarchy import LocationTree
from hub.models import Location, User, UserSite
from protocol.errors import ConfigError

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a wrong name costs what a wrong password does.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD_LENGTH = 12


class Role(StrEnum):
    MANAGER = "manager"  # the reports of the sites he is given
    TECHNICIAN = "technician"  # the fleet
    ADMIN = "admin"  # everything, and the users


@dataclass(frozen=True)
class Principal:
    """A signed-in user, as a request sees him."""

    username: str
    role: Role
    sites: tuple[str, ...]
    session_epoch: int = 0  # a session signed in under another epoch has ended

    def visible(self, tree: LocationTree) -> set[str]:
        """The locations whose reports he may read."""
        if self.role is Role.ADMIN:
            return set(tree.places)
        if self.role is Role.TECHNICIAN:
            return set()
        return set().union(*(tree.subtree(site) for site in self.sites if site in tree))


def add_user(
    session: Session,
    *,
    username: str,
    role: Role,
    password: str | None = None,
    sites: tuple[str, ...] = (),
    clock: Clock = utc_now,
) -> str:
    """Create or update a user; returns the password (a random one unless given)."""
    _check_username(username)
    password = password or secrets.token_urlsafe(15)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if role is Role.MANAGER and not sites:
        raise ConfigError("a manager needs at least one site: --site SITE_ID")
    _check_sites(session, sites)
    user = session.get(User, username)
    if user is None:
        user = User(username=username, created_at=clock(), session_epoch=0)
    else:
        user.session_epoch += 1  # a new password ends the sessions the old one opened
    user.password_hash = _hasher.hash(password)
    user.role = role.value
    user.disabled_at = None
    session.add(user)
    session.flush()
    session.execute(delete(UserSite).where(UserSite.username == username))
    session.add_all(UserSite(username=username, location_id=site) for site in sites)
    return password


def _check_username(username: str) -> None:
    if not _possible_username(username):
        raise ConfigError(f"user name {username!r}: use 1-64 letters, digits, '.', '-', '_' or '@'")


def _possible_username(username: str) -> bool:
    return (
        0 < len(username) <= 64
        and username.replace("-", "").replace(".", "").replace("_", "").replace("@", "").isalnum()
    )


def _check_sites(session: Session, sites: tuple[str, ...]) -> None:
    for site in sites:
        location = session.get(Location, site)
        if location is None:
            raise ConfigError(f"no location {site!r}; list them with `seed-hub locations list`")


def disable_user(session: Session, *, username: str, clock: Clock = utc_now) -> None:
    user = session.get(User, username)
    if user is None:
        raise ConfigError(f"no user {username!r}")
    user.disabled_at = clock()
    end_sessions(session, username=username)


def end_sessions(session: Session, *, username: str) -> None:
    """Every session the user has, on every device, ends at its next request."""
    session.execute(
        update(User)
        .where(User.username == username)
        .values(session_epoch=User.session_epoch + 1)
        .execution_options(synchronize_session="fetch")
    )


def authenticate(session: Session, *, username: str, password: str) -> Principal | None:
    """The user if the password is his and he is not disabled; None otherwise."""
    # A name no user can have (one with a NUL, which PostgreSQL refuses) is never looked up.
    user = session.get(User, username) if _possible_username(username) else None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return principal(session, username=username)


def principal(session: Session, *, username: str) -> Principal | None:
    """The user as he stands now (a disabled one, or one deleted, is no one)."""
    user = session.get(User, username)
    if user is None or user.disabled_at is not None:
        return None
    sites = session.scalars(
        select(UserSite.location_id)
        .where(UserSite.username == username)
        .order_by(UserSite.location_id)
    )
    return Principal(user.username, Role(user.role), tuple(sites), user.session_epoch)


def list_users(session: Session) -> list[Principal]:
    names = session.scalars(
        select(User.username).where(User.disabled_at.is_(None)).order_by(User.username)
    )
    return [p for name in names if (p := principal(session, username=name))]


def ensure_first_admin(session: Session, *, username: str = "admin") -> str | None:
    """On a hub without users, create an admin; returns his password (to print once)."""
    if session.scalar(select(func.count()).select_from(User)):
        return None
    return add_user(session, username=username, role=Role.ADMIN)
