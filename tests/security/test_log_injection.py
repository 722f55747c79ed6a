"""Item 14: what a client sends (a topic, a client id, an exception's text) cannot forge a
log line: every line at the margin is a record the program wrote."""

import io
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from hub.ingest.broker import EmbeddedBroker
from protocol.broker_url import parse_broker_url
from protocol.logs import one_line_handler
from tests.helpers import connect_client, wait_until

FORGED = "2099-01-01 00:00:00,000 ERROR hub.forged: the hub is down"


def forged_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if line.startswith("2099-")]


@pytest.fixture
def root_log() -> Iterator[io.StringIO]:
    """What the root logger writes through the hub's handler, amqtt's debug records too."""
    output = io.StringIO()
    handler = one_line_handler(output)
    amqtt = logging.getLogger("amqtt")
    level = amqtt.level
    logging.getLogger().addHandler(handler)
    amqtt.setLevel(logging.DEBUG)
    yield output
    amqtt.setLevel(level)
    logging.getLogger().removeHandler(handler)


def test_the_embedded_broker_logs_a_forged_client_id_and_topic_on_one_line(
    root_log: io.StringIO,
) -> None:
    broker = EmbeddedBroker(preferred_port=0)
    address = broker.start()
    client = connect_client(address, f"evil\n{FORGED}")
    assert client.publish_and_wait(f"seed/devices/evil\n{FORGED}/events", b"{}")
    client.stop()
    broker.stop()
    log = root_log.getvalue()
    assert "amqtt" in log and f"evil\\n{FORGED}" in log  # logged, escaped
    assert forged_lines(log) == []


def test_a_traceback_stays_indented_under_its_record(root_log: io.StringIO) -> None:
    try:
        raise ValueError(f"bad payload\n{FORGED}\r\x1b[2J")
    except ValueError:
        logging.getLogger("hub.ingest.pipeline").exception(
            "could not ingest a message on %s", "t\n1"
        )
    lines = root_log.getvalue().splitlines()
    assert lines[0].endswith("ERROR hub.ingest.pipeline: could not ingest a message on t\\n1")
    assert lines[1] == "  Traceback (most recent call last):"
    assert all(line.startswith("  ") for line in lines[1:])
    assert f"  {FORGED}\\r\\x1b[2J" in lines
    assert forged_lines(root_log.getvalue()) == []


class Lines:
    """The lines a process writes to a pipe, read as they come."""

    def __init__(self, pipe: IO[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[str]) -> None:
        for line in pipe:
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)


def test_the_hub_logs_a_forged_topic_on_one_line(tmp_path: Path) -> None:
    """`seed-hub serve` as a process, its own embedded broker, and what it writes to stderr
    (the journal, under systemd)."""
    hub = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--role", "ingest", "--duration", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SEED_HUB_DATA_DIR": str(tmp_path)},
    )
    assert hub.stdout is not None and hub.stderr is not None
    try:
        printed, stderr = Lines(hub.stdout), Lines(hub.stderr)
        wait_until(lambda: "ingesting from" in printed.text(), 30, "the hub to start")
        url = printed.text().split("ingesting from ")[1].split()[0]
        client = connect_client(parse_broker_url(url), "evil")
        # retained: the hub gets it whether it has subscribed yet or not
        topic = f"seed/devices/evil\n{FORGED}/events"
        assert client.publish_and_wait(topic, b"not json", retain=True)
        client.stop()
        wait_until(lambda: "dead-lettered" in stderr.text(), 30, "the dead letter's log line")
    finally:
        hub.terminate()
        hub.wait(30)
    assert f"evil\\n{FORGED}" in stderr.text()
    assert forged_lines(stderr.text()) == []
