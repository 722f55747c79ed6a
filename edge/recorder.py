"""Turns presses into events: numbering, timestamping, misuse flagging, the survey in force,
outbox commit.

The GPIO callback only enqueues; this runs on its own thread so a slow disk never delays
the panel's LEDs or loses an edge.
"""

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from edge.outbox import Outbox
from protocol.ids import uuid7
from protocol.messages import Button, ObservedEmotion, PressEvent
from protocol.surveys import Survey

log = logging.getLogger(__name__)

RETRY_FIRST_S = 0.2
RETRY_MAX_S = 10.0


@dataclass(frozen=True)
class Press:
    button: Button
    monotonic_s: float
    wall_time: datetime


class MisuseWindow:
    """A press within `interval_s` of the previous press on the kiosk is misuse.

    Measured on the monotonic clock, so a wall-clock step (NTP sync at boot) changes nothing.
    """

    def __init__(self, interval_s: float) -> None:
        self._interval_s = interval_s
        self._previous: float | None = None

    def retune(self, interval_s: float) -> None:
        self._interval_s = interval_s

    def is_misuse(self, monotonic_s: float) -> bool:
        previous, self._previous = self._previous, monotonic_s
        return previous is not None and monotonic_s - previous < self._interval_s


class PressRecorder:
    def __init__(
        self,
        *,
        device_id: str,
        location_id: str,
        response_interval_s: float,
        outbox: Outbox,
        on_recorded: Callable[[PressEvent], object],
        emotion_at: Callable[[float], ObservedEmotion | None] = lambda _at: None,
        survey: Survey | None = None,
    ) -> None:
        self._device_id = device_id
        self._survey = survey
        self._location_id = location_id
        self._outbox = outbox
        self._listeners: list[Callable[[PressEvent], object]] = [on_recorded]
        self._emotion_at = emotion_at
        self._misuse = MisuseWindow(response_interval_s)
        self._next_seq = outbox.last_sequence() + 1
        self._presses: queue.Queue[Press | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="press-recorder", daemon=True)

    def add_listener(self, listener: Callable[[PressEvent], object]) -> None:
        """Also tell `listener` of each event once it is committed (on the recorder's thread).

        A listener that raises is logged and skipped: it never stops the recording."""
        self._listeners.append(listener)

    def relocate(self, *, location_id: str, response_interval_s: float) -> None:
        """Presses from now on are recorded for this location and misuse window."""
        self._location_id = location_id
        self._misuse.retune(response_interval_s)

    def ask(self, survey: Survey | None) -> None:
        """Presses from now on answer `survey` (None: buttons only)."""
        self._survey = survey

    def submit(self, button: Button, monotonic_s: float) -> None:
        """Safe to call from any thread, including gpiozero's callback thread."""
        self._presses.put(Press(button, monotonic_s, datetime.now(UTC)))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Record every press already submitted, then stop."""
        self._presses.put(None)
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while (press := self._presses.get()) is not None:
            event = self.record(press)
            for listener in self._listeners:
                try:
                    listener(event)
                except Exception:  # a follow-up, a wake-up: never worth a button
                    log.exception(
                        "after press seq=%d: a listener failed; recording goes on", event.seq
                    )

    def record(self, press: Press) -> PressEvent:
        """Make the press an event and commit it, retrying while the disk refuses."""
        event = self._event_for(press)
        delay_s = RETRY_FIRST_S
        while True:
            try:
                self._outbox.append(event)
                break
            except sqlite3.IntegrityError:
                # an earlier attempt's COMMIT reached the disk after all (the row may even be
                # acknowledged and gone by now): the press is recorded
                log.warning("press seq=%d was committed by an earlier attempt", event.seq)
                break
            except (sqlite3.Error, OSError) as exc:
                log.error(
                    "cannot write press seq=%d to the outbox (%s); retrying in %.1f s",
                    event.seq,
                    exc,
                    delay_s,
                )
                time.sleep(delay_s)
                delay_s = min(delay_s * 2, RETRY_MAX_S)
        self._next_seq += 1
        log.info(
            "press %s seq=%d%s", event.button.value, event.seq, " (misuse)" if event.misuse else ""
        )
        return event

    def _event_for(self, press: Press) -> PressEvent:
        survey = self._survey
        return PressEvent(
            event_id=str(uuid7()),
            device_id=self._device_id,
            location_id=self._location_id,
            seq=self._next_seq,
            occurred_at=press.wall_time,
            button=press.button,
            misuse=self._misuse.is_misuse(press.monotonic_s),
            emotion=self._observed(press),
            survey_id=survey.survey_id if survey else None,
            survey_version=survey.version if survey else None,
        )

    def _observed(self, press: Press) -> ObservedEmotion | None:
        """The camera's reading at the press; a camera fault never costs a press."""
        try:
            return self._emotion_at(press.monotonic_s)
        except Exception:
            log.exception("no camera reading for press seq=%d", self._next_seq)
            return None
