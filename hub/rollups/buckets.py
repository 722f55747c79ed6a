"""Where a moment falls: the rollups' buckets, and the period a report covers."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hub.clock import Clock, utc_now

HOUR = timedelta(hours=1)


def hour_bucket(moment: datetime) -> datetime:
    """The start of the moment's hour (hourly rollups are UTC hours)."""
    return moment.replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floor = hour_bucket(moment)
    return floor if floor == moment else floor + HOUR


def day_bucket(moment: datetime) -> datetime:
    """The start of the moment's UTC day (daily rollups are UTC days)."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def ceil_day(moment: datetime) -> datetime:
    floor = day_bucket(moment)
    return floor if floor == moment else floor + timedelta(days=1)


def month_bucket(moment: datetime) -> datetime:
    """The start of the moment's UTC month (monthly rollups are UTC months)."""
    return day_bucket(moment).replace(day=1)


def ceil_month(moment: datetime) -> datetime:
    floor = month_bucket(moment)
    if floor == moment:
        return floor
    return (floor + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class Period:
    """[since, until), aware UTC instants."""

    since: datetime
    until: datetime

    @classmethod
    def last(
        cls, days: float, *, until: datetime | None = None, clock: Clock = utc_now
    ) -> "Period":
        end = (until or clock()).astimezone(UTC)
        return cls(end - timedelta(days=days), end)

    def previous(self) -> "Period":
        """The period of the same length just before this one."""
        return Period(self.since - (self.until - self.since), self.since)

    def as_dict(self) -> dict[str, str]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat()}
