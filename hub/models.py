"""SQLAlchemy 2.0 tables. Every schema change comes with an Alembic migration."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

from hub.clock import as_utc
from protocol.emotions import EMOTIC_CATEGORIES


class _SqliteDateTime(sqlite.DATETIME):
    """SQLite's stored text read with the standard library's ISO parser (written in C):
    a year of a site's hours is read several times faster than with the default regex."""

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        def parse(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value)

        return parse


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SqliteDateTime())  # type: ignore[no-untyped-call]
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)


DEFAULT_LANGUAGES = "en"
"""What a place asks in until it is given languages (or is put under a place that has)."""


class Base(DeclarativeBase):
    pass


class Location(Base):
    """A place in the hierarchy site (an airport) -> area (a terminal) -> touchpoint (a
    security lane, a washroom, a gate). Kiosks stand at touchpoints; scores roll up."""

    __tablename__ = "locations"

    location_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(16), default="touchpoint")
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("locations.location_id"))
    languages: Mapped[str] = mapped_column(
        String(100),
        default=DEFAULT_LANGUAGES,
        server_default=DEFAULT_LANGUAGES,
        doc="BCP 47 tags, comma-separated, the first the default: what its kiosks ask in",
    )
    audience: Mapped[str] = mapped_column(
        String(16),
        default="public",
        server_default="public",
        doc="who answers here: public, employees or education (see `Audience`); a place's "
        "effective audience is the strictest on its way up the tree",
    )


class Audience(StrEnum):
    """Who answers at a place. The EU AI Act (Art. 5(1)(f)) forbids inferring emotions from
    faces at workplaces and in education: a camera may be on only where the audience is public."""

    PUBLIC = "public"
    EMPLOYEES = "employees"
    EDUCATION = "education"


class Device(Base):
    """A kiosk, registered by a technician or first seen on the wire."""

    __tablename__ = "devices"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    location_id: Mapped[str | None] = mapped_column(ForeignKey("locations.location_id"))
    registered: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="unknown")
    first_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[str | None] = mapped_column(String(64))
    uptime_s: Mapped[float | None] = mapped_column(Float)
    outbox_depth: Mapped[int | None] = mapped_column(Integer)
    outbox_capacity: Mapped[int | None] = mapped_column(Integer)
    outbox_dropped: Mapped[int | None] = mapped_column(
        Integer, doc="events the kiosk dropped because its outbox was full"
    )
    clock_offset_s: Mapped[float | None] = mapped_column(
        Float, doc="hub receive time minus the kiosk's send time, at the last status"
    )
    auth: Mapped[str | None] = mapped_column(String(16), doc="password or certificate")
    password_hash: Mapped[str | None] = mapped_column(
        String(200), doc="Mosquitto `$7$` hash; the password itself is never stored"
    )
    certificate_serial: Mapped[str | None] = mapped_column(String(64), doc="hex")
    display: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), doc="has a touch display (its bundle)"
    )
    credentials_issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    desired_config: Mapped[str | None] = mapped_column(
        Text, doc="the remote config the hub publishes to the kiosk (JSON)"
    )
    desired_config_version: Mapped[int | None] = mapped_column(Integer)
    applied_config_version: Mapped[int | None] = mapped_column(
        Integer, doc="the config version the kiosk reported in its last status"
    )
    config_error: Mapped[str | None] = mapped_column(
        String(300), doc="why the kiosk refused the latest config, if it did"
    )
    camera: Mapped[str | None] = mapped_column(String(16), doc="off, starting, ok or fault")
    camera_fault: Mapped[str | None] = mapped_column(String(300))
    model_sha256: Mapped[str | None] = mapped_column(
        String(64), doc="the sha256 of the emotion model its camera reported loaded, if on"
    )
    last_press_seq: Mapped[int | None] = mapped_column(
        BigInteger, doc="the sequence number of the latest press stored for this kiosk"
    )
    last_press_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, doc="when its latest press happened (hub time): the next is timed from it"
    )
    passersby_total: Mapped[int | None] = mapped_column(
        Integer, doc="the kiosk's running count of faces passing, at its last status"
    )


class Placement(Base):
    """Where a device has stood: an event from a location it has left still counts there."""

    __tablename__ = "placements"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.device_id"), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"), primary_key=True)
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RevokedCertificate(Base):
    """Serials on the fleet CA's revocation list."""

    __tablename__ = "revoked_certificates"

    serial: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Channel(StrEnum):
    """How a response arrived: a kiosk's button, or the survey on a traveller's phone."""

    KIOSK = "kiosk"
    WEB = "web"


WEB_DEVICE_ID = "web"
"""The device id of every phone response: no kiosk may be registered under it."""


class Event(Base):
    """One press, stored once whatever is redelivered (the kiosk-made id is the key)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_location_time", "location_id", "occurred_at"),
        Index("ix_events_device_seq", "device_id", "seq"),
    )

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(
        UtcDateTime, doc="when the press happened, corrected for a skewed kiosk clock"
    )
    kiosk_occurred_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, doc="the press time as the kiosk's clock told it"
    )
    clock_offset_s: Mapped[float | None] = mapped_column(
        Float, doc="correction applied (hub clock minus kiosk clock), if any"
    )
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    button: Mapped[str] = mapped_column(String(16))
    misuse: Mapped[bool] = mapped_column(Boolean)
    flag: Mapped[str | None] = mapped_column(
        String(16), doc="why the hub left a press out of scores: too_fast or backdated"
    )
    survey_id: Mapped[str | None] = mapped_column(String(64), doc="the survey it answered")
    survey_version: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(
        String(8), default="kiosk", server_default="kiosk", doc="a Channel: kiosk or web"
    )


ROLLUP_COUNTS = ("very_happy", "happy", "unhappy", "very_unhappy")


class HourlyRollup(Base):
    """Counts per button for one location, one UTC hour, misuse and channel kept apart.

    Two covering indexes let reports sum counts without reading the table: by hour (the
    overview: every location over a period) and by location (a location page's subtree).
    """

    __tablename__ = "hourly_rollups"
    __table_args__ = (
        Index(
            "ix_hourly_rollups_bucket_counts",
            "bucket_start",
            "location_id",
            "misuse",
            "channel",
            *ROLLUP_COUNTS,
        ),
        Index(
            "ix_hourly_rollups_location_counts",
            "location_id",
            "bucket_start",
            "misuse",
            "channel",
            *ROLLUP_COUNTS,
        ),
    )

    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    misuse: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    channel: Mapped[str] = mapped_column(
        String(8), primary_key=True, default="kiosk", server_default="kiosk"
    )
    very_happy: Mapped[int] = mapped_column(Integer, default=0)
    happy: Mapped[int] = mapped_column(Integer, default=0)
    unhappy: Mapped[int] = mapped_column(Integer, default=0)
    very_unhappy: Mapped[int] = mapped_column(Integer, default=0)


class DailyRollup(Base):
    """The hourly rollups summed per UTC day, kept alongside them as events are stored, so a
    long period reads a row a day, not one an hour (reports use hours at a period's ends)."""

    __tablename__ = "daily_rollups"
    __table_args__ = (
        Index(
            "ix_daily_rollups_bucket_counts",
            "bucket_start",
            "location_id",
            "misuse",
            "channel",
            *ROLLUP_COUNTS,
        ),
    )

    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True, doc="00:00 UTC")
    misuse: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    channel: Mapped[str] = mapped_column(
        String(8), primary_key=True, default="kiosk", server_default="kiosk"
    )
    very_happy: Mapped[int] = mapped_column(Integer, default=0)
    happy: Mapped[int] = mapped_column(Integer, default=0)
    unhappy: Mapped[int] = mapped_column(Integer, default=0)
    very_unhappy: Mapped[int] = mapped_column(Integer, default=0)


class MonthlyRollup(Base):
    """The daily rollups summed per UTC month, so a year reads twelve rows a location, not
    365 (reports use days and hours at a period's ends)."""

    __tablename__ = "monthly_rollups"
    __table_args__ = (
        Index(
            "ix_monthly_rollups_bucket_counts",
            "bucket_start",
            "location_id",
            "misuse",
            "channel",
            *ROLLUP_COUNTS,
        ),
    )

    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(
        UtcDateTime, primary_key=True, doc="the 1st, 00:00 UTC"
    )
    misuse: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    channel: Mapped[str] = mapped_column(
        String(8), primary_key=True, default="kiosk", server_default="kiosk"
    )
    very_happy: Mapped[int] = mapped_column(Integer, default=0)
    happy: Mapped[int] = mapped_column(Integer, default=0)
    unhappy: Mapped[int] = mapped_column(Integer, default=0)
    very_unhappy: Mapped[int] = mapped_column(Integer, default=0)


class SubtreeHourlyRollup(Base):
    """Scored counts per UTC hour of a location and everything beneath it: a site's row holds
    its areas' and touchpoints' presses. Trends and heat maps of a place read its own rows,
    8,760 for a year, however many touchpoints it has. Misuse is left out, as views leave it."""

    __tablename__ = "subtree_hourly_rollups"
    __table_args__ = (
        Index(
            "ix_subtree_hourly_rollups_location_counts",
            "location_id",
            "bucket_start",
            *ROLLUP_COUNTS,
        ),
    )

    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    very_happy: Mapped[int] = mapped_column(Integer, default=0)
    happy: Mapped[int] = mapped_column(Integer, default=0)
    unhappy: Mapped[int] = mapped_column(Integer, default=0)
    very_unhappy: Mapped[int] = mapped_column(Integer, default=0)


class DeadLetter(Base):
    """Input the hub could not accept, kept with the reason so nothing is lost."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        Index("ix_dead_letters_reason", "reason"),
        Index("ix_dead_letters_source", "source"),
        Index("ix_dead_letters_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    source: Mapped[str] = mapped_column(
        String(64), default="", doc="the device id of its topic; empty when it names none"
    )
    topic: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    payload_size: Mapped[int] = mapped_column(Integer)


class DeadLetterTally(Base):
    """Every dead letter counted, per source and reason, kept or not (the quota keeps
    payloads of a few per source; retention deletes old ones; the counts stay)."""

    __tablename__ = "dead_letter_tallies"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    first_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime)


def emotion_column(category: str) -> str:
    """The column of one EMOTIC category: `Doubt/Confusion` -> `doubt_confusion`."""
    return "".join(c if c.isalnum() else "_" for c in category.lower())


EMOTION_COLUMNS: tuple[str, ...] = tuple(emotion_column(c) for c in EMOTIC_CATEGORIES)

observations = Table(
    "observations",
    Base.metadata,
    Column("event_id", String(64), ForeignKey("events.event_id"), primary_key=True),
    Column("location_id", ForeignKey("locations.location_id"), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("valence", Float, nullable=False),
    Column("arousal", Float, nullable=False),
    Column("dominance", Float, nullable=False),
    Column("face_score", Float, nullable=False),
    *(Column(name, Float, nullable=False) for name in EMOTION_COLUMNS),
    Index("ix_observations_location_time", "location_id", "occurred_at"),
)


class Observation(Base):
    """The camera's reading of the face at a press: 26 EMOTIC scores and VAD, no image."""

    __table__ = observations


class HourlyFootfall(Base):
    """Faces passing a kiosk's camera (ambient mode), per location and UTC hour."""

    __tablename__ = "hourly_footfall"

    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    passersby: Mapped[int] = mapped_column(BigInteger, default=0)


class User(Base):
    """Someone who signs in to the dashboard: a manager, a technician or an admin."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200), doc="argon2id; never the password")
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    session_epoch: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", doc="raised to end every session he has"
    )


class LoginThrottle(Base):
    """Recent failed sign-ins of one (user name, address) pair or of one address, and each
    address's sign-ins of the current minute."""

    __tablename__ = "login_throttles"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True, doc="sha256 of the key")
    failures: Mapped[int] = mapped_column(Integer)
    blocked_until: Mapped[datetime] = mapped_column(UtcDateTime)
    last_failure_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class UserSite(Base):
    """The sites a manager is given; he sees them and every location beneath them."""

    __tablename__ = "user_sites"

    username: Mapped[str] = mapped_column(ForeignKey("users.username"), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"), primary_key=True)


class AlertRule(Base):
    """A condition watched at a location and each location beneath it (hub/alerts/rules.py)."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"))
    kind: Mapped[str] = mapped_column(String(32))
    threshold: Mapped[float] = mapped_column(Float)
    window_min: Mapped[int] = mapped_column(Integer)
    min_responses: Mapped[int] = mapped_column(Integer, default=0)
    button: Mapped[str | None] = mapped_column(String(16), doc="the answer counted, if any")
    quiet_from: Mapped[str | None] = mapped_column(String(5), doc="HH:MM, the location's time")
    quiet_until: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class Alert(Base):
    """A rule that fired for one subject (a location, or a device for health rules)."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_rule_subject", "rule_id", "subject"),
        Index("ix_alerts_location_opened", "location_id", "opened_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="SET NULL"), doc="None once the rule is removed"
    )
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"))
    subject: Mapped[str] = mapped_column(String(64), doc="the location or device it is about")
    kind: Mapped[str] = mapped_column(String(32))
    rule_text: Mapped[str] = mapped_column(String(300), doc="the rule as it read when it fired")
    message: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, doc="when the condition was seen to be over; none fires again till then"
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))


class AlertComment(Base):
    __tablename__ = "alert_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    text: Mapped[str] = mapped_column(Text)


class AlertDelivery(Base):
    """The delivery queue: one row per alert and channel, written with the alert, done once sent."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (Index("ix_alert_deliveries_due", "state", "next_attempt_at"),)

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), doc="pending, delivered or failed")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))


class CusumState(Base):
    """Where each CUSUM stands, so a restarted hub goes on from there."""

    __tablename__ = "alert_cusum_state"

    rule_id: Mapped[int] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="CASCADE"), primary_key=True
    )
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"), primary_key=True)
    statistic: Mapped[float] = mapped_column(Float)
    through: Mapped[datetime] = mapped_column(UtcDateTime, doc="events up to here are counted")


class Survey(Base):
    """What touchpoints ask (hub/surveys/): its versions hold the wording and options."""

    __tablename__ = "surveys"

    survey_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, doc="no longer pushed; kiosks keep it until another is assigned"
    )


class SurveyVersion(Base):
    """One wording of a survey: a change of any text or option makes the next version."""

    __tablename__ = "survey_versions"

    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.survey_id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition: Mapped[str] = mapped_column(Text, doc="the protocol.surveys.Survey, as JSON")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class SurveyAssignment(Base):
    """The survey a location and everything beneath it asks; the nearest one up wins."""

    __tablename__ = "survey_assignments"

    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"), primary_key=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.survey_id"))
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    assigned_by: Mapped[str] = mapped_column(String(64))


class FollowUpAnswer(Base):
    """The answer to a follow-up question (an option, or none), stored once by its own id.

    No foreign key to its press: the press may arrive later, or never (refused)."""

    __tablename__ = "followups"
    __table_args__ = (Index("ix_followups_location_answered", "location_id", "answered_at"),)

    followup_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), index=True, doc="the press it follows")
    device_id: Mapped[str] = mapped_column(String(64))
    location_id: Mapped[str] = mapped_column(String(64))
    survey_id: Mapped[str] = mapped_column(String(64))
    survey_version: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(String(16), doc="negative or positive")
    option: Mapped[str | None] = mapped_column(String(32), doc="None: shown, not answered")
    language: Mapped[str | None] = mapped_column(String(35))
    answered_at: Mapped[datetime] = mapped_column(
        UtcDateTime, doc="corrected for a skewed kiosk clock, as a press's time is"
    )
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


REASON_KEY = ("question", "survey_id", "survey_version", "option")
"""What a reasons rollup counts apart, after its place and bucket."""
NO_OPTION = ""
"""The `option` of a follow-up shown and left unanswered (no option key is empty)."""


class _ReasonCounts:
    """Answered presses (each counted once, with its latest follow-up of its own question)
    per question, survey version and option."""

    question: Mapped[str] = mapped_column(String(16), primary_key=True)
    survey_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    survey_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    option: Mapped[str] = mapped_column(String(32), primary_key=True, doc="'': not answered")
    count: Mapped[int] = mapped_column(Integer, default=0)


class ReasonHourlyRollup(_ReasonCounts, Base):
    """The reasons of one location's own presses per UTC hour of the press (not of the
    answer): where a period's ends cut days, and for short windows."""

    __tablename__ = "reason_hourly_rollups"
    __table_args__ = (
        Index(
            "ix_reason_hourly_rollups_bucket", "bucket_start", "location_id", *REASON_KEY, "count"
        ),
    )

    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)


class ReasonDailyRollup(_ReasonCounts, Base):
    """The hourly reasons summed per UTC day."""

    __tablename__ = "reason_daily_rollups"
    __table_args__ = (
        Index(
            "ix_reason_daily_rollups_bucket", "bucket_start", "location_id", *REASON_KEY, "count"
        ),
    )

    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True, doc="00:00 UTC")


class ReasonMonthlyRollup(_ReasonCounts, Base):
    """The hourly reasons summed per UTC month: the overview's year reads twelve rows a
    location and option."""

    __tablename__ = "reason_monthly_rollups"
    __table_args__ = (
        Index(
            "ix_reason_monthly_rollups_bucket", "bucket_start", "location_id", *REASON_KEY, "count"
        ),
    )

    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(
        UtcDateTime, primary_key=True, doc="the 1st, 00:00 UTC"
    )


class SubtreeReasonDay(_ReasonCounts, Base):
    """The reasons of a place and everything beneath it per day of the place's own calendar
    (its time zone's, as it stands): a site's year of reasons and their trend reads its own
    365 days, however many touchpoints it has. Counted again when the place's time zone
    changes or a place is put beneath it."""

    __tablename__ = "subtree_reason_days"

    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, doc="a local day")


class PhoneLink(Base):
    """A link to the survey on a traveller's phone (`/t/<token>`), printed on a poster at a
    touchpoint, or at one kiosk. Revoked, it shows a friendly page; a reprint gets a new one."""

    __tablename__ = "phone_links"
    __table_args__ = (Index("ix_phone_links_location", "location_id"),)

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"))
    device_id: Mapped[str | None] = mapped_column(
        String(64), doc="the kiosk it is printed beside, if one"
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(64))


class Comment(Base):
    """A traveller's open comment on a phone response, personal data masked before it was
    stored. Past the retention its text is erased and the row kept, so counts stay."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_location_created", "location_id", "created_at"),)

    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.event_id"), primary_key=True, doc="one comment per response"
    )
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    language: Mapped[str] = mapped_column(String(35))
    text: Mapped[str | None] = mapped_column(Text, doc="masked; None once erased")
    masked: Mapped[str] = mapped_column(
        String(64), default="", doc="the kinds of personal data masked in it, comma-separated"
    )
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    hidden_by: Mapped[str | None] = mapped_column(String(64))


class Team(Base):
    """Staff who can fix a place: responsible for a location and everything beneath it, and
    for the alert rules listed in `team_rules` (every rule there, when none is listed)."""

    __tablename__ = "teams"

    team_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"), index=True)
    working_hours: Mapped[str | None] = mapped_column(
        String(11), doc="HH:MM-HH:MM in the location's time; None: around the clock"
    )
    ack_minutes: Mapped[int] = mapped_column(Integer, doc="acknowledge within this, or escalate")
    resolve_minutes: Mapped[int] = mapped_column(Integer, doc="resolve within this, or escalate")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TeamMember(Base):
    """Someone a team's tasks reach, by one route; an `escalation` contact hears of tasks the
    team missed, and of those opened outside its working hours."""

    __tablename__ = "team_members"
    __table_args__ = (Index("ix_team_members_team", "team_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.team_id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), doc="member or escalation")
    route: Mapped[str] = mapped_column(String(16), doc="email, slack, teams, ntfy, webhook, mqtt")
    target: Mapped[str] = mapped_column(String(2000), doc="an address, a URL or a topic")
    removed_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, doc="kept, so a task's history still names who acted"
    )


class TeamRule(Base):
    __tablename__ = "team_rules"

    team_id: Mapped[str] = mapped_column(
        ForeignKey("teams.team_id", ondelete="CASCADE"), primary_key=True
    )
    rule_id: Mapped[int] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="CASCADE"), primary_key=True
    )


class Task(Base):
    """Work for a team at a place: opened by an alert (later alerts there join it) or by hand;
    open -> acknowledged -> resolved, escalated when a target time is missed. Once resolved,
    the place's unhappy share after it is set against the share before the alert."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_team_location_state", "team_id", "location_id", "state"),
        Index("ix_tasks_location_opened", "location_id", "opened_at"),
        Index("ix_tasks_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.team_id"))
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"))
    device_id: Mapped[str | None] = mapped_column(String(64), doc="the kiosk it is about, if one")
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id"), doc="the alert that opened it; None when opened by hand"
    )
    title: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(Text, default="", doc="what travellers said")
    negative_share: Mapped[float | None] = mapped_column(Float)
    responses: Mapped[int | None] = mapped_column(Integer)
    window_min: Mapped[int] = mapped_column(Integer, doc="the span compared before and after")
    state: Mapped[str] = mapped_column(String(16), doc="open, acknowledged or resolved")
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    opened_by: Mapped[str] = mapped_column(String(200))
    ack_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolve_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    before_unhappy: Mapped[int | None] = mapped_column(Integer)
    before_total: Mapped[int | None] = mapped_column(Integer)
    after_unhappy: Mapped[int | None] = mapped_column(Integer)
    after_total: Mapped[int | None] = mapped_column(Integer)
    recovery: Mapped[str | None] = mapped_column(
        String(16), doc="recovered, not_recovered or too_few; None until measured"
    )


class TaskEvent(Base):
    """A task's history, appended to and never changed: who did what, when."""

    __tablename__ = "task_events"
    __table_args__ = (Index("ix_task_events_task", "task_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(
        String(16), doc="opened, joined, acknowledged, resolved, note, escalated"
    )
    note: Mapped[str] = mapped_column(Text, default="")
    alert_id: Mapped[int | None] = mapped_column(Integer, doc="the alert that joined, if one")


class TaskNotification(Base):
    """The notification queue: one row per task, member and reason, written with the change
    that calls for it, marked once the route took it (as alert deliveries are)."""

    __tablename__ = "task_notifications"
    __table_args__ = (Index("ix_task_notifications_due", "state", "next_attempt_at"),)

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("team_members.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(16), primary_key=True, doc="opened or escalated")
    state: Mapped[str] = mapped_column(String(16), doc="pending, delivered or failed")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))


class CameraApproval(Base):
    """The deployer's go-ahead for cameras at a place and beneath it, recorded before the first
    frame: who approved, on what impact assessment, and who runs the cameras."""

    __tablename__ = "camera_approvals"

    approval_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"), index=True)
    approved_by: Mapped[str] = mapped_column(String(200), doc="the person who approved")
    impact_assessment: Mapped[str] = mapped_column(
        String(200), doc="the data-protection impact assessment's reference"
    )
    approved_on: Mapped[date] = mapped_column(Date)
    deployer_name: Mapped[str] = mapped_column(String(200), doc="who runs the cameras")
    deployer_contact: Mapped[str] = mapped_column(
        String(300), doc="where people ask or object: an address, e-mail or phone"
    )
    legal_basis: Mapped[str] = mapped_column(String(300))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))


class CameraAuditEntry(Base):
    """One camera switched on or off, or a governance change (an approval, a withdrawal, an
    audience). Append-only: the database refuses UPDATE and DELETE (triggers, migration
    0016); the product only ever inserts, each entry chained to the one before by sha256."""

    __tablename__ = "camera_audit_log"

    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(
        String(200), doc="a user, `cli:<login>`, `hub` or `kiosk:<device id>`"
    )
    action: Mapped[str] = mapped_column(
        String(8), doc="on, off, default (as the kiosk's file says), approve, withdraw, audience"
    )
    reason: Mapped[str] = mapped_column(String(500))
    device_id: Mapped[str] = mapped_column(String(64), index=True, doc="`-` for governance")
    location_id: Mapped[str | None] = mapped_column(String(64))
    model_sha256: Mapped[str | None] = mapped_column(String(64))
    approval_id: Mapped[int | None] = mapped_column(Integer)
    prev_sha256: Mapped[str | None] = mapped_column(
        String(64), doc="the entry before's entry_sha256 (64 zeros for the first)"
    )
    entry_sha256: Mapped[str | None] = mapped_column(
        String(64), doc="sha256 of this entry's fields and prev_sha256 (None before 0017)"
    )
