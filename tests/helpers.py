"""Small helpers the tests share."""

import os
import time
from collections.abc import Callable

import pytest

from protocol.broker_url import BrokerAddress
from protocol.mqtt import Message, MqttConnection, MqttOptions


def _ignore(_message: Message) -> None:
    """A client that only publishes."""


def connect_client(
    address: BrokerAddress,
    client_id: str,
    *,
    subscriptions: tuple[str, ...] = (),
    on_message: Callable[[Message], None] = _ignore,
) -> MqttConnection:
    """A started MQTT client through the project's seam, connected (or the test fails)."""
    connection = MqttConnection(
        MqttOptions(address=address, client_id=client_id, subscriptions=subscriptions),
        on_message=on_message,
    )
    connection.start()
    assert connection.wait_connected(10), f"{client_id} could not connect"
    return connection


def service_missing(reason: str) -> None:
    """Skip the test, or fail it where CI requires every service (SEED_REQUIRE_SERVICES=1)."""
    if os.environ.get("SEED_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def wait_until(condition: Callable[[], bool], timeout_s: float = 20, what: str = "") -> None:
    """Poll `condition` until true; fail the test with `what` if it never becomes true."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what or condition}")
