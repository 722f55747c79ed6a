"""The cameras' readings are kept for `CameraSettings.observation_retention_days` after their
press, then deleted in bounded batches by a periodic job. The press and the rollups' counts
stay; only the reading goes."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from hub.clock import Clock, utc_now
from hub.config import HubSettings
from hub.models import observations
from hub.periodic import PeriodicJob, always

log = logging.getLogger(__name__)

RETENTION_EVERY_S = 3600.0
BATCH_ROWS = 5000
"""Readings deleted in one transaction: short enough that ingest never waits long on it."""


def delete_old_observations(
    session: Session, *, older_than: datetime, limit: int = BATCH_ROWS
) -> int:
    """Delete up to `limit` readings of presses before `older_than`; returns how many."""
    table = observations.c
    oldest = select(table.event_id).where(table.occurred_at < older_than).limit(limit)
    result = session.execute(delete(observations).where(table.event_id.in_(oldest)))
    return int(getattr(result, "rowcount", 0) or 0)


class ObservationRetention(PeriodicJob):
    """Deletes readings past their retention, hourly, in the process holding the lease."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: HubSettings,
        *,
        interval_s: float = RETENTION_EVERY_S,
        batch_rows: int = BATCH_ROWS,
        may_run: Callable[[], bool] = always,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__("observation-retention", self.step, interval_s, may_run=may_run)
        self._sessions = sessions
        self._days = settings.camera.observation_retention_days
        self._batch_rows = batch_rows
        self._clock = clock

    def step(self) -> int:
        """Delete every reading past its retention, a batch a transaction; returns how many."""
        older_than = self._clock() - timedelta(days=self._days)
        deleted = 0
        while True:
            with self._sessions.begin() as session:
                batch = delete_old_observations(
                    session, older_than=older_than, limit=self._batch_rows
                )
            deleted += batch
            if batch < self._batch_rows:
                break
        if deleted:
            log.info(
                "observation retention deleted %d camera readings older than %g days (counts kept)",
                deleted,
                self._days,
            )
        return deleted
