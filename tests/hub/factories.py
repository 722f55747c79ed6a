"""Events and statuses built for hub tests."""

from datetime import UTC, datetime

from sqlalchemy import TableClause, column, table
from sqlalchemy.orm import Session

from hub.ingest.store import add_location
from hub.models import ROLLUP_COUNTS, UtcDateTime
from protocol.ids import uuid7
from protocol.messages import Button, DeviceState, DeviceStatus, PressEvent

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def press(
    button: Button = Button.HAPPY,
    *,
    device_id: str = "k1",
    location_id: str = "gate-a",
    seq: int = 1,
    at: datetime = NOON,
    misuse: bool = False,
) -> PressEvent:
    return PressEvent(
        event_id=str(uuid7()),
        device_id=device_id,
        location_id=location_id,
        seq=seq,
        occurred_at=at,
        button=button,
        misuse=misuse,
    )


def status(
    state: DeviceState = DeviceState.ONLINE,
    *,
    device_id: str = "k1",
    sent_at: datetime = NOON,
    outbox_depth: int = 0,
) -> DeviceStatus:
    return DeviceStatus(
        device_id=device_id,
        state=state,
        sent_at=sent_at,
        location_id="gate-a",
        version="0.1.0",
        uptime_s=12.5,
        outbox_depth=outbox_depth,
    )


def place(
    session: Session,
    location_id: str,
    *,
    kind: str = "touchpoint",
    parent: str | None = None,
    time_zone: str = "Europe/Helsinki",
) -> None:
    """A location in the tree site -> area -> touchpoint."""
    location = add_location(
        session, location_id=location_id, name=location_id.title(), time_zone=time_zone
    )
    location.kind = kind
    location.parent_id = parent
    session.flush()


def locations_table_before_surveys() -> TableClause:
    """`locations` as migrations 0003 to 0010 have it: tests that insert at such a revision
    would otherwise name the model's newer columns (and their defaults)."""
    return table(
        "locations",
        column("location_id"),
        column("name"),
        column("time_zone"),
        column("created_at", UtcDateTime()),
        column("kind"),
        column("parent_id"),
    )


def hourly_rollups_before_channels() -> TableClause:
    """`hourly_rollups` as migrations before 0014 have it (no channel)."""
    return table(
        "hourly_rollups",
        column("location_id"),
        column("bucket_start", UtcDateTime()),
        column("misuse"),
        *(column(name) for name in ROLLUP_COUNTS),
    )
