"""Did the fix work? A resolved task's place is compared before and after: the unhappy share
in the window before the alert against the same length of time after resolution.

The change is `after - before` with Newcombe's hybrid score interval (95 %), built from each
side's Wilson interval, which stays sound for the small counts of one touchpoint in an hour:
*recovered* when the whole interval lies below zero, *not recovered* when it does not, and
*too few answers to tell* when either side has fewer than `min_answers` scored answers.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Task
from hub.reporting.scores import ButtonCounts, wilson_interval
from hub.rollups.read import window_counts

DEFAULT_MIN_ANSWERS = 5


class Recovery(StrEnum):
    RECOVERED = "recovered"
    NOT_RECOVERED = "not_recovered"
    TOO_FEW = "too_few"


@dataclass(frozen=True)
class Share:
    unhappy: int
    total: int

    @classmethod
    def of(cls, counts: ButtonCounts | None) -> "Share":
        if counts is None:
            return cls(0, 0)
        return cls(counts.unhappy + counts.very_unhappy, counts.total)

    @property
    def value(self) -> float:
        return self.unhappy / self.total if self.total else 0.0


@dataclass(frozen=True)
class Change:
    """after - before, as a share, with its 95 % interval (None when a side has no answer)."""

    difference: float
    low: float
    high: float


def change(before: Share, after: Share) -> Change | None:
    """Newcombe's hybrid score interval for the difference of two independent shares."""
    b = wilson_interval(before.unhappy, before.total)
    a = wilson_interval(after.unhappy, after.total)
    if a is None or b is None:
        return None
    p1, p2 = before.value, after.value
    d = p2 - p1
    low = d - math.sqrt((p2 - a[0]) ** 2 + (b[1] - p1) ** 2)
    high = d + math.sqrt((a[1] - p2) ** 2 + (p1 - b[0]) ** 2)
    return Change(d, low, high)


def verdict(before: Share, after: Share, *, min_answers: int = DEFAULT_MIN_ANSWERS) -> Recovery:
    if before.total < min_answers or after.total < min_answers:
        return Recovery.TOO_FEW
    measured = change(before, after)
    if measured is None:  # a side without answers, with a minimum of none
        return Recovery.TOO_FEW
    return Recovery.RECOVERED if measured.high < 0 else Recovery.NOT_RECOVERED


def windows(task: Task) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    """[before the alert), [after resolution): each `window_min` long."""
    span = timedelta(minutes=task.window_min)
    assert task.resolved_at is not None
    return (task.opened_at - span, task.opened_at), (task.resolved_at, task.resolved_at + span)


def measure_due(
    session: Session, *, now: datetime, min_answers: int = DEFAULT_MIN_ANSWERS, limit: int = 200
) -> list[int]:
    """Measure, oldest first, up to `limit` resolved tasks whose window after resolution has
    passed; returns their ids."""
    # their windows differ, so the filter is here: a long one must not hold up the short ones
    # (the unmeasured are few: those resolved within the longest window)
    waiting = session.scalars(
        select(Task)
        .where(Task.state == "resolved", Task.recovery.is_(None), Task.resolved_at <= now)
        .order_by(Task.resolved_at, Task.id)
    ).all()
    due = [task for task in waiting if windows(task)[1][1] <= now][:limit]
    for task in due:
        before, after = (_share(session, task.location_id, span) for span in windows(task))
        task.before_unhappy, task.before_total = before.unhappy, before.total
        task.after_unhappy, task.after_total = after.unhappy, after.total
        task.recovery = verdict(before, after, min_answers=min_answers).value
    return [t.id for t in due]


def _share(session: Session, location_id: str, span: tuple[datetime, datetime]) -> Share:
    counts = window_counts(session, locations=[location_id], since=span[0], until=span[1])
    return Share.of(counts.get(location_id))
