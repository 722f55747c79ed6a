"""Sign-in throttling, shared by every web process through the database.

Failed sign-ins are counted per (user name, address) and per address. Past a few free
failures each further one blocks its key for a delay that doubles, up to `max_delay_s`; a
blocked key is answered 429 with Retry-After before any password is hashed. No key names a
user alone, so an attacker slows only the guesses made from his own addresses: the admin still
signs in from another, and from the attacker's own network once a block (minutes at most) ends.
IPv6 addresses count per /56, the smallest block a provider usually gives a site. A key
quiet for `forget_after` is purged at the next sign-in, so the table holds only recent ones.

Hashing is rationed too: at most `hashing_slots` passwords are checked at once in a process,
so a burst of sign-ins cannot starve signed-in users of CPU. A sign-in that finds every slot
taken waits up to `slot_wait_s` for one, then is answered 429. So that no address can keep
the slots to itself (a user looping on his own right password would keep the admin out),
each address may check only `sign_ins_per_address` passwords per `sign_in_window`, right or
wrong; the rest wait for the next window.
"""

import hashlib
import ipaddress
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from hub.clock import Clock, utc_now
from hub.db import dialect_insert
from hub.models import LoginThrottle

MAX_DOUBLINGS = 30  # past this the delay is at its cap anyway; keeps 2**n small
IPV6_PREFIX = 56
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # sign-in windows are counted from here


@dataclass
class SignInThrottle:
    pair_free_failures: int = 5  # per (user name, address): a user who mistypes
    address_free_failures: int = 20  # per address, whatever the names: a sprayer
    base_delay_s: float = 1
    max_delay_s: float = 300
    forget_after: timedelta = timedelta(hours=1)
    hashing_slots: int = 2
    slot_wait_s: float = 3
    sign_ins_per_address: int = 10  # right or wrong, per `sign_in_window`: a hog
    sign_in_window: timedelta = timedelta(minutes=1)
    clock: Clock = utc_now
    _hashing: threading.BoundedSemaphore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._hashing = threading.BoundedSemaphore(self.hashing_slots)

    def retry_after(self, session: Session, *, username: str, address: str) -> int | None:
        """Seconds before this sign-in may be tried; None: it may be tried now."""
        now = self.clock()
        keys = [key for _free, key in self._keys(username, address)]
        until = session.scalar(
            select(func.max(LoginThrottle.blocked_until)).where(
                LoginThrottle.key_hash.in_(keys), LoginThrottle.blocked_until > now
            )
        )
        return _whole_seconds(until - now) if until else None

    def count_sign_in(self, session: Session, *, address: str) -> int | None:
        """One more password to check for the address; seconds to wait if that is one too many
        for this window, None if it may be checked."""
        now = self.clock()
        self._forget_quiet_keys(session, now)
        window_start = now - (now - EPOCH) % self.sign_in_window
        # A row of its own per window: `failures` counts its sign-ins, right or wrong.
        key = _key_hash("sign-ins", _network(address), window_start.isoformat())
        if _count(session, key, now) <= self.sign_ins_per_address:
            return None
        return _whole_seconds(window_start + self.sign_in_window - now)

    def record_failure(self, session: Session, *, username: str, address: str) -> None:
        now = self.clock()
        self._forget_quiet_keys(session, now)
        for free, key in self._keys(username, address):
            failures = _count(session, key, now)
            if failures >= free:
                doublings = min(failures - free, MAX_DOUBLINGS)
                delay = min(self.base_delay_s * 2**doublings, self.max_delay_s)
                session.execute(
                    update(LoginThrottle)
                    .where(LoginThrottle.key_hash == key)
                    .values(blocked_until=now + timedelta(seconds=delay))
                )

    def record_success(self, session: Session, *, username: str, address: str) -> None:
        """The user's own count from this address starts again (the address's does not)."""
        pair = self._keys(username, address)[0][1]
        session.execute(delete(LoginThrottle).where(LoginThrottle.key_hash == pair))

    @contextmanager
    def hashing_slot(self) -> Iterator[bool]:
        """True (and the slot held until the block ends) if a slot came free within
        `slot_wait_s`: a password may be hashed now."""
        free = self._hashing.acquire(timeout=self.slot_wait_s)
        try:
            yield free
        finally:
            if free:
                self._hashing.release()

    def _forget_quiet_keys(self, session: Session, now: datetime) -> None:
        session.execute(
            delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - self.forget_after)
        )

    def _keys(self, username: str, address: str) -> list[tuple[int, str]]:
        """(free failures, key) of the pair first, then of the address."""
        network = _network(address)
        return [
            (self.pair_free_failures, _key_hash("pair", username, network)),
            (self.address_free_failures, _key_hash("address", network)),
        ]


def _count(session: Session, key: str, now: datetime) -> int:
    """One more for the key (a new row if it has none); returns its count."""
    insert = dialect_insert(session, LoginThrottle).values(
        key_hash=key, failures=1, blocked_until=now, last_failure_at=now
    )
    statement = insert.on_conflict_do_update(
        index_elements=["key_hash"],
        set_={"failures": LoginThrottle.failures + 1, "last_failure_at": now},
    ).returning(LoginThrottle.failures)
    failures: int = session.execute(statement).scalar_one()
    return failures


def _network(address: str) -> str:
    """The address as the throttle counts it: an IPv6 host by its /56."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)


def _whole_seconds(wait: timedelta) -> int:
    """A wait as Retry-After gives it: whole seconds, at least one."""
    return max(1, math.ceil(wait.total_seconds()))


def _key_hash(*parts: str) -> str:
    """A fixed-length key whatever the name typed (any length, any character)."""
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
