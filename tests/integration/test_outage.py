"""Long outages, full outboxes and wrong clocks: the numbers still come out right."""

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from edge.app import Kiosk
from edge.recorder import Press
from hub.app import Hub
from hub.chaos.proxy import TcpProxy
from hub.models import Device, Event, HourlyRollup
from hub.mosquitto import MosquittoProcess
from hub.store import hour_bucket
from protocol.messages import BUTTONS, decode_event, encode, with_sent_at
from protocol.mqtt import Message, MqttConnection, MqttOptions
from protocol.topics import Topics
from tests.helpers import wait_until
from tests.hub.factories import press

TOPICS = Topics("seed")
PRESSES = 10_000
RATE = 1000  # events per second the kiosk may send once back online


def test_a_day_offline_drains_in_order_at_a_bounded_rate_into_the_right_hours(
    mosquitto: MosquittoProcess, start_hub: Callable[..., Hub], start_kiosk: Callable[..., Kiosk]
) -> None:
    hub = start_hub(mosquitto.url)
    arrivals: list[tuple[float, int]] = []
    sniffer = MqttConnection(
        MqttOptions(
            address=mosquitto.address,
            client_id="sniffer",
            subscriptions=(TOPICS.events("gate-01"),),
        ),
        on_message=lambda m: arrivals.append((time.monotonic(), decode_event(m.payload).seq)),
    )
    sniffer.start()
    assert sniffer.wait_connected(10) and hub.wait_connected(10)
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


def test_a_kiosk_clock_hours_off_is_detected_and_its_presses_counted_in_the_right_hour(
    mosquitto: MosquittoProcess, start_hub: Callable[..., Hub]
) -> None:
    hub = start_hub(mosquitto.url)
    assert hub.wait_connected(10)
    skew = timedelta(hours=-3, minutes=-7)  # the kiosk's clock is 3 h 7 min behind
    kiosk_now = datetime.now(UTC) + skew
    acks: list[Message] = []
    kiosk = MqttConnection(
        MqttOptions(
            address=mosquitto.address, client_id="skewed", subscriptions=(TOPICS.ack("skewed"),)
        ),
        on_message=acks.append,
    )
    kiosk.start()
    assert kiosk.wait_connected(10)
    event = press(device_id="skewed", at=kiosk_now - timedelta(minutes=2))
    assert kiosk.publish_and_wait(TOPICS.events("skewed"), with_sent_at(encode(event), kiosk_now))
    wait_until(lambda: bool(acks), 10, "the ack")
    kiosk.stop()
    with hub.sessions() as session:
        stored = session.get(Event, event.event_id)
        assert stored is not None
        assert stored.kiosk_occurred_at == event.occurred_at
        assert stored.clock_offset_s is not None
        assert abs(stored.clock_offset_s + skew.total_seconds()) < 5
        true_time = event.occurred_at - skew
        assert abs((stored.occurred_at - true_time).total_seconds()) < 5
        bucket = session.scalars(select(HourlyRollup.bucket_start)).one()
        assert bucket == hour_bucket(stored.occurred_at)
    assert hub.ingestor.stats.clock_corrections == 1
