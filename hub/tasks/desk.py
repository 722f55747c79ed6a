"""The task desk: one thread that sends due staff notifications every second and, every
`tasks.interval_s`, escalates overdue tasks and measures the recovery of resolved ones."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from hub.alerts.delivery import Publisher
from hub.clock import Clock, utc_now
from hub.config import HubSettings
from hub.periodic import PeriodicJob, always
from hub.tasks.notify import NotificationQueue
from hub.tasks.records import escalate_overdue
from hub.tasks.recovery import measure_due

log = logging.getLogger(__name__)

DELIVERY_POLL_S = 1.0


@dataclass(frozen=True)
class Rounds:
    """What one check did: the ids of the tasks escalated and of those measured."""

    escalated: list[int]
    measured: list[int]


class TaskDesk:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: HubSettings,
        publish: Publisher,
        *,
        clock: Clock = utc_now,
        may_run: Callable[[], bool] = always,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._interval_s = settings.tasks.interval_s
        self._min_answers = settings.tasks.recovery_min_answers
        self.notices = NotificationQueue(sessions, settings, publish, clock=clock)
        self._guessed_url = None
        if not settings.tasks.public_url and not settings.phone.public_url:
            self._guessed_url = settings.staff_base_url
        self._next_check = 0.0
        self._job = PeriodicJob("task-desk", self._tick, DELIVERY_POLL_S, may_run=may_run)

    def start(self) -> None:
        if self._guessed_url:
            log.warning(
                "links in staff notifications point at %s; set SEED_HUB_TASK_PUBLIC_URL to "
                "where staff phones reach the hub",
                self._guessed_url,
            )
        self._job.start()

    def wake(self) -> None:
        """Send what is due now: the alert engine has just opened tasks."""
        self._job.wake()

    def stop(self) -> None:
        self._job.stop()

    def _tick(self) -> None:
        """Check every `interval_s`; deliver what is due every tick. A failed check is tried
        again at the next interval and holds no notice back."""
        if time.monotonic() >= self._next_check:
            self._next_check = time.monotonic() + self._interval_s
            try:
                self.check()
            except Exception:
                log.exception("overdue tasks and recoveries could not be checked; trying later")
        self.notices.deliver_due(self._clock())

    def check(self, now: datetime | None = None) -> Rounds:
        """Escalate what is overdue, measure what is due, in one transaction."""
        now = now or self._clock()
        with self._sessions.begin() as session:
            done = Rounds(
                escalated=escalate_overdue(session, now=now),
                measured=measure_due(session, now=now, min_answers=self._min_answers),
            )
        if done.escalated:
            log.info("tasks escalated (a target time missed): %s", done.escalated)
        if done.measured:
            log.info("tasks measured before and after: %s", done.measured)
        return done
