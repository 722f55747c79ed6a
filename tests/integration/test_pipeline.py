"""A press on a kiosk's panel becomes a stored event and a score, through a real broker."""

import random
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import select

from edge.app import Kiosk
from hub.app import Hub
from hub.config import IngestSettings
from hub.ingest import store
from hub.models import DeadLetter, Device, Event
from hub.reporting.reports import location_scores
from hub.reporting.scores import ButtonCounts, happy_index
from lab.mosquitto import MosquittoProcess
from protocol.messages import BUTTONS, Button, decode_event, encode
from protocol.topics import Topics
from tests.helpers import connect_client, wait_until
from tests.hub.factories import press

TOPICS = Topics("seed")


def press_buttons(kiosk: Kiosk, buttons: list[Button]) -> None:
    """Press each button through the panel's mock GPIO pins, as a traveller would."""
    pins = kiosk.panel.button_pins()
    for button in buttons:
        pins[button].drive_low()
        pins[button].drive_high()


def stored_events(hub: Hub) -> int:
    with hub.sessions() as session:
        return store.stored_event_count(session)


def drained(*kiosks: Kiosk) -> bool:
    return all(k.outbox.depth() == 0 for k in kiosks)


def test_four_kiosks_250_presses_each_end_in_1000_events_with_the_right_scores(
    broker_url: str, start_hub: Callable[..., Hub], start_kiosk: Callable[..., Kiosk]
) -> None:
    # the kiosks press faster than a person can: the hub must not flag that here
    hub = start_hub(broker_url, ingest=IngestSettings(min_press_interval_s=0))
    plan = [
        ("sec-01", "security", 0.0),
        ("sec-02", "security", 0.0),
        ("wc-01", "washroom", 0.0),
        ("gate-01", "gate", 3600.0),
    ]
    kiosks = [
        start_kiosk(
            device, location, broker_url, response_interval_s=interval, panel={"bounce_ms": 0}
        )
        for device, location, interval in plan
    ]
    rng = random.Random(7)
    pressed = [rng.choices(BUTTONS, weights=(4, 3, 2, 1), k=250) for _ in kiosks]
    threads = [
        threading.Thread(target=press_buttons, args=(k, p))
        for k, p in zip(kiosks, pressed, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    wait_until(
        lambda: stored_events(hub) == 1000 and drained(*kiosks),
        60,
        "1000 events stored and every outbox drained",
    )
    expected: dict[str, Counter[Button]] = {"security": Counter(), "washroom": Counter()}
    for (_, location, _), buttons in zip(plan[:3], pressed[:3], strict=True):
        expected[location].update(buttons)
    with hub.sessions() as session:
        scores = {s.location: s.as_dict() for s in location_scores(session)}
    for location, counts in expected.items():
        want = ButtonCounts(**{b.value: counts[b] for b in BUTTONS})
        assert scores[location]["counts"] == want.as_dict()
        assert scores[location]["happy_index"] == round(happy_index(want) or 0, 1)
    # the gate kiosk's presses came within its response interval: one counts, 249 are misuse
    assert (scores["gate"]["responses"], scores["gate"]["misuse"]) == (1, 249)
    assert hub.ingestor.stats.stored == 1000


def test_a_kiosk_started_while_the_broker_is_down_delivers_everything_once_it_is_up(
    mosquitto: MosquittoProcess,
    start_hub: Callable[..., Hub],
    start_kiosk: Callable[..., Kiosk],
) -> None:
    mosquitto.stop()
    hub = start_hub(mosquitto.url)
    # a short ack timeout: whatever the kiosk sends before the hub has (re)subscribed is
    # resent soon, so a loaded machine stays well inside the wait below
    kiosk = start_kiosk(
        "sec-01", "security", mosquitto.url, panel={"bounce_ms": 0}, mqtt={"ack_timeout_s": 5}
    )
    press_buttons(kiosk, [Button.HAPPY, Button.UNHAPPY] * 10)
    wait_until(lambda: kiosk.outbox.depth() == 20, 10, "20 presses in the outbox")
    assert not kiosk.uplink.connected

    mosquitto.start()
    wait_until(
        lambda: stored_events(hub) == 20 and drained(kiosk),
        60,
        "the outbox delivered once the broker is up",
    )


def test_a_redelivered_event_is_stored_once(
    mosquitto: MosquittoProcess, start_hub: Callable[..., Hub]
) -> None:
    hub = start_hub(mosquitto.url)
    assert hub.wait_connected(10)
    acks: list[bytes] = []
    sender = connect_client(
        mosquitto.address,
        "k1",
        subscriptions=(TOPICS.ack("k1"),),
        on_message=lambda m: acks.append(m.payload),
    )
    payload = encode(press())
    for _ in range(3):
        assert sender.publish(TOPICS.events("k1"), payload)
    wait_until(
        lambda: hub.ingestor.stats.duplicates + hub.ingestor.stats.stored == 3,
        20,
        "three deliveries processed",
    )
    wait_until(lambda: len(acks) >= 1, 10, "an ack")
    sender.stop()
    assert stored_events(hub) == 1
    assert hub.ingestor.stats.stored == 1
    assert hub.ingestor.stats.duplicates == 2


def test_unacknowledged_events_are_resent_until_the_hub_stores_them(
    mosquitto: MosquittoProcess,
    start_hub: Callable[..., Hub],
    start_kiosk: Callable[..., Kiosk],
) -> None:
    seen: Counter[str] = Counter()  # deliveries per event id (each send has a new sent_at)
    sniffer = connect_client(
        mosquitto.address,
        "sniffer",
        subscriptions=(TOPICS.every_device("events"),),
        on_message=lambda m: seen.update([decode_event(m.payload).event_id]),
    )
    kiosk = start_kiosk(
        "sec-01", "security", mosquitto.url, mqtt={"ack_timeout_s": 0.5}, panel={"bounce_ms": 0}
    )
    press_buttons(kiosk, [Button.VERY_HAPPY, Button.HAPPY, Button.UNHAPPY])
    wait_until(
        lambda: len(seen) == 3 and min(seen.values()) >= 2,
        20,
        "every event sent again while no hub acknowledges it",
    )

    hub = start_hub(mosquitto.url)
    wait_until(lambda: drained(kiosk), 30, "the hub's acks empty the outbox")
    sniffer.stop()
    assert stored_events(hub) == 3


def test_the_hub_keeps_serving_after_bad_input(
    mosquitto: MosquittoProcess,
    start_hub: Callable[..., Hub],
    start_kiosk: Callable[..., Kiosk],
) -> None:
    hub = start_hub(mosquitto.url)
    assert hub.wait_connected(10)
    vandal = connect_client(mosquitto.address, "vandal")
    for payload in (b"\x00garbage", b'{"v": 9}', b"[]", b"{" * 10_000):
        assert vandal.publish_and_wait(TOPICS.events("k1"), payload)
    vandal.stop()
    kiosk = start_kiosk("sec-01", "security", mosquitto.url)
    press_buttons(kiosk, [Button.HAPPY])
    wait_until(lambda: stored_events(hub) == 1 and drained(kiosk), 20, "the good press stored")
    with hub.sessions() as session:
        reasons = Counter(session.scalars(select(DeadLetter.reason)))
    assert reasons == {"malformed_json": 2, "unknown_schema_version": 1, "oversized_payload": 1}


def test_the_registry_follows_heartbeats_and_goodbyes(
    mosquitto: MosquittoProcess,
    start_hub: Callable[..., Hub],
    start_kiosk: Callable[..., Kiosk],
) -> None:
    hub = start_hub(mosquitto.url)
    kiosk = start_kiosk("sec-01", "security", mosquitto.url, heartbeat_s=0.5)

    def device() -> Device | None:
        with hub.sessions() as session:
            return session.get(Device, "sec-01")

    wait_until(
        lambda: (
            (d := device()) is not None
            and d.state == "online"
            and d.uptime_s is not None
            and d.uptime_s > 0.4
        ),
        20,
        "a heartbeat",
    )
    found = device()
    assert found is not None and found.outbox_depth == 0 and found.version
    kiosk.stop()
    wait_until(
        lambda: (d := device()) is not None and d.state == "offline", 20, "the kiosk's goodbye"
    )


@pytest.mark.parametrize("button", list(Button))
def test_each_button_reaches_the_hub_as_itself(
    button: Button,
    mosquitto: MosquittoProcess,
    start_hub: Callable[..., Hub],
    start_kiosk: Callable[..., Kiosk],
) -> None:
    hub = start_hub(mosquitto.url)
    kiosk = start_kiosk("sec-01", "security", mosquitto.url)
    press_buttons(kiosk, [button])
    wait_until(lambda: stored_events(hub) == 1, 20, "one event")
    with hub.sessions() as session:
        assert session.scalars(select(Event.button)).one() == button.value
