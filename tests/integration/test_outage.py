"""Long outages, full outboxes and wrong clocks: the numbers still come out right."""

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from edge.app import Kiosk
from edge.recorder import Press
from hub.app import Hub
from hub.config import IngestSettings
from hub.models import Device, Event, HourlyRollup
from hub.rollups.buckets import hour_bucket
from lab.chaos.proxy import TcpProxy
from lab.mosquitto import MosquittoProcess
from protocol.messages import (
    BUTTONS,
    Ack,
    DeviceState,
    DeviceStatus,
    decode_ack,
    decode_event,
    encode,
    with_sent_at,
)
from protocol.topics import Topics
from tests.helpers import connect_client, wait_until
from tests.hub.factories import press

TOPICS = Topics("seed")
PRESSES = 10_000
RATE = 1000  # events per second the kiosk may send once back online


def test_a_day_offline_drains_in_order_at_a_bounded_rate_into_the_right_hours(
    mosquitto: MosquittoProcess, start_hub: Callable[..., Hub], start_kiosk: Callable[..., Kiosk]
) -> None:
    hub = start_hub(mosquitto.url)
    arrivals: list[tuple[float, int]] = []
    sniffer = connect_client(
        mosquitto.address,
        "sniffer",
        subscriptions=(TOPICS.events("gate-01"),),
        on_message=lambda m: arrivals.append((time.monotonic(), decode_event(m.payload).seq)),
    )
    assert hub.wait_connected(10)
    wifi = TcpProxy(mosquitto.port)
    wifi.partition()  # the kiosk's network is down for the whole (simulated) day
    kiosk = start_kiosk(
        "gate-01", "gate", f"mqtt://127.0.0.1:{wifi.port}", mqtt={"max_send_per_s": RATE}
    )
    day = hour_bucket(datetime.now(UTC)) - timedelta(days=1)
    expected: Counter[tuple[datetime, str]] = Counter()
    for n in range(PRESSES):  # a press every 8.64 s for a day, recorded as the panel would
        at = day + timedelta(seconds=n * 86_400 / PRESSES)
        button = BUTTONS[(n * 7) % 4]
        kiosk.recorder.record(Press(button, monotonic_s=n * 8.64, wall_time=at))
        expected[(hour_bucket(at), button.value)] += 1
    assert kiosk.outbox.depth() == PRESSES
    wifi.heal()
    wait_until(lambda: kiosk.outbox.depth() == 0, 120, "the backlog to drain")
    sniffer.stop()
    wifi.close()

    first_seen: dict[int, float] = {}
    for at, seq in arrivals:
        first_seen.setdefault(seq, at)
    order = sorted(first_seen, key=first_seen.__getitem__)
    assert order == sorted(order), "events were first sent out of sequence order"
    seconds = max(first_seen.values()) - min(first_seen.values())
    burst = kiosk.config.mqtt.max_in_flight
    assert seconds >= (PRESSES - burst) / RATE * 0.95, f"drained {PRESSES} in {seconds:.1f} s"

    with hub.sessions() as session:
        got = Counter()
        for row in session.scalars(select(HourlyRollup)):
            for button in BUTTONS:
                got[(row.bucket_start, button.value)] += getattr(row, button.value)
    assert got == expected


def test_a_full_outbox_drops_the_oldest_and_says_so(
    mosquitto: MosquittoProcess, start_hub: Callable[..., Hub], start_kiosk: Callable[..., Kiosk]
) -> None:
    mosquitto.stop()
    kiosk = start_kiosk("gate-01", "gate", mosquitto.url, outbox_capacity=100, heartbeat_s=0.5)
    now = datetime.now(UTC)
    events = [kiosk.recorder.record(Press(BUTTONS[n % 4], n * 10.0, now)) for n in range(130)]
    assert kiosk.outbox.depth() == 100
    assert kiosk.outbox.dropped() == 30

    mosquitto.start()
    hub = start_hub(mosquitto.url)
    wait_until(lambda: kiosk.outbox.depth() == 0, 30, "the outbox to drain")
    with hub.sessions() as session:
        stored = set(session.scalars(select(Event.seq)))
        assert stored == {e.seq for e in events[30:]}  # the newest 100 survive

        def reported() -> bool:
            device = session.get(Device, "gate-01", populate_existing=True)
            return device is not None and device.outbox_dropped == 30

        wait_until(reported, 10, "the drop count in the kiosk's status")


def test_a_kiosk_clock_hours_off_is_measured_and_its_presses_counted_in_the_right_hour(
    mosquitto: MosquittoProcess, start_hub: Callable[..., Hub]
) -> None:
    hub = start_hub(mosquitto.url)
    assert hub.wait_connected(10)
    skew = timedelta(hours=-3, minutes=-7)  # the kiosk's clock is 3 h 7 min behind

    def kiosk_clock() -> datetime:
        return datetime.now(UTC) + skew

    acks: list[Ack] = []
    kiosk = connect_client(
        mosquitto.address,
        "skewed",
        subscriptions=(TOPICS.ack("skewed"),),
        on_message=lambda m: acks.append(decode_ack(m.payload)),
    )
    # the kiosk's birth status is answered with the hub's time, as the uplink expects
    birth = DeviceStatus(device_id="skewed", state=DeviceState.ONLINE, sent_at=kiosk_clock())
    assert kiosk.publish_and_wait(TOPICS.status("skewed"), encode(birth))
    wait_until(lambda: bool(acks), 10, "the hub's answer to a live status")
    hub_time = acks[0].hub_time
    assert hub_time is not None
    offset_s = (hub_time - kiosk_clock()).total_seconds()  # what edge/uplink.py measures
    assert abs(offset_s + skew.total_seconds()) < 5

    event = press(device_id="skewed", at=kiosk_clock() - timedelta(minutes=2))
    payload = with_sent_at(encode(event), kiosk_clock(), clock_offset_s=offset_s)
    assert kiosk.publish_and_wait(TOPICS.events("skewed"), payload)
    wait_until(lambda: any(a.stored for a in acks), 10, "the event's ack")
    kiosk.stop()
    with hub.sessions() as session:
        stored = session.get(Event, event.event_id)
        assert stored is not None
        assert stored.kiosk_occurred_at == event.occurred_at
        assert stored.clock_offset_s == pytest.approx(-skew.total_seconds(), abs=5)
        true_time = event.occurred_at - skew
        assert abs((stored.occurred_at - true_time).total_seconds()) < 5
        bucket = session.scalars(select(HourlyRollup.bucket_start)).one()
        assert bucket == hour_bucket(stored.occurred_at)
    assert hub.ingestor.stats.clock_corrections == 1


def test_a_backlog_queued_while_the_hub_was_down_keeps_its_press_times(
    mosquitto: MosquittoProcess, start_hub: Callable[..., Hub], start_kiosk: Callable[..., Kiosk]
) -> None:
    """Late is not skewed: events the broker held for a stopped hub are not moved in time."""
    first = start_hub(mosquitto.url, client_id="hub")  # its persistent session on the broker
    assert first.wait_connected(10)
    first.stop()
    kiosk = start_kiosk("gate-01", "gate", mosquitto.url)
    pins = kiosk.panel.button_pins()
    pins[BUTTONS[0]].drive_low()
    pins[BUTTONS[0]].drive_high()
    wait_until(lambda: kiosk.outbox.depth() == 1, 10, "the press in the outbox")
    time.sleep(2)  # queued at the broker for the stopped hub: 2 s late, beyond tolerance
    hub = start_hub(mosquitto.url, client_id="hub", ingest=IngestSettings(clock_skew_tolerance_s=1))
    wait_until(lambda: kiosk.outbox.depth() == 0, 10, "the queued event stored and acked")
    with hub.sessions() as session:
        stored = session.scalars(select(Event)).one()
        assert stored.clock_offset_s is None
        assert stored.occurred_at == stored.kiosk_occurred_at


def test_a_kiosk_measures_its_clock_before_sending_and_stamps_its_events(
    mosquitto: MosquittoProcess, start_hub: Callable[..., Hub], start_kiosk: Callable[..., Kiosk]
) -> None:
    hub = start_hub(mosquitto.url)
    assert hub.wait_connected(10)
    sent: list[bytes] = []
    sniffer = connect_client(
        mosquitto.address,
        "sniffer",
        subscriptions=(TOPICS.events("gate-01"),),
        on_message=lambda m: sent.append(m.payload),
    )
    kiosk = start_kiosk("gate-01", "gate", mosquitto.url)
    pins = kiosk.panel.button_pins()
    pins[BUTTONS[1]].drive_low()  # pressed at once, before the hub has answered the kiosk
    pins[BUTTONS[1]].drive_high()
    wait_until(lambda: kiosk.outbox.depth() == 0 and bool(sent), 15, "the press stored")
    sniffer.stop()
    first = decode_event(sent[0])
    assert first.clock_offset_s is not None and abs(first.clock_offset_s) < 2
    assert first.sent_at is not None
