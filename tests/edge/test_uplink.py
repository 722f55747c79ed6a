"""The uplink's timing, without a broker: an in-memory MQTT link and a fake clock.

The sender's thread is not started; each test drives `Uplink._tick()` (one round of
that thread) at the fake times it chooses.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.config import MqttConfig
from edge.outbox import Outbox
from edge.uplink import ACK_BACKOFF_MAX, CLOCK_WAIT_S, TokenBucket, Uplink
from protocol.messages import (
    Ack,
    Button,
    FollowUp,
    PressEvent,
    Rejection,
    decode_kiosk_message,
    encode,
)
from protocol.topics import Topics
from tests.fake_mqtt import FakeMqtt, FakeMqttFactory

DEVICE = "k-1"
TOPICS = Topics("seed")
EVENTS = TOPICS.events(DEVICE)
ACK_TIMEOUT_S = 10.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def press_event(seq: int) -> PressEvent:
    return PressEvent(
        event_id=f"event-{seq}",
        device_id=DEVICE,
        location_id="loc",
        seq=seq,
        occurred_at=datetime(2024, 6, 1, 9, 0, seq % 60, tzinfo=UTC),
        button=Button.HAPPY,
    )


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite3")
    yield box
    box.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_uplink(
    outbox: Outbox, clock: FakeClock, events: int = 3, **mqtt: float
) -> tuple[Uplink, FakeMqtt]:
    """An uplink with `events` rows waiting, connected to a fake link (at the fake time)."""
    for seq in range(1, events + 1):
        outbox.append(press_event(seq))
    factory = FakeMqttFactory()
    uplink = Uplink(
        MqttConfig(**{"ack_timeout_s": ACK_TIMEOUT_S, **mqtt}),
        device_id=DEVICE,
        location_id="loc",
        outbox=outbox,
        heartbeat_s=3600,
        link=factory,
        clock=clock,
    )
    uplink._connection.start()  # connects at once, as a broker that is up would
    return uplink, factory.link


def ack(*stored: str, hub_time: datetime | None = None) -> bytes:
    return encode(Ack(stored=list(stored), hub_time=hub_time))


def sent_ids(link: FakeMqtt) -> list[str]:
    return [json.loads(payload)["event_id"] for payload in link.published_to(EVENTS)]


def resend_gaps(uplink: Uplink, link: FakeMqtt, clock: FakeClock, *, over_s: float) -> list[float]:
    """Tick every half second for `over_s`; the seconds between successive resends."""
    times: list[float] = []
    start, sent = clock.now, len(sent_ids(link))
    while clock.now - start < over_s:
        clock.advance(0.5)
        uplink._tick()
        if len(sent_ids(link)) > sent:
            times.append(clock.now)
            sent = len(sent_ids(link))
    return [round(b - a, 1) for a, b in zip([start, *times], times, strict=False)]


def start_sending(uplink: Uplink, link: FakeMqtt) -> None:
    """The hub answers the status with its clock, and the first events go out."""
    link.fire_message(TOPICS.ack(DEVICE), ack(hub_time=datetime.now(UTC)))
    uplink._tick()
    assert sent_ids(link) == ["event-1", "event-2", "event-3"]


def test_the_fake_link_delivers_only_what_it_subscribes_to(
    outbox: Outbox, clock: FakeClock
) -> None:
    _uplink, link = make_uplink(outbox, clock)
    assert link.fire_message(TOPICS.ack(DEVICE), ack())
    assert link.fire_message(TOPICS.config(DEVICE), b"")
    assert not link.fire_message(TOPICS.ack("k-2"), ack())
    assert not link.fire_message(EVENTS, b"{}")


def test_a_silent_hub_is_retried_at_doubling_intervals_up_to_8x(
    outbox: Outbox, clock: FakeClock
) -> None:
    uplink, link = make_uplink(outbox, clock)
    start_sending(uplink, link)
    gaps = resend_gaps(uplink, link, clock, over_s=ACK_TIMEOUT_S * 31)
    # the README: "backs off, doubling, to at most 8 ack timeouts"
    assert ACK_BACKOFF_MAX == 8
    assert gaps == [10.5, 20.5, 40.5, 80.5, 80.5]
    # each resend starts again from the oldest row still in the outbox
    assert sent_ids(link)[:6] == ["event-1", "event-2", "event-3"] * 2


def test_the_first_ack_resets_the_backoff(outbox: Outbox, clock: FakeClock) -> None:
    uplink, link = make_uplink(outbox, clock)
    start_sending(uplink, link)
    assert resend_gaps(uplink, link, clock, over_s=72)[-1] == 40.5  # backed off to 4x
    link.fire_message(TOPICS.ack(DEVICE), ack("event-1"))
    uplink._tick()
    link.clear()
    gaps = resend_gaps(uplink, link, clock, over_s=25)
    assert gaps, "no resend within 25 s: the backoff was not reset"
    assert gaps[0] <= ACK_TIMEOUT_S + 0.5  # one ack timeout again, not 8
    assert sent_ids(link)[:2] == ["event-2", "event-3"]  # the acked row is gone


def test_an_acknowledged_window_is_not_resent(outbox: Outbox, clock: FakeClock) -> None:
    uplink, link = make_uplink(outbox, clock)
    start_sending(uplink, link)
    link.fire_message(TOPICS.ack(DEVICE), ack("event-1", "event-2", "event-3"))
    assert outbox.depth() == 0
    assert resend_gaps(uplink, link, clock, over_s=ACK_TIMEOUT_S * 10) == []


def test_events_wait_for_the_hubs_clock_then_carry_the_offset(
    outbox: Outbox, clock: FakeClock
) -> None:
    uplink, link = make_uplink(outbox, clock)
    uplink._tick()
    assert link.published_to(TOPICS.status(DEVICE)), "the status goes out at once"
    assert sent_ids(link) == [], "events wait for the hub's answer to it"
    clock.advance(1)
    uplink._tick()
    assert sent_ids(link) == []
    link.fire_message(TOPICS.ack(DEVICE), ack(hub_time=datetime.now(UTC) + timedelta(minutes=1)))
    uplink._tick()
    offsets = [json.loads(p)["clock_offset_s"] for p in link.published_to(EVENTS)]
    assert len(offsets) == 3
    assert all(59 < offset <= 60 for offset in offsets)


def test_without_an_answer_events_go_after_the_clock_wait_unstamped(
    outbox: Outbox, clock: FakeClock
) -> None:
    uplink, link = make_uplink(outbox, clock)
    clock.advance(CLOCK_WAIT_S - 0.1)
    uplink._tick()
    assert sent_ids(link) == []
    clock.advance(0.1)
    uplink._tick()
    documents = [json.loads(p) for p in link.published_to(EVENTS)]
    assert [d["event_id"] for d in documents] == ["event-1", "event-2", "event-3"]
    assert all("clock_offset_s" not in d and "sent_at" in d for d in documents)


def test_a_reconnect_waits_for_the_clock_only_while_it_has_none(
    outbox: Outbox, clock: FakeClock
) -> None:
    uplink, link = make_uplink(outbox, clock)
    start_sending(uplink, link)
    link.disconnect()
    clock.advance(60)
    link.connect()
    link.clear()
    uplink._tick()
    assert sent_ids(link) == ["event-1", "event-2", "event-3"]  # resent from the oldest


def test_a_dropped_publish_restarts_from_the_oldest_row(outbox: Outbox, clock: FakeClock) -> None:
    uplink, link = make_uplink(outbox, clock)
    link.fire_message(TOPICS.ack(DEVICE), ack(hub_time=datetime.now(UTC)))
    link.disconnect()
    assert uplink._tick() > 0
    assert sent_ids(link) == []
    link.connect()
    uplink._tick()
    assert sent_ids(link) == ["event-1", "event-2", "event-3"]


def test_the_token_bucket_refills_at_its_rate_up_to_its_burst(clock: FakeClock) -> None:
    bucket = TokenBucket(2, burst=3, clock=clock)
    assert bucket.available() == 3
    bucket.take(3)
    assert bucket.available() == 0
    assert bucket.wait_s() == pytest.approx(0.5)
    clock.advance(0.5)
    assert bucket.available() == 1
    assert bucket.wait_s() == 0
    clock.advance(3600)
    assert bucket.available() == 3  # never more than a burst, however long it waited


def test_the_uplink_drains_a_backlog_at_the_configured_rate(
    outbox: Outbox, clock: FakeClock
) -> None:
    uplink, link = make_uplink(outbox, clock, events=12, max_send_per_s=2, max_in_flight=4)
    link.fire_message(TOPICS.ack(DEVICE), ack(hub_time=datetime.now(UTC)))
    uplink._tick()
    assert len(sent_ids(link)) == 4  # a burst of the in-flight window
    link.fire_message(TOPICS.ack(DEVICE), ack(*sent_ids(link)))
    assert uplink._tick() == pytest.approx(0.5)  # throttled: one token is half a second away
    assert len(sent_ids(link)) == 4
    clock.advance(1)
    uplink._tick()
    assert sent_ids(link)[4:] == ["event-5", "event-6"]  # two a second


def followup_to(seq: int) -> FollowUp:
    return FollowUp(
        followup_id=f"followup-{seq}",
        event_id=f"event-{seq}",
        device_id=DEVICE,
        location_id="loc",
        survey_id="security",
        survey_version=3,
        question="negative",
        option="queue",
        answered_at=datetime(2024, 6, 1, 9, 0, seq % 60, tzinfo=UTC),
    )


def test_follow_ups_go_on_the_events_topic_and_leave_once_acknowledged(
    outbox: Outbox, clock: FakeClock
) -> None:
    uplink, link = make_uplink(outbox, clock, events=1)
    outbox.append_followup(followup_to(1))
    outbox.append(press_event(2))
    link.fire_message(TOPICS.ack(DEVICE), ack(hub_time=datetime.now(UTC)))
    uplink._tick()
    sent = [decode_kiosk_message(payload) for payload in link.published_to(EVENTS)]
    assert [type(m).__name__ for m in sent] == ["PressEvent", "FollowUp", "PressEvent"]
    followup = sent[1]
    assert isinstance(followup, FollowUp)
    assert followup.model_copy(update={"sent_at": None, "clock_offset_s": None}) == followup_to(1)
    assert followup.sent_at is not None and followup.clock_offset_s is not None
    # the hub stores the follow-up (before its press, say): it leaves, and is never resent
    link.fire_message(TOPICS.ack(DEVICE), ack("followup-1"))
    assert [row.message_id for row in outbox.pending(after_position=0, limit=10)] == [
        "event-1",
        "event-2",
    ]
    link.clear()
    clock.advance(ACK_TIMEOUT_S + 1)
    uplink._tick()  # the presses were left unacknowledged: they are resent, the follow-up not
    assert [json.loads(p).get("kind") for p in link.published_to(EVENTS)] == [None, None]
    link.fire_message(TOPICS.ack(DEVICE), ack("event-1", "event-2", "followup-1"))
    assert outbox.depth() == 0
    assert resend_gaps(uplink, link, clock, over_s=ACK_TIMEOUT_S * 4) == []


def test_a_follow_up_the_hub_rejects_for_good_leaves_the_outbox(
    outbox: Outbox, clock: FakeClock
) -> None:
    uplink, link = make_uplink(outbox, clock, events=0)
    outbox.append_followup(followup_to(1))
    start = ack(hub_time=datetime.now(UTC))
    link.fire_message(TOPICS.ack(DEVICE), start)
    uplink._tick()
    assert len(link.published_to(EVENTS)) == 1
    rejected = Ack(rejected=[Rejection(event_id="followup-1", reason="invalid_payload")])
    link.fire_message(TOPICS.ack(DEVICE), encode(rejected))
    assert outbox.depth() == 0
