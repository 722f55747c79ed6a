"""validate -> store -> acknowledge. Bad input is dead-lettered with its reason, never fatal.

`Ingestor.process` handles one batch synchronously (easy to test, no threads);
`IngestWorker` feeds it from the MQTT callback thread in batches, so one transaction and
one ack per kiosk cover many events.
"""

import itertools
import json
import logging
import queue
import threading
import time
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from hub.clock import Clock, utc_now
from hub.ingest import store
from hub.ingest.store import Registration
from hub.metrics.instruments import (
    INGEST_BATCH_SECONDS,
    INGEST_QUEUE,
    MESSAGES_DEAD_LETTERED,
    MESSAGES_DUPLICATED,
    MESSAGES_RECEIVED,
    MESSAGES_STORED,
    topic_kind,
)
from hub.models import WEB_DEVICE_ID
from hub.rollups.reasons import lock_answers
from protocol.errors import ProtocolError, StoreError
from protocol.messages import (
    EVENT_ID_PATTERN,
    Ack,
    DeviceStatus,
    FollowUp,
    PressEvent,
    Rejection,
    decode_kiosk_message,
    encode,
)
from protocol.messages import decode_status as decode_device_status
from protocol.mqtt import Message
from protocol.topics import Topics

log = logging.getLogger(__name__)

STATS_EVERY_S = 60.0
LOGGED_PER_BATCH = 3  # dead letters logged one by one; a flood of them is summed up
# Not refused to the kiosk: it keeps the event and sends it again once it has measured its
# clock against the hub's (a Pi without RTC may stamp presses in 1970 until NTP or an ack).
KEPT_BY_KIOSK = frozenset({"impossible_timestamp"})


@dataclass(frozen=True)
class Inbound:
    topic: str
    payload: bytes
    received_at: datetime
    retained: bool = False
    size: int | None = None
    """The size it arrived with, when `payload` holds only the head of an oversized one."""

    @property
    def arrived_size(self) -> int:
        return len(self.payload) if self.size is None else self.size


@dataclass(frozen=True)
class Outbound:
    topic: str
    payload: bytes


@dataclass(frozen=True)
class IngestPolicy:
    max_payload_bytes: int = 4096
    max_clock_ahead: timedelta = timedelta(minutes=5)
    clock_skew_tolerance: timedelta = timedelta(minutes=1)
    earliest_event: datetime = datetime(2020, 1, 1, tzinfo=UTC)
    require_registration: bool = False
    min_press_interval: timedelta = timedelta(seconds=1)
    """Presses closer together on one kiosk are faster than a person presses."""
    max_event_age: timedelta = timedelta(days=60)
    """Older presses are more than a kiosk's outbox holds: replayed or back-dated."""
    max_reorder: timedelta = timedelta(minutes=10)
    """A press this much older than the kiosk's latest stored one is back-dated (a kiosk
    sends in order; several ingest workers may store a few seconds out of order)."""
    dead_letter_quota: int | None = 1000


@dataclass
class IngestStats:
    stored: int = 0
    duplicates: int = 0
    followups: int = 0
    statuses: int = 0
    clock_corrections: int = 0
    flagged: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "duplicates": self.duplicates,
            "followups": self.followups,
            "statuses": self.statuses,
            "clock_corrections": self.clock_corrections,
            "flagged": self.flagged,
            "dead_letters": dict(self.dead_letters),
        }


@dataclass
class _Pending:
    """A valid event and every delivery of it in this batch."""

    event: PressEvent
    deliveries: list[Inbound]


@dataclass
class _PendingFollowUp:
    """A valid follow-up and every delivery of it in this batch."""

    followup: FollowUp
    deliveries: list[Inbound]


EventKey = tuple[str, str]  # (device id, event id): two kiosks may (wrongly) share an id


class _Batch:
    """What one batch of input sorts into."""

    def __init__(self, topics: Topics) -> None:
        self._topics = topics
        self.events: dict[EventKey, _Pending] = {}
        self.followups: dict[EventKey, _PendingFollowUp] = {}
        """(device id, follow-up id) -> the follow-up."""
        self.clock_offsets: dict[str, float] = {}
        self.flags: dict[str, store.Flag] = {}
        self.unknown: list[str] = []
        """Unacknowledged events dead-lettered now: not again at their resends."""
        self.statuses: list[tuple[DeviceStatus, Inbound]] = []
        self.rejected: list[store.Rejected] = []
        self.refusals: dict[str, list[Rejection]] = defaultdict(list)

    def reject(self, message: Inbound, reason: str, detail: str) -> None:
        parsed = self._topics.parse(message.topic)
        self.rejected.append(
            store.Rejected(
                message.topic,
                reason,
                detail,
                message.payload,
                message.received_at,
                source=parsed[0] if parsed else "",
                payload_size=message.size,
            )
        )

    def drop(
        self, key: EventKey, reason: str, detail: str, *, refuse: bool, followup: bool = False
    ) -> None:
        """Take an event (or a follow-up) out of the batch, dead-letter each delivery, maybe
        refuse it."""
        pending = self.followups.pop(key) if followup else self.events.pop(key)
        for message in pending.deliveries:
            self.reject(message, reason, detail)
        if refuse:
            self.refusals[key[0]].append(Rejection(event_id=key[1], reason=reason))

    def device_ids(self) -> set[str]:
        """Every device this batch has an event or a status from."""
        followups = {d for d, _ in self.followups}
        return {d for d, _ in self.events} | followups | {s.device_id for s, _ in self.statuses}

    @property
    def deliveries(self) -> int:
        return sum(len(p.deliveries) for p in self.events.values())


class Ingestor:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        topics: Topics,
        policy: IngestPolicy | None = None,
        *,
        clock: Clock = utc_now,
    ) -> None:
        """`clock` stamps an empty batch and the hub's time in acks."""
        self._sessions = sessions
        self._topics = topics
        self._policy = policy or IngestPolicy()
        self._clock = clock
        self._unknown_seen = _RecentIds(100_000)
        self.stats = IngestStats()

    @INGEST_BATCH_SECONDS.time()
    def process(self, messages: Sequence[Inbound]) -> list[Outbound]:
        """Store one batch in one transaction; returns the acks to publish."""
        batch = _Batch(self._topics)
        for message in messages:
            self._triage(message, batch)
        with self._sessions.begin() as session:
            answered = [p.event.event_id for p in batch.events.values()]
            answered += [p.followup.event_id for p in batch.followups.values()]
            lock_answers(session, event_ids=answered)  # all at once, before any row is locked
            known = store.registrations(session, device_ids=batch.device_ids())
            self._check_registration(batch, known)
            self._check_statuses(batch, known)
            received_at = max((m.received_at for m in messages), default=self._clock())
            self._flag_presses(session, batch, received_at)
            new_ids = store.store_events(
                session,
                events=[p.event for p in batch.events.values()],
                received_at=received_at,
                clock_offsets=batch.clock_offsets,
                flags=batch.flags,
            )
            self._check_owners(session, batch, new_ids)
            self._check_followups(session, batch)
            new_followups = store.store_followups(
                session,
                followups=[p.followup for p in batch.followups.values()],
                received_at=received_at,
                clock_offsets=batch.clock_offsets,
            )
            self._check_followup_owners(session, batch, new_followups)
            for status, message in batch.statuses:
                if status.probe:
                    continue
                store.apply_status(
                    session,
                    status=status,
                    received_at=message.received_at,
                    retained=message.retained,
                    max_config_bytes=self._policy.max_payload_bytes,
                )
            self._record_dead_letters(session, batch.rejected)
        self._count(batch, new_ids)
        self.stats.followups += len(new_followups)
        followup_deliveries = sum(len(p.deliveries) for p in batch.followups.values())
        MESSAGES_STORED.labels("followup").inc(len(new_followups))
        MESSAGES_DUPLICATED.labels("followup").inc(followup_deliveries - len(new_followups))
        return self._acks(batch)

    def dead_letter(self, message: Inbound, reason: str, detail: str) -> list[Outbound]:
        """Dead-letter one message on its own (the store refused it); refuse it to its kiosk."""
        batch = _Batch(self._topics)
        batch.reject(message, reason, detail)
        parsed = self._topics.parse(message.topic)
        event_id = _event_id_of(message.payload)
        if parsed is not None and parsed[1] == "events" and event_id is not None:
            batch.refusals[parsed[0]].append(Rejection(event_id=event_id, reason=reason))
        with self._sessions.begin() as session:
            self._record_dead_letters(session, batch.rejected)
        self._count(batch, set())
        return self._acks(batch)

    def _record_dead_letters(self, session: Session, letters: list[store.Rejected]) -> None:
        """Letters from a topic naming no device the hub knows share one quota."""
        known = store.existing_devices(session, device_ids={letter.source for letter in letters})
        store.record_dead_letters(
            session,
            letters=[
                letter if letter.source in known else replace(letter, source="")
                for letter in letters
            ],
            quota=self._policy.dead_letter_quota,
        )

    def _flag_presses(self, session: Session, batch: _Batch, received_at: datetime) -> None:
        """Presses older than an outbox holds or than the kiosk's latest stored press, or
        closer together in time than a person presses, are kept out of scores: a kiosk that
        does not flag its own misuse is caught here, whatever sequence numbers it sends."""
        oldest = received_at - self._policy.max_event_age
        last = store.last_presses(session, device_ids={d for d, _ in batch.events})
        timeline: dict[str, list[tuple[datetime, str | None]]] = defaultdict(list)
        for device_id, press in last.items():
            timeline[device_id].append((press.occurred_at, None))
        for (device_id, event_id), pending in batch.events.items():
            at = store.corrected(pending.event.occurred_at, batch.clock_offsets.get(event_id))
            if pending.event.misuse:  # the kiosk's own flag suffices; it still times the next
                timeline[device_id].append((at, None))
                continue
            latest = last.get(device_id)
            rewound = latest is not None and at < latest.occurred_at - self._policy.max_reorder
            if at < oldest or rewound:
                batch.flags[event_id] = store.Flag.BACKDATED
            timeline[device_id].append((at, event_id))
        for presses in timeline.values():
            presses.sort(key=lambda press: press[0])  # stable: the stored press stays first
            for (at, _), (next_at, next_id) in itertools.pairwise(presses):
                if next_id is not None and next_at - at < self._policy.min_press_interval:
                    batch.flags.setdefault(next_id, store.Flag.TOO_FAST)

    def _count(self, batch: _Batch, new_ids: set[str]) -> None:
        self.stats.stored += len(new_ids)
        self.stats.duplicates += batch.deliveries - len(new_ids)
        MESSAGES_STORED.labels("press").inc(len(new_ids))
        MESSAGES_DUPLICATED.labels("press").inc(batch.deliveries - len(new_ids))
        self.stats.statuses += len(batch.statuses)
        self.stats.flagged += len(batch.flags.keys() & new_ids)
        self.stats.clock_corrections += len(batch.clock_offsets.keys() & new_ids)
        self._unknown_seen.remember(batch.unknown)
        for letter in batch.rejected:
            self.stats.dead_letters[letter.reason] += 1
            MESSAGES_DEAD_LETTERED.labels(letter.reason).inc()
        for letter in batch.rejected[:LOGGED_PER_BATCH]:
            log.warning("dead-lettered %s from %s: %s", letter.reason, letter.topic, letter.detail)
        if len(batch.rejected) > LOGGED_PER_BATCH:
            more = Counter(letter.reason for letter in batch.rejected[LOGGED_PER_BATCH:])
            log.warning("dead-lettered %d more in this batch: %s", more.total(), dict(more))

    def _acks(self, batch: _Batch) -> list[Outbound]:
        """One ack per kiosk heard from live: its stored and refused events, the hub's time."""
        stored: dict[str, list[str]] = defaultdict(list)
        for device_id, event_id in [*batch.events, *batch.followups]:
            stored[device_id].append(event_id)
        live = {status.device_id for status, message in batch.statuses if not message.retained}
        hub_time = self._clock()
        return [
            Outbound(
                self._topics.ack(device_id),
                encode(
                    Ack(
                        stored=stored.get(device_id, []),
                        rejected=list(dict.fromkeys(batch.refusals.get(device_id, []))),
                        hub_time=hub_time,
                    )
                ),
            )
            for device_id in sorted(set(stored) | set(batch.refusals) | live)
        ]

    def _triage(self, message: Inbound, batch: _Batch) -> None:
        if message.arrived_size > self._policy.max_payload_bytes:
            batch.reject(
                message,
                "oversized_payload",
                f"{message.arrived_size} bytes > {self._policy.max_payload_bytes}",
            )
            return
        parsed = self._topics.parse(message.topic)
        if parsed is None or parsed[1] not in ("events", "status"):
            batch.reject(message, "unknown_topic", "not a device events or status topic")
            return
        device_id, kind = parsed
        try:
            if device_id == WEB_DEVICE_ID:
                raise ProtocolError("reserved_device", f"{WEB_DEVICE_ID!r} is the phone survey's")
            if kind == "events":
                self._triage_event(message, device_id, batch)
            else:
                self._triage_status(message, device_id, batch)
        except ProtocolError as exc:
            batch.reject(message, exc.reason, exc.detail)
            event_id = _event_id_of(message.payload)
            if kind == "events" and event_id is not None and exc.reason not in KEPT_BY_KIOSK:
                batch.refusals[device_id].append(Rejection(event_id=event_id, reason=exc.reason))

    def _triage_event(self, message: Inbound, device_id: str, batch: _Batch) -> None:
        event = decode_kiosk_message(message.payload)
        _same_device(event.device_id, device_id)
        offset_s = self._clock_offset(event)
        if isinstance(event, FollowUp):
            self._check_time(event.answered_at, offset_s, message, "answered_at")
            followup_key = (event.device_id, event.followup_id)
            if followup_key in batch.followups:
                batch.followups[followup_key].deliveries.append(message)
                return
            batch.followups[followup_key] = _PendingFollowUp(event, [message])
            if offset_s is not None:
                batch.clock_offsets.setdefault(event.followup_id, offset_s)
            return
        self._check_time(event.occurred_at, offset_s, message, "occurred_at")
        key = (event.device_id, event.event_id)
        if key in batch.events:
            batch.events[key].deliveries.append(message)
            return
        batch.events[key] = _Pending(event, [message])
        if offset_s is not None:
            batch.clock_offsets.setdefault(event.event_id, offset_s)  # as stored: the first

    def _check_time(
        self, moment: datetime, offset_s: float | None, message: Inbound, name: str
    ) -> None:
        """A press's or an answer's time, corrected, lies between the policy's earliest
        event and a little after its arrival, or a ProtocolError says so."""
        try:
            at = store.corrected(moment, offset_s)
        except OverflowError:
            at = datetime.min.replace(tzinfo=UTC)  # impossible, and refused below
        latest = message.received_at + self._policy.max_clock_ahead
        if not self._policy.earliest_event <= at <= latest:
            raise ProtocolError(
                "impossible_timestamp",
                f"{name} {moment.isoformat()} is before "
                f"{self._policy.earliest_event.date()} or after {latest:%H:%M:%S}"
                " UTC (is the kiosk's clock set?)",
            )

    def _clock_offset(self, event: PressEvent | FollowUp) -> float | None:
        """Seconds to add to the kiosk's press time, when its clock is off beyond tolerance.

        The kiosk measures the offset itself, on the hub time in each live ack (the hub
        answers every live status with one, so a kiosk knows within a heartbeat of
        connecting). The hub cannot measure it on arrival: an event queued by the broker
        while the hub was down would look hours late and be moved to the wrong hour.
        """
        offset_s = event.clock_offset_s
        if offset_s is None or abs(offset_s) <= self._policy.clock_skew_tolerance.total_seconds():
            return None
        return offset_s

    def _triage_status(self, message: Inbound, device_id: str, batch: _Batch) -> None:
        status = decode_device_status(message.payload)
        _same_device(status.device_id, device_id)
        batch.statuses.append((status, message))

    def _check_owners(self, session: Session, batch: _Batch, new_ids: set[str]) -> None:
        """An id stored for another kiosk is a conflict, not a redelivery: refuse it."""
        per_id = Counter(event_id for _, event_id in batch.events)
        doubtful = [key for key in batch.events if key[1] not in new_ids or per_id[key[1]] > 1]
        if not doubtful:
            return
        owners = store.event_owners(session, event_ids={event_id for _, event_id in doubtful})
        for device_id, event_id in doubtful:
            owner = owners.get(event_id)
            if owner != device_id:
                detail = f"{event_id} is stored for {owner!r}"
                batch.drop((device_id, event_id), "event_id_conflict", detail, refuse=True)

    def _check_registration(self, batch: _Batch, known: Mapping[str, Registration]) -> None:
        """Unknown and revoked kiosks are not acknowledged: an unknown one resends, and
        counts once registered; a revoked one is told nothing.

        Their resent events are dead-lettered once each, not at every resend. A registered
        kiosk's event from a place it has never stood at is refused for good (acked as
        rejected), so it can never block the kiosk's outbox.
        """
        for key, pending in list(batch.events.items()):
            event = pending.event
            registration = known.get(event.device_id)
            if registration is not None and registration.revoked:
                self._drop_unacked(batch, key, "revoked_device", f"{event.device_id!r} is revoked")
            elif registration is None:
                if self._policy.require_registration:
                    detail = f"{event.device_id!r} is not registered"
                    self._drop_unacked(batch, key, "unknown_device", detail)
            elif event.location_id not in registration.placements:
                detail = (
                    f"{event.device_id!r} is registered at {registration.location_id!r}, "
                    f"the event says {event.location_id!r}"
                )
                batch.drop(key, "location_mismatch", detail, refuse=True)
        for key, pending_followup in list(batch.followups.items()):
            followup = pending_followup.followup
            registration = known.get(followup.device_id)
            if registration is not None and registration.revoked:
                detail = f"{followup.device_id!r} is revoked"
                self._drop_unacked(batch, key, "revoked_device", detail, followup=True)
            elif registration is None:
                if self._policy.require_registration:
                    detail = f"{followup.device_id!r} is not registered"
                    self._drop_unacked(batch, key, "unknown_device", detail, followup=True)
            elif followup.location_id not in registration.placements:
                detail = (
                    f"{followup.device_id!r} is registered at {registration.location_id!r}, "
                    f"the follow-up says {followup.location_id!r}"
                )
                batch.drop(key, "location_mismatch", detail, refuse=True, followup=True)

    def _check_followups(self, session: Session, batch: _Batch) -> None:
        """A follow-up whose press is stored must answer it: the same kiosk, the question of
        its polarity (negative after unhappy or very unhappy), the survey version it showed.
        One that does not is dead-lettered and refused (`followup_mismatch`). One whose
        press is unknown is kept: the press may come later, or was refused (then it is
        never counted)."""
        if not batch.followups:
            return
        presses = store.presses_answered(
            session, event_ids={p.followup.event_id for p in batch.followups.values()}
        )
        for key, pending in list(batch.followups.items()):
            followup = pending.followup
            press = presses.get(followup.event_id)
            if press is None:
                continue
            problem = store.followup_mismatch(followup, press)
            if problem is not None:
                batch.drop(key, "followup_mismatch", problem, refuse=True, followup=True)

    def _check_followup_owners(self, session: Session, batch: _Batch, new_ids: set[str]) -> None:
        """A follow-up id stored for another kiosk is a conflict: refuse it."""
        doubtful = [key for key in batch.followups if key[1] not in new_ids]
        if not doubtful:
            return
        owners = store.followup_owners(session, followup_ids={i for _, i in doubtful})
        for device_id, followup_id in doubtful:
            owner = owners.get(followup_id)
            if owner != device_id:
                detail = f"follow-up {followup_id} is stored for {owner!r}"
                batch.drop(
                    (device_id, followup_id),
                    "event_id_conflict",
                    detail,
                    refuse=True,
                    followup=True,
                )

    def _check_statuses(self, batch: _Batch, known: Mapping[str, Registration]) -> None:
        """A revoked device's status is dead-lettered, neither recorded nor answered; so is
        an unknown device's where registration is required: it creates nothing."""
        kept = []
        for status, message in batch.statuses:
            registration = known.get(status.device_id)
            if registration is not None and registration.revoked:
                batch.reject(message, "revoked_device", f"{status.device_id!r} is revoked")
            elif registration is None and self._policy.require_registration:
                batch.reject(message, "unknown_device", f"{status.device_id!r} is not registered")
            else:
                kept.append((status, message))
        batch.statuses = kept

    def _drop_unacked(
        self, batch: _Batch, key: EventKey, reason: str, detail: str, *, followup: bool = False
    ) -> None:
        if key[1] in self._unknown_seen:  # already dead-lettered; it will come again
            if followup:
                del batch.followups[key]
            else:
                del batch.events[key]
        else:
            batch.drop(key, reason, detail, refuse=False, followup=followup)
            batch.unknown.append(key[1])


class _RecentIds:
    """A bounded memory of ids already seen (oldest forgotten first)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def remember(self, event_ids: Iterable[str]) -> None:
        for event_id in event_ids:
            self._ids[event_id] = None
            self._ids.move_to_end(event_id)
        while len(self._ids) > self._capacity:
            self._ids.popitem(last=False)


def _event_id_of(payload: bytes) -> str | None:
    """The id of an invalid event, if it has a readable one, so the kiosk can drop it: a
    follow-up's own id (its `event_id` names its press, which must not be dropped)."""
    try:
        document = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    key = "followup_id" if document.get("kind") == "followup" else "event_id"
    event_id = document.get(key)
    readable = isinstance(event_id, str) and EVENT_ID_PATTERN.fullmatch(event_id)
    return event_id if readable else None


class IngestWorker:
    """Batches messages from the MQTT thread and runs the ingestor on its own thread.

    The queue between them is bounded: when ingest falls behind, `submit` blocks the MQTT
    thread, which stops reading from the broker, and the broker holds the rest (QoS 1).
    Memory stays flat whatever the flood; nothing is acknowledged before it is stored.
    """

    def __init__(
        self,
        ingestor: Ingestor,
        publish: Callable[[Outbound], None],
        *,
        max_batch: int = 500,
        max_wait_s: float = 0.02,
        retry_s: float = 1.0,
        max_queue: int = 2000,
        max_payload_bytes: int = IngestPolicy.max_payload_bytes,
        clock: Clock = utc_now,
    ) -> None:
        """`clock` stamps each message as it arrives."""
        self._ingestor = ingestor
        self._clock = clock
        self._publish = publish
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._retry_s = retry_s
        self._keep_bytes = max_payload_bytes + 1  # enough to tell an oversized one, no more
        self._inbox: queue.Queue[Inbound | None] = queue.Queue(maxsize=max_queue)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingest", daemon=True)
        self.failures = 0

    def submit(self, message: Message) -> None:
        """Called on the MQTT thread: enqueue, waiting while the queue is full."""
        payload = message.payload
        inbound = Inbound(
            message.topic,
            payload[: self._keep_bytes],
            self._clock(),
            message.retained,
            size=len(payload) if len(payload) > self._keep_bytes else None,
        )
        MESSAGES_RECEIVED.labels(topic_kind(message.topic)).inc()
        while not self._stopping.is_set():
            try:
                self._inbox.put(inbound, timeout=0.5)
            except queue.Full:
                continue
            INGEST_QUEUE.inc()
            return
        # stopping: not acknowledged, so the kiosk sends it again to the next hub process

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Process what has arrived, then stop."""
        self._stopping.set()
        self._inbox.put(None)
        if self._thread.is_alive():
            self._thread.join()

    @property
    def backlog(self) -> int:
        return self._inbox.qsize()

    def _run(self) -> None:
        running = True
        next_report = time.monotonic() + STATS_EVERY_S
        while running:
            batch, running = self._next_batch()
            if batch:
                INGEST_QUEUE.dec(len(batch))
                self._process(batch)
            if time.monotonic() >= next_report:
                next_report = time.monotonic() + STATS_EVERY_S
                log.info(
                    "ingest so far: %s; backlog %d", self._ingestor.stats.as_dict(), self.backlog
                )

    def _next_batch(self) -> tuple[list[Inbound], bool]:
        first = self._inbox.get()
        if first is None:
            return [], False
        batch = [first]
        deadline = time.monotonic() + self._max_wait_s
        while len(batch) < self._max_batch:
            try:
                item = self._inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is None:
                return batch, False
            batch.append(item)
        return batch, True

    def _process(self, batch: list[Inbound]) -> None:
        """Store a batch; never let the thread die.

        A database outage is retried. A batch the store refuses for what it holds is split
        in halves until the message that breaks it stands alone; that one is dead-lettered
        and refused to its kiosk, everything else is stored and acknowledged.
        """
        try:
            self._store_retrying(batch)
        except _BatchRefusedError as refused:
            if len(batch) > 1:
                middle = len(batch) // 2
                self._process(batch[:middle])
                self._process(batch[middle:])
            else:
                self._dead_letter(batch[0], refused)

    def _store_retrying(self, batch: list[Inbound]) -> None:
        for attempt in range(1, 4):
            try:
                self._publish_all(self._ingestor.process(batch))
            except SQLAlchemyError as exc:
                if not is_outage(exc):
                    raise _BatchRefusedError("database_refused", exc) from exc
                log.error(
                    "could not store a batch of %d (attempt %d of 3): %s",
                    len(batch),
                    attempt,
                    _first_line(exc),
                )
                time.sleep(self._retry_s * attempt)
            except Exception as exc:  # a bug met by some input: narrow it down, keep going
                raise _BatchRefusedError("ingest_failed", exc) from exc
            else:
                return
        log.error(
            "gave up on a batch of %d; kiosks will resend what was not acknowledged", len(batch)
        )

    def _dead_letter(self, message: Inbound, refused: "_BatchRefusedError") -> None:
        if refused.reason == "ingest_failed":
            log.error("could not ingest a message on %s", message.topic, exc_info=refused.cause)
        try:
            self._publish_all(
                self._ingestor.dead_letter(message, refused.reason, _first_line(refused.cause))
            )
        except Exception:
            log.exception("could not dead-letter a message on %s; dropped", message.topic)
            self.failures += 1

    def _publish_all(self, acks: list[Outbound]) -> None:
        for ack in acks:
            self._publish(ack)


class _BatchRefusedError(StoreError):
    """The store refused a batch for what it holds, not for an outage."""

    def __init__(self, reason: str, cause: BaseException) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause


def is_outage(exc: SQLAlchemyError) -> bool:
    """The database is away (connection refused or lost, a lock or pool timeout), as
    opposed to refusing what it was given (a value out of range, a NUL, a constraint)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc, OperationalError | InterfaceError | PoolTimeoutError | DisconnectionError
    )


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:500]


def _same_device(in_payload: str, in_topic: str) -> None:
    """A kiosk speaks for itself only: its payload names the device of its topic."""
    if in_payload != in_topic:
        raise ProtocolError(
            "device_mismatch", f"payload device {in_payload!r} on the topic of {in_topic!r}"
        )
