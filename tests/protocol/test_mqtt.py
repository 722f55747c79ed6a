"""The MQTT seam against a real Mosquitto: delivery, last-will, and errors in callbacks."""

import threading
from typing import Any

import pytest

from lab.mosquitto import MosquittoProcess
from protocol.mqtt import Message, MqttConnection, MqttOptions, Will
from tests.helpers import connect_client, wait_until


def connect(broker: MosquittoProcess, client_id: str, **options: Any) -> MqttConnection:
    """A connected client; `will` and `subscriptions` go to the MQTT options."""
    if "will" not in options:
        return connect_client(broker.address, client_id, **options)
    handler = options.pop("on_message", lambda _message: None)
    connection = MqttConnection(
        MqttOptions(address=broker.address, client_id=client_id, **options), on_message=handler
    )
    connection.start()
    assert connection.wait_connected(10), f"{client_id} could not connect"
    return connection


def test_messages_arrive_on_the_subscribed_topics(mosquitto: MosquittoProcess) -> None:
    received: list[tuple[str, bytes]] = []
    listener = connect(
        mosquitto,
        "listener",
        subscriptions=("a/+/x",),
        on_message=lambda m: received.append((m.topic, m.payload)),
    )
    talker = connect(mosquitto, "talker")
    assert talker.publish_and_wait("a/1/x", b"one")
    assert talker.publish_and_wait("a/1/y", b"elsewhere")
    assert talker.publish_and_wait("a/2/x", b"two")
    wait_until(lambda: len(received) == 2, 10, "two messages")
    assert received == [("a/1/x", b"one"), ("a/2/x", b"two")]
    talker.stop()
    listener.stop()


def test_a_callback_error_fails_the_test_and_the_loop_keeps_running(
    mosquitto: MosquittoProcess, thread_errors: list[Any]
) -> None:
    received: list[bytes] = []

    def fussy(message: Message) -> None:
        if message.payload == b"boom":
            raise RuntimeError("callback failed")
        received.append(message.payload)

    listener = connect(mosquitto, "listener", subscriptions=("t",), on_message=fussy)
    talker = connect(mosquitto, "talker")
    talker.publish_and_wait("t", b"boom")
    talker.publish_and_wait("t", b"after")
    wait_until(lambda: received == [b"after"], 10, "the message after the error")
    assert [type(e.exc_value) for e in thread_errors] == [RuntimeError]
    assert "callback failed" in str(thread_errors[0].exc_value)
    thread_errors.clear()  # seen and checked: this test is about exactly that error
    talker.stop()
    listener.stop()


def test_the_last_will_is_published_when_a_client_vanishes(mosquitto: MosquittoProcess) -> None:
    wills: list[bytes] = []
    watcher = connect(
        mosquitto,
        "watcher",
        subscriptions=("status/k1",),
        on_message=lambda m: wills.append(m.payload),
    )
    doomed = connect(mosquitto, "k1", will=Will("status/k1", b"offline"))
    assert wills == []
    doomed._client.socket().close()  # the kiosk vanishes without a DISCONNECT
    wait_until(lambda: wills == [b"offline"], 15, "the last-will")
    watcher.stop()
    doomed.stop()


def test_publishing_while_disconnected_says_so(mosquitto: MosquittoProcess) -> None:
    connection = connect(mosquitto, "k1")
    mosquitto.stop()
    wait_until(lambda: not connection.connected, 10, "the disconnect to be seen")
    assert connection.publish("t", b"x") is False
    assert connection.publish_and_wait("t", b"x") is False
    connection.stop()


@pytest.fixture(autouse=True)
def _no_stray_threads() -> Any:
    before = set(threading.enumerate())
    yield
    wait_until(
        lambda: (
            not [
                t
                for t in threading.enumerate()
                if t not in before and t.is_alive() and not t.daemon
            ]
        ),
        10,
        "threads started by the test to end",
    )
