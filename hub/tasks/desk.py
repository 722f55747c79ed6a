"""The task desk: one thread that sends due staff notifications every second (at once when
woken), another that every `tasks.interval_s` escalates overdue tasks and measures the
recovery of resolved ones. However long a receiver keeps the first waiting, the second
escalates on time; it wakes the first when it has queued escalation notices."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from hub.alerts.delivery import Publisher
from hub.clock import Clock, utc_now
from hub.config import HubSettings
from hub.periodic import PeriodicJob, always
from hub.tasks.kiosk_notice import sync_kiosk_notices
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
    kiosks: list[str] = field(default_factory=list)
    """Kiosks whose display notice changed."""


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
        self._kiosk_notice = settings.tasks.kiosk_notice
        self._max_config_bytes = settings.ingest.max_payload_bytes
        self.notices = NotificationQueue(sessions, settings, publish, clock=clock)
        self._guessed_url = None
        if not settings.tasks.public_url and not settings.phone.public_url:
            self._guessed_url = settings.staff_base_url
        self._sender = PeriodicJob("task-notices", self._deliver, DELIVERY_POLL_S, may_run=may_run)
        self._checker = PeriodicJob(
            "task-desk", self._check_and_wake, self._interval_s, may_run=may_run
        )

    def start(self) -> None:
        if self._guessed_url:
            log.warning(
                "links in staff notifications point at %s; set SEED_HUB_TASK_PUBLIC_URL to "
                "where staff phones reach the hub",
                self._guessed_url,
            )
        self._checker.start()
        self._sender.start()

    def wake(self) -> None:
        """Send what is due now: the alert engine has just opened tasks."""
        self._sender.wake()

    def stop(self) -> None:
        self._checker.stop()
        self._sender.stop()

    def _deliver(self) -> None:
        self.notices.deliver_due(self._clock())

    def _check_and_wake(self) -> None:
        """A failed check is logged and tried again at the next interval (PeriodicJob)."""
        if self.check().escalated:
            self._sender.wake()

    def check(self, now: datetime | None = None) -> Rounds:
        """Escalate what is overdue and measure what is due, in one transaction; then bring
        the kiosks' display notices in line with the unresolved tasks."""
        now = now or self._clock()
        with self._sessions.begin() as session:
            done = Rounds(
                escalated=escalate_overdue(session, now=now),
                measured=measure_due(session, now=now, min_answers=self._min_answers),
            )
        with self._sessions.begin() as session:  # its own: a notice never holds an escalation back
            done.kiosks.extend(
                sync_kiosk_notices(
                    session,
                    now=now,
                    enabled=self._kiosk_notice,
                    max_config_bytes=self._max_config_bytes,
                )
            )
        if done.escalated:
            log.info("tasks escalated (a target time missed): %s", done.escalated)
        if done.measured:
            log.info("tasks measured before and after: %s", done.measured)
        return done
