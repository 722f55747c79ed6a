"""reasons rollups: answered presses per place, bucket, question, survey version and option

The reasons of a year read a year of raw follow-ups and their presses; they now read rollups
kept as presses and follow-ups are stored: each location's own per UTC hour, day and month,
and each place's subtree per day of its own calendar. All are filled here from the stored
rows: a scored press counts with its latest follow-up (by answered_at, then followup_id)
from its own kiosk that asks its own question.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 08:40:00
"""

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import hub.models

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = hub.models.UtcDateTime(timezone=True)
KEY = ["question", "survey_id", "survey_version", "option"]
OWN: dict[str, Callable[[datetime], datetime]] = {
    "reason_hourly_rollups": lambda t: t.replace(minute=0, second=0, microsecond=0),
    "reason_daily_rollups": lambda t: t.replace(hour=0, minute=0, second=0, microsecond=0),
    "reason_monthly_rollups": lambda t: t.replace(day=1, hour=0, minute=0, second=0, microsecond=0),
}
NEGATIVE = ("unhappy", "very_unhappy")


def _key_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("question", sa.String(16)),
        sa.Column("survey_id", sa.String(64)),
        sa.Column("survey_version", sa.Integer()),
        sa.Column("option", sa.String(32)),
        sa.Column("count", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    tables = {}
    for name in OWN:
        tables[name] = op.create_table(
            name,
            sa.Column("location_id", sa.String(64), sa.ForeignKey("locations.location_id")),
            sa.Column("bucket_start", UTC_TIME),
            *_key_columns(),
            sa.PrimaryKeyConstraint("location_id", "bucket_start", *KEY),
        )
    tables["subtree_reason_days"] = op.create_table(
        "subtree_reason_days",
        sa.Column("location_id", sa.String(64), sa.ForeignKey("locations.location_id")),
        sa.Column("day", sa.Date()),
        *_key_columns(),
        sa.PrimaryKeyConstraint("location_id", "day", *KEY),
    )
    _fill(tables)
    for name in OWN:
        op.create_index(f"ix_{name}_bucket", name, ["bucket_start", "location_id", *KEY, "count"])


def _fill(tables: dict[str, Any]) -> None:
    """Count the answered presses already stored into every rollup."""
    bind = op.get_bind()
    places = sa.table(
        "locations",
        sa.column("location_id", sa.String),
        sa.column("parent_id", sa.String),
        sa.column("time_zone", sa.String),
    )
    events = sa.table(
        "events",
        *(sa.column(n, sa.String) for n in ("event_id", "device_id", "location_id", "button")),
        sa.column("occurred_at", UTC_TIME),
        sa.column("misuse", sa.Boolean),
    )
    followups = sa.table(
        "followups",
        *(sa.column(n, sa.String) for n in ("followup_id", "event_id", "device_id", "question")),
        *(sa.column(n, sa.String) for n in ("survey_id", "option")),
        sa.column("survey_version", sa.Integer),
        sa.column("answered_at", UTC_TIME),
    )
    rows = bind.execute(
        sa.select(
            events.c.event_id,
            events.c.location_id,
            events.c.occurred_at,
            events.c.button,
            followups.c.question,
            followups.c.survey_id,
            followups.c.survey_version,
            followups.c.option,
            followups.c.answered_at,
            followups.c.followup_id,
        )
        .join(
            followups,
            (followups.c.event_id == events.c.event_id)
            & (followups.c.device_id == events.c.device_id),
        )
        .where(events.c.misuse == sa.false())
    )
    latest: dict[str, tuple[tuple[datetime, str], tuple[Any, ...]]] = {}
    for event_id, location_id, at, button, question, survey, version, option, answered, fid in rows:
        if question != ("negative" if button in NEGATIVE else "positive"):
            continue
        order = (answered, fid)
        if event_id not in latest or order > latest[event_id][0]:
            latest[event_id] = (order, (location_id, at, question, survey, version, option or ""))
    if not latest:
        return
    parent: dict[str, str | None] = {}
    zone: dict[str, ZoneInfo] = {}
    for location_id, parent_id, time_zone in bind.execute(sa.select(places)):
        parent[location_id], zone[location_id] = parent_id, ZoneInfo(time_zone)
    counts: dict[str, Counter[tuple[Any, ...]]] = {name: Counter() for name in tables}
    for _order, (location_id, occurred_at, *key) in latest.values():
        at = occurred_at.astimezone(UTC)
        for name, bucket in OWN.items():
            counts[name][(location_id, bucket(at), *key)] += 1
        place: str | None = location_id
        seen: set[str] = set()
        while place is not None and place not in seen:
            seen.add(place)
            day = at.astimezone(zone.get(place, ZoneInfo("UTC"))).date()
            counts["subtree_reason_days"][(place, day, *key)] += 1
            place = parent.get(place)
    for name, table in tables.items():
        columns = [c.name for c in table.columns]
        op.bulk_insert(
            table, [dict(zip(columns, (*k, n), strict=True)) for k, n in counts[name].items()]
        )


def downgrade() -> None:
    for name in ("subtree_reason_days", *reversed(OWN)):
        op.drop_table(name)
