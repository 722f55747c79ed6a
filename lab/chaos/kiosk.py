"""A chaos kiosk: the real kiosk (outbox, uplink, mock pins) with a ledger of its presses.

    python -m lab.chaos.kiosk --config K.toml --presses M --rate R --ledger L.txt

Each press is written to the ledger (fsynced) *before* the outbox commits it, so whatever
moment the process is killed at, the ledger holds every press the kiosk accepted. On start
it continues after the outbox's last sequence; once it has committed M presses and the hub
has acknowledged them all, it exits 0.
"""

import argparse
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from edge.app import Kiosk
from edge.config import load_config
from edge.outbox import Outbox
from edge.panel import mock_pin_factory
from protocol.messages import BUTTONS, PressEvent


class LedgerOutbox(Outbox):
    def __init__(self, path: Path, ledger: Path, *, capacity: int) -> None:
        super().__init__(path, capacity=capacity)
        self._ledger = ledger.open("a", encoding="utf-8")

    def append(self, event: PressEvent) -> None:
        self._ledger.write(f"{event.event_id} {event.seq}\n")
        self._ledger.flush()
        os.fsync(self._ledger.fileno())
        super().append(event)


def run(config_path: Path, presses: int, rate_per_s: float, ledger: Path) -> int:
    config = load_config(config_path)
    outbox = LedgerOutbox(
        config.data_dir / "outbox.sqlite3", ledger, capacity=config.outbox_capacity
    )
    kiosk = Kiosk(config, pin_factory=mock_pin_factory(), outbox=outbox)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    kiosk.start()
    pins = kiosk.panel.button_pins()
    try:
        for n in range(outbox.last_sequence(), presses):
            if stop.wait(1 / rate_per_s):
                return 1
            pin = pins[BUTTONS[n % len(BUTTONS)]]
            pin.drive_low()
            pin.drive_high()
        while not stop.is_set() and (kiosk.outbox.last_sequence() < presses or outbox.depth()):
            time.sleep(0.1)
    finally:
        kiosk.stop()
    return 0 if not stop.is_set() else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--presses", type=int, required=True)
    parser.add_argument("--rate", type=float, default=20.0, help="presses per second")
    parser.add_argument("--ledger", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return run(args.config, args.presses, args.rate, args.ledger)


if __name__ == "__main__":
    sys.exit(main())
