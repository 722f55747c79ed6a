"""What keeps the phone survey honest and the hub responsive, before any database work:

* `Tickets`: each page step carries a signed, expiring ticket naming its link, its response
  id and the answer so far, so a step cannot be forged for another response or replayed
  for days, and a resend carries the same response id.
* `RecentResponses`: the one cookie the page sets (strictly necessary: no banner), signed,
  holding when this browser last answered at each place; a second answer within the
  response interval is flagged misuse, as a second press on a kiosk is.
* `AddressLimiter`: answers per address per minute (IPv6 per /56), in memory; a flood gets
  429 without a query.
* `WriteSlots`: phone answers being stored at once in this process; past that, 503, so that
  a flood never takes the threads the dashboard is served from.
"""

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from itsdangerous import BadSignature

from hub.clock import Clock, utc_now
from hub.signing import timed_serializer
from protocol.errors import SeedError
from protocol.messages import Button

TICKET_MAX_AGE_S = 2 * 3600
"""A traveller who leaves the page open this long starts again."""
COOKIE = "seed_phone"
MAX_PLACES_REMEMBERED = 20
MAX_ADDRESSES = 100_000
IPV6_PREFIX = 56


@dataclass(frozen=True)
class Ticket:
    token: str
    location_id: str
    """Where the link led when the question was shown: later steps need not look it up."""
    response_id: str
    button: Button | None = None


class Tickets:
    def __init__(self, secret: str, *, clock: Clock = utc_now) -> None:
        self._serializer = timed_serializer(secret, "seed-phone-ticket", clock)

    def sign(self, ticket: Ticket) -> str:
        button = None if ticket.button is None else ticket.button.value
        return self._serializer.dumps(
            [ticket.token, ticket.location_id, ticket.response_id, button]
        )

    def read(self, signed: str, *, token: str) -> Ticket | None:
        """The ticket, if it is genuine, fresh and for this link; else None."""
        try:
            found = self._serializer.loads(signed, max_age=TICKET_MAX_AGE_S)
            link, location_id, response_id, button = found
            if (
                link != token
                or not isinstance(response_id, str)
                or not isinstance(location_id, str)
            ):
                return None
            return Ticket(
                link, location_id, response_id, None if button is None else Button(button)
            )
        except (BadSignature, ValueError, TypeError):
            return None


class RecentResponses:
    """The cookie's contents: place -> when this browser last answered there (epoch s)."""

    def __init__(self, secret: str, *, interval_s: float, clock: Clock = utc_now) -> None:
        self._serializer = timed_serializer(secret, "seed-phone-recent", clock)
        self.interval_s = interval_s

    def read(self, cookie: str | None) -> dict[str, float]:
        if not cookie:
            return {}
        try:
            found = self._serializer.loads(cookie, max_age=max(math.ceil(self.interval_s), 1))
        except BadSignature:
            return {}
        if not isinstance(found, dict):
            return {}
        return {
            str(place): float(at)
            for place, at in found.items()
            if isinstance(at, int | float) and not isinstance(at, bool)
        }

    def is_recent(self, seen: dict[str, float], location_id: str, now: float) -> bool:
        return now - seen.get(location_id, float("-inf")) < self.interval_s

    def remembered(self, seen: dict[str, float], location_id: str, now: float) -> str:
        """The cookie after an answer here: places older than the interval forgotten, the
        oldest dropped past a bound."""
        kept = {p: at for p, at in seen.items() if now - at < self.interval_s and p != location_id}
        newest = sorted(kept.items(), key=lambda item: item[1])[-(MAX_PLACES_REMEMBERED - 1) :]
        return self._serializer.dumps({**dict(newest), location_id: now})


def address_key(address: str) -> str:
    """IPv4 as it is; IPv6 by its /56, the smallest block a provider usually gives a site."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False))
    return str(parsed)


class AddressLimiter:
    """A token bucket per address: `per_minute` answers a minute, a burst of as many."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(per_minute)
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, address: str) -> bool:
        key = address_key(address)
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.pop(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - then) * self._rate)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
            while len(self._buckets) > MAX_ADDRESSES:
                self._buckets.popitem(last=False)  # the one quiet longest
            return allowed

    def retry_after_s(self) -> int:
        return max(1, round(1 / self._rate))


class BusyError(SeedError):
    """Every write slot is taken."""


class WriteSlots:
    """At most `slots` writes at once; one waits up to `wait_s` for a slot, then is refused."""

    def __init__(self, slots: int, *, wait_s: float = 2.0) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self._wait_s = wait_s

    @contextmanager
    def taken(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self._wait_s):
            raise BusyError
        try:
            yield
        finally:
            self._slots.release()
