"""A terminal no one here wrote: Mosquitto's own command-line clients, speaking the protocol
as docs/protocol.md describes it, to a running hub.

Every payload below is a literal written from docs/protocol.md (the time filled in), not
produced by our encoder; acks are read as plain JSON.
"""

import json
import queue
import shutil
import signal
import subprocess
import threading
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.app import Hub
from hub.cli import main as seed_hub
from hub.config import IngestSettings
from hub.db import open_session
from hub.models import Device, Event
from hub.reporting.analytics import is_online
from lab.mosquitto import MosquittoProcess
from tests.helpers import service_missing, wait_until
from tests.integration.test_fleet_security import provisioned_fleet, running_hub

pytestmark = pytest.mark.mosquitto

DEVICE = "esp-1"
LOCATION = "hel-t2-security"
EVENT_ID = "01956b2e-3c4d-7e5f-8a6b-7c8d9e0f1a2b"

PRESS = (
    '{"v":1,"event_id":"%(event_id)s","device_id":"%(device)s","location_id":"hel-t2-security",'
    '"seq":1,"occurred_at":"%(now)s","button":"unhappy"}'
)
BAD_BUTTON = (
    '{"v":1,"event_id":"esp-1:2","device_id":"esp-1","location_id":"hel-t2-security",'
    '"seq":2,"occurred_at":"%(now)s","button":"meh"}'
)
ONLINE = (
    '{"v":1,"device_id":"%(device)s","state":"online","sent_at":"%(now)s",'
    '"location_id":"hel-t2-security","version":"esp32-fw 1.4.0","uptime_s":12.5,'
    '"outbox_depth":1}'
)
LAST_WILL = (
    '{"v":1,"device_id":"esp-1","state":"offline","sent_at":"%(now)s",'
    '"location_id":"hel-t2-security"}'
)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def filled(template: str, device: str = DEVICE) -> str:
    return template % {"event_id": EVENT_ID, "device": device, "now": now()}


def topic(kind: str, device: str = DEVICE) -> str:
    return f"seed/devices/{device}/{kind}"


@pytest.fixture(autouse=True)
def mosquitto_clients() -> None:
    for client in ("mosquitto_sub", "mosquitto_pub", "mosquitto_rr"):
        if shutil.which(client) is None:
            service_missing(f"{client} not found (apt-get install mosquitto-clients)")


class Terminal:
    """`mosquitto_sub` holds the terminal's connection: its subscription to its ack topic and
    its last will. `mosquitto_pub` publishes each message."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._lines: queue.Queue[str] = queue.Queue()
        self._process = subprocess.Popen(
            [
                # line-buffered: a pipe would otherwise hold its output until it exits
                *("stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", str(port)),
                *("-i", DEVICE),
                *("-q", "1", "-v", "-d", "-t", topic("ack")),
                *("--will-topic", topic("status"), "--will-qos", "1", "--will-retain"),
                *("--will-payload", filled(LAST_WILL)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        self._wait_for("received SUBACK")

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line.rstrip("\n"))

    def _wait_for(self, text: str, timeout_s: float = 10) -> str:
        while True:
            try:
                line = self._lines.get(timeout=timeout_s)
            except queue.Empty:
                raise AssertionError(f"mosquitto_sub printed no {text!r}") from None
            if text in line:
                return line

    def publish(self, kind: str, payload: str, *, retain: bool = False) -> None:
        subprocess.run(
            [
                *("mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port)),
                *("-i", f"{DEVICE}-pub", "-q", "1", "-t", topic(kind), "-m", payload),
                *(["-r"] if retain else []),
            ],
            check=True,
            timeout=10,
        )

    def next_ack(self) -> dict[str, Any]:
        line = self._wait_for(f"{topic('ack')} ")
        ack: dict[str, Any] = json.loads(line.split(" ", 1)[1])
        return ack

    def crash(self) -> None:
        """Drop the connection without a DISCONNECT, as a power cut does."""
        self._process.send_signal(signal.SIGKILL)
        self._process.wait(timeout=10)

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)


@contextmanager
def terminal(port: int) -> Iterator[Terminal]:
    connected = Terminal(port)
    try:
        yield connected
    finally:
        connected.close()


def device(db_url: str, device_id: str = DEVICE) -> Device | None:
    with open_session(db_url) as session:
        return session.get(Device, device_id)


def stored(db_url: str, event_id: str) -> int:
    with open_session(db_url) as session:
        query = select(func.count()).select_from(Event).where(Event.event_id == event_id)
        return int(session.scalar(query) or 0)


def online(db_url: str, device_id: str = DEVICE) -> bool:
    found = device(db_url, device_id)
    return found is not None and is_online(found, datetime.now(UTC))


@pytest.fixture
def registered_hub(
    mosquitto: MosquittoProcess,
    start_hub: Callable[..., Hub],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Hub, str]:
    """A hub that stores events of registered devices only, with `esp-1` registered as a
    technician does."""
    db_url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    monkeypatch.setenv("SEED_HUB_DATA_DIR", str(tmp_path / "hub"))
    assert (
        seed_hub(
            [
                *("devices", "add", DEVICE, "--site", "hel", "--area", "hel-t2"),
                *("--location", LOCATION, "--tz", "Europe/Helsinki", "--db", db_url),
            ]
        )
        == 0
    )
    hub = start_hub(mosquitto.url, db=db_url, ingest=IngestSettings(require_registration=True))
    assert hub.wait_connected(10)
    return hub, db_url


def test_a_terminal_written_from_the_docs_is_acknowledged_stored_once_and_seen_online(
    mosquitto: MosquittoProcess, registered_hub: tuple[Hub, str]
) -> None:
    _, db_url = registered_hub
    with terminal(mosquitto.port) as esp:
        # birth: a retained status; the hub answers a live one with its clock, naming nothing
        esp.publish("status", filled(ONLINE), retain=True)
        answer = esp.next_ack()
        assert (answer["stored"], answer["rejected"]) == ([], [])
        assert datetime.fromisoformat(answer["hub_time"]).tzinfo is not None
        wait_until(lambda: online(db_url), 10, "the terminal shown online")

        # a press -> the hub stores it and names it in an ack
        esp.publish("events", filled(PRESS))
        assert esp.next_ack()["stored"] == [EVENT_ID]

        # the same press again (its ack was lost, say) -> acknowledged again, stored once
        esp.publish("events", filled(PRESS))
        assert esp.next_ack()["stored"] == [EVENT_ID]
        assert stored(db_url, EVENT_ID) == 1

        # an invalid press -> refused for good, by its id, so the terminal deletes it
        esp.publish("events", filled(BAD_BUTTON))
        refused = esp.next_ack()
        assert refused["stored"] == []
        assert [(r["event_id"], r["reason"]) for r in refused["rejected"]] == [
            ("esp-1:2", "invalid_payload")
        ]

        # the connection drops without a goodbye -> the broker publishes the last will
        esp.crash()
        wait_until(lambda: not online(db_url), 10, "the last will to show it offline")
    registration = device(db_url)
    assert registration is not None
    assert registration.state == "offline"
    assert registration.version == "esp32-fw 1.4.0"


@pytest.mark.parametrize("auth", ["password", "certificate"])
def test_a_terminal_logs_in_over_tls_as_the_docs_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, auth: str
) -> None:
    """`mosquitto_rr` subscribes and publishes over one connection: on the terminals' ports
    the client id is the username, so a second client with the same login would close it."""
    device_id = f"esp-{auth}"
    with provisioned_fleet(tmp_path, monkeypatch) as fleet, running_hub():
        bundle = fleet.provision(device_id, auth=auth)
        config = tomllib.loads((bundle / "kiosk.toml").read_text())["mqtt"]
        port = config["url"].rsplit(":", 1)[1]
        login = (
            ["-u", config["username"], "-P", config["password"]]
            if auth == "password"
            else ["--cert", str(bundle / "device.crt"), "--key", str(bundle / "device.key")]
        )
        connect = ["-h", "localhost", "-p", port, "--cafile", str(bundle / "ca.crt"), *login]

        reply = subprocess.run(
            [
                *("mosquitto_rr", *connect, "-q", "1", "-W", "15"),
                *("-t", topic("events", device_id), "-e", topic("ack", device_id)),
                *("-m", filled(PRESS, device_id)),
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert json.loads(reply.stdout)["stored"] == [EVENT_ID]
        assert fleet.stored(device_id) == 1

        subprocess.run(
            [
                *("mosquitto_pub", *connect, "-q", "1", "-r"),
                *("-t", topic("status", device_id), "-m", filled(ONLINE, device_id)),
            ],
            check=True,
            timeout=30,
        )
        wait_until(lambda: online(fleet.db_url, device_id), 10, "the terminal shown online")
