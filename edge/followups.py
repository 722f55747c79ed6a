"""The follow-up after a press: whether one is asked, how long it waits, what it records.

After a press that answers a survey with a follow-up for its side (`negative` after unhappy
or very unhappy, `positive` after happy or very happy; a misuse press gets none), a window
opens for the survey's `answer_s`. The page (the kiosk's display, the simulator) reads
`current()` and calls `answer()`. When the time is up, or the next press comes first, the
window closes unanswered. Every window ends in exactly one `FollowUp` (option None: shown,
not answered), committed to the outbox like a press and sent on the same topic.

Thread-safe: presses come on the recorder's thread, answers on a web handler's, and a
window's end is kept by this class's own thread. Nothing here stops a button: the recorder
logs and skips a listener that raises, and the outbox is written on this class's thread
(retried while the disk refuses), never on the recorder's.

A window is held in the outbox while it is open (`Outbox.hold_followup`): a kiosk that
dies with one open records it unanswered at its next start; a clean stop closes it
unanswered at once.
"""

import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from edge.outbox import Outbox
from protocol.errors import SeedError
from protocol.ids import uuid7
from protocol.messages import Button, FollowUp, PressEvent
from protocol.surveys import FollowUpQuestion, Question, Survey

log = logging.getLogger(__name__)

QUESTION_AFTER: dict[Button, Question] = {
    Button.VERY_HAPPY: "positive",
    Button.HAPPY: "positive",
    Button.UNHAPPY: "negative",
    Button.VERY_UNHAPPY: "negative",
}
IDLE_WAIT_S = 60.0
RETRY_FIRST_S = 0.2
RETRY_MAX_S = 10.0


class FollowUpError(SeedError):
    """An answer that cannot be taken; the message says why."""


class WindowClosedError(FollowUpError):
    """The press's window is closed: answered, timed out, or a newer press came."""


class InvalidAnswerError(FollowUpError):
    """An option or a language that the survey does not have (the window stays open)."""


@dataclass(frozen=True)
class Window:
    """One press's follow-up, open from `opened_at` to `closes_at` (monotonic seconds)."""

    press: PressEvent
    question: Question
    survey: Survey
    opened_at: float
    closes_at: float
    unanswered: FollowUp
    """What the window ends in without an answer (held in the outbox while it is open)."""

    @property
    def event_id(self) -> str:
        return self.press.event_id

    @property
    def follow_up(self) -> FollowUpQuestion:
        """The question and the options to show."""
        follow_up = self.survey.follow_up(self.question)
        assert follow_up is not None  # a window opens only for a question the survey has
        return follow_up


def question_after(event: PressEvent, survey: Survey | None) -> Question | None:
    """The follow-up a press gets: none after misuse, without a survey, or where the
    survey asks nothing on that side."""
    if event.misuse or survey is None:
        return None
    if (event.survey_id, event.survey_version) != (survey.survey_id, survey.version):
        return None  # recorded under another survey (a new one arrived meanwhile)
    question = QUESTION_AFTER[event.button]
    return question if survey.follow_up(question) is not None else None


class FollowUps:
    def __init__(
        self,
        outbox: Outbox,
        *,
        survey: Survey | None = None,
        on_recorded: Callable[[FollowUp], None] = lambda _followup: None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`clock` times the windows, `now` stamps the follow-ups (tests fake both)."""
        self._outbox = outbox
        self._survey = survey
        self._on_recorded = on_recorded
        self._clock = clock
        self._now = now
        self._lock = threading.Lock()  # the window and the queue
        self._write_lock = threading.Lock()  # one writer at a time
        self._window: Window | None = None
        self._queue: deque[FollowUp] = deque()
        self._retry_s = 0.0  # after a refused write: wait before the next try
        self._listeners: list[Callable[[Window], None]] = []
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="followups", daemon=True)
        for held in outbox.held_followups():  # windows open when the kiosk last died
            log.warning(
                "follow-up for press %s was open at the last stop: no answer", held.event_id
            )
            self._queue.append(held)

    # --- what the kiosk wires -----------------------------------------------------------

    @property
    def survey(self) -> Survey | None:
        """The survey in force: what the page shows at rest."""
        return self._survey

    def ask(self, survey: Survey | None) -> None:
        """Presses from now on get this survey's follow-ups; an open window keeps its own."""
        self._survey = survey

    def add_listener(self, on_open: Callable[[Window], None]) -> None:
        """Also tell `on_open` of each window as it opens (on the recorder's thread); one
        that raises is logged and skipped."""
        self._listeners.append(on_open)

    def pressed(self, event: PressEvent) -> Window | None:
        """The recorder's listener: close the open window unanswered, open the press's own."""
        survey = self._survey
        question = question_after(event, survey)
        with self._lock:
            self._close_unanswered(self._now())
            if question is not None and survey is not None:
                self._window = self._open(event, question, survey)
            window = self._window
        self._wake.set()
        if window is not None:
            log.info("follow-up %s open for press seq=%d", window.question, event.seq)
            for listener in self._listeners:
                try:
                    listener(window)
                except Exception:
                    log.exception("a follow-up listener failed; the window stays open")
        return window

    # --- what the page (or the simulator) calls -----------------------------------------

    def current(self) -> Window | None:
        """The follow-up to show now, if any."""
        with self._lock:
            self._expire()
            return self._window

    def answer(self, event_id: str, option: str | None, language: str | None = None) -> FollowUp:
        """Record the traveller's choice for press `event_id` and close its window.

        `option` is one of the question's option keys, or None for a traveller who left
        the question (closed unanswered now); `language` is the page's, one of the
        survey's. Raises `WindowClosedError` or `InvalidAnswerError`."""
        with self._lock:
            self._expire()
            window = self._window
            if window is None or window.event_id != event_id:
                raise WindowClosedError(f"no follow-up is open for press {event_id!r}")
            keys = [choice.key for choice in window.follow_up.options]
            if option is not None and option not in keys:
                raise InvalidAnswerError(f"option {option!r} is not one of {keys}")
            if language is not None and language not in window.survey.languages:
                raise InvalidAnswerError(
                    f"language {language!r} is not one of {window.survey.languages}"
                )
            followup = self._close(window, option=option, language=language, at=self._now())
        self._wake.set()
        log.info("follow-up %s for press seq=%d: %s", window.question, window.press.seq, option)
        return followup

    # --- the window's end and the writes ------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Close an open window unanswered, write what is queued, stop the thread."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()
        with self._lock:
            self._close_unanswered(self._now())
        self._write()
        if self._queue:
            log.error(
                "stopped with %d follow-up(s) unwritten (the disk refused); a held window is "
                "recorded unanswered at the next start",
                len(self._queue),
            )

    def tick(self) -> float:
        """Close a window whose time is up, write what is queued; seconds until the next
        thing to do (the thread's round; tests call it at the fake times they choose)."""
        with self._lock:
            self._expire()
            closes_at = self._window.closes_at if self._window else None
        if not self._write():
            return self._retry_s
        if closes_at is None:
            return IDLE_WAIT_S
        return max(0.0, min(IDLE_WAIT_S, closes_at - self._clock()))

    def pending(self) -> int:
        """Follow-ups closed but not yet in the outbox."""
        with self._lock:
            return len(self._queue)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                wait_s = self.tick()
            except Exception:  # the thread must outlive any one round
                log.exception("follow-up round failed")
                wait_s = RETRY_MAX_S
            self._wake.wait(wait_s)

    def _open(self, event: PressEvent, question: Question, survey: Survey) -> Window:
        """The press's window, held in the outbox (the caller holds the lock)."""
        opened_at = self._clock()
        unanswered = FollowUp(
            followup_id=str(uuid7()),
            event_id=event.event_id,
            device_id=event.device_id,
            location_id=event.location_id,
            survey_id=survey.survey_id,
            survey_version=survey.version,
            question=question,
            answered_at=self._now() + timedelta(seconds=survey.answer_s),
        )
        try:
            self._outbox.hold_followup(unanswered)
        except Exception:  # the window still works; only a power cut could lose its record
            log.exception("cannot hold the follow-up for press seq=%d", event.seq)
        return Window(
            press=event,
            question=question,
            survey=survey,
            opened_at=opened_at,
            closes_at=opened_at + survey.answer_s,
            unanswered=unanswered,
        )

    def _expire(self) -> None:
        """Close the window if its time is up (the caller holds the lock)."""
        window = self._window
        if window is not None and self._clock() >= window.closes_at:
            self._window = None
            self._queue.append(window.unanswered)  # stamped with the window's end
            log.info("follow-up for press seq=%d: no answer", window.press.seq)

    def _close_unanswered(self, at: datetime) -> None:
        """Close the open window, if any, as not answered (the caller holds the lock)."""
        self._expire()
        if self._window is not None:
            self._close(self._window, option=None, language=None, at=at)

    def _close(
        self, window: Window, *, option: str | None, language: str | None, at: datetime
    ) -> FollowUp:
        """The window's one follow-up, under the id it is held by, queued for the outbox
        (the caller holds the lock)."""
        followup = FollowUp.model_validate(
            {
                **window.unanswered.model_dump(exclude_none=True),
                "option": option,
                "language": language,
                "answered_at": at,
            }
        )
        self._window = None
        self._queue.append(followup)
        return followup

    def _write(self) -> bool:
        """Commit the queued follow-ups in order; False if the disk refused one (kept)."""
        with self._write_lock:
            while True:
                with self._lock:
                    if not self._queue:
                        self._retry_s = 0.0
                        return True
                    followup = self._queue[0]
                try:
                    self._outbox.append_followup(followup)
                except sqlite3.IntegrityError:
                    # an earlier attempt's COMMIT reached the disk after all
                    log.warning("follow-up %s was committed already", followup.followup_id)
                except Exception as exc:  # a refusing disk, or worse: kept, retried, logged
                    self._retry_s = min(max(self._retry_s * 2, RETRY_FIRST_S), RETRY_MAX_S)
                    log.error(
                        "cannot write follow-up for press %s (%s); retrying in %.1f s",
                        followup.event_id,
                        exc,
                        self._retry_s,
                    )
                    return False
                with self._lock:
                    self._queue.popleft()
                try:
                    self._on_recorded(followup)
                except Exception:
                    log.exception("after follow-up %s: a listener failed", followup.followup_id)
