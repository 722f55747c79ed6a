"""A week as a director's report sees it: three airports (Helsinki, Tehran, Shanghai, their
places named in their own scripts), touchpoints of different moods, a bad Wednesday at a
washroom, reasons given, phone answers, and tasks resolved, escalated and measured.

Deterministic (a seeded random source); `every_min` thins the presses for fast tests.
"""

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from hub.ingest import store
from hub.models import WEB_DEVICE_ID, Channel
from hub.rollups.buckets import Period
from hub.surveys.store import create_survey
from hub.tasks.records import acknowledge, escalate_overdue, open_by_hand, resolve
from hub.tasks.recovery import measure_due
from hub.tasks.teams import add_team
from protocol.ids import uuid7
from protocol.messages import BUTTONS, Button, FollowUp, PressEvent
from tests.hub.reporting.report_data import WEEK
from tests.hub.surveys.survey_files import security

Mood = tuple[float, float, float, float]
"""Chances of very happy, happy, unhappy, very unhappy."""

CONTENT: Mood = (0.55, 0.3, 0.1, 0.05)
MIXED: Mood = (0.3, 0.3, 0.25, 0.15)
SOUR: Mood = (0.05, 0.1, 0.3, 0.55)
SECURITY_REASONS = ("queue", "queue", "staff", "cleanliness")
WASHROOM_REASONS = ("cleanliness", "cleanliness", "cleanliness", "staff")


@dataclass(frozen=True)
class Touchpoint:
    location_id: str
    name: str
    mood: Mood
    reasons: tuple[str, ...] = SECURITY_REASONS
    phone_share: float = 0.0


@dataclass(frozen=True)
class Site:
    location_id: str
    name: str
    time_zone: str
    languages: str
    area: tuple[str, str]
    touchpoints: tuple[Touchpoint, ...]


SITES = (
    Site(
        "hel",
        "Helsinki Airport",
        "Europe/Helsinki",
        "fi,sv,en",
        ("hel-t2", "Terminal 2"),
        (
            Touchpoint("hel-security", "Security lanes", MIXED, phone_share=0.1),
            Touchpoint("hel-wc-b", "Washroom B", CONTENT, WASHROOM_REASONS),
            Touchpoint("hel-gate-22", "Gate 22", CONTENT, phone_share=0.3),
            Touchpoint("hel-cafe", "Café Aalto", (0.45, 0.35, 0.15, 0.05)),
        ),
    ),
    Site(
        "ika",
        "فرودگاه امام خمینی",
        "Asia/Tehran",
        "fa,en",
        ("ika-t1", "ترمینال ۱"),  # noqa: RUF001 (a Persian digit)
        (
            Touchpoint("ika-security", "بازرسی امنیتی", MIXED),
            Touchpoint("ika-wc", "سرویس بهداشتی ۲", CONTENT, WASHROOM_REASONS),
        ),
    ),
    Site(
        "pvg",
        "上海浦东国际机场",
        "Asia/Shanghai",
        "zh,en",
        ("pvg-t2", "T2 航站楼"),
        (
            Touchpoint("pvg-security", "安检 T2", CONTENT),
            Touchpoint("pvg-gate", "登机口 D", MIXED),
        ),
    ),
)
WASHROOM = "hel-wc-b"
BAD_SPELLS = ((time(8, 50), time(10, 25)), (time(14, 30), time(17, 30)))
"""Local times of the bad Wednesday at Washroom B: the first fixed, the second not."""


def add_sites(session: Session) -> None:
    for site in SITES:
        chain: list[tuple[str, str, str, str | None]] = [
            (site.location_id, site.name, "site", None)
        ]
        chain.append((*site.area, "area", site.location_id))
        chain += [(t.location_id, t.name, "touchpoint", site.area[0]) for t in site.touchpoints]
        for location_id, name, kind, parent in chain:
            location = store.add_location(
                session, location_id=location_id, name=name, time_zone=site.time_zone
            )
            location.kind, location.parent_id, location.languages = kind, parent, site.languages
            session.flush()
    create_survey(session, parsed=security(), by="ana", now=WEEK.since - timedelta(days=30))


def _bad(site: Site, touchpoint: Touchpoint, at: datetime) -> bool:
    local = at.astimezone(ZoneInfo(site.time_zone))
    if touchpoint.location_id != WASHROOM or not WEEK.since <= at < WEEK.until:
        return False
    if local.weekday() != 2:
        return False
    return any(start <= local.time() < end for start, end in BAD_SPELLS)


def add_week(
    session: Session, *, period: Period = WEEK, every_min: float = 6, seed: int = 17
) -> int:
    """Presses from 06:00 to 22:00 local at every touchpoint, and their follow-ups; returns
    how many presses were stored."""
    chance = random.Random(seed)
    kiosk: list[PressEvent] = []
    phone: list[PressEvent] = []
    followups: list[FollowUp] = []
    for site in SITES:
        zone = ZoneInfo(site.time_zone)
        for touchpoint in site.touchpoints:
            at = period.since
            while at < period.until:
                at += timedelta(minutes=chance.expovariate(1 / every_min))
                if not 6 <= at.astimezone(zone).hour < 22 or at >= period.until:
                    continue
                mood = SOUR if _bad(site, touchpoint, at) else touchpoint.mood
                button = chance.choices(BUTTONS, weights=mood)[0]
                by_phone = chance.random() < touchpoint.phone_share
                pressed = _press(touchpoint, button, at, by_phone, len(kiosk) + len(phone))
                (phone if by_phone else kiosk).append(pressed)
                negative = button in (Button.UNHAPPY, Button.VERY_UNHAPPY)
                if negative and chance.random() < 0.7:
                    followups.append(_followup(pressed, chance.choice(touchpoint.reasons)))
    received = period.until + timedelta(hours=1)
    store.store_events(session, events=kiosk, received_at=received)
    store.store_events(session, events=phone, received_at=received, channel=Channel.WEB)
    store.store_followups(session, followups=followups, received_at=received)
    return len(kiosk) + len(phone)


def _press(
    touchpoint: Touchpoint, button: Button, at: datetime, by_phone: bool, seq: int
) -> PressEvent:
    return PressEvent(
        event_id=str(uuid7()),
        device_id=WEB_DEVICE_ID if by_phone else f"{touchpoint.location_id}-k1",
        location_id=touchpoint.location_id,
        seq=seq + 1,
        occurred_at=at,
        button=button,
        survey_id="security",
        survey_version=1,
    )


def _followup(pressed: PressEvent, option: str) -> FollowUp:
    return FollowUp(
        followup_id=str(uuid7()),
        event_id=pressed.event_id,
        device_id=pressed.device_id,
        location_id=pressed.location_id,
        survey_id="security",
        survey_version=1,
        question="negative",
        option=option,
        language="en",
        answered_at=pressed.occurred_at + timedelta(seconds=5),
    )


def _wednesday(clock: time) -> datetime:
    zone = ZoneInfo("Europe/Helsinki")
    monday = WEEK.since.astimezone(zone).date()
    return datetime.combine(monday + timedelta(days=2), clock, tzinfo=zone)


def add_tasks(session: Session) -> list[int]:
    """Cleaning T2 fixes Washroom B's first bad spell (recovered), not its second; the
    security team misses its time to acknowledge on Friday (escalated). Returns the task ids."""
    add_team(
        session,
        team_id="cleaning-t2",
        name="Cleaning T2",
        location_id="hel-t2",
        now=WEEK.since,
        ack_minutes=10,
        resolve_minutes=45,
    )
    add_team(
        session,
        team_id="security-hel",
        name="Security team",
        location_id="hel-security",
        now=WEEK.since,
        ack_minutes=5,
        resolve_minutes=30,
    )
    steps = [
        ("cleaning-t2", WASHROOM, _wednesday(time(10, 0)), (6, 25)),
        ("cleaning-t2", WASHROOM, _wednesday(time(15, 20)), (8, 30)),
        ("security-hel", "hel-security", _wednesday(time(7, 10)) + timedelta(days=2), (24, 70)),
    ]
    ids = []
    for team_id, location_id, opened, (ack_min, resolve_min) in steps:
        task_id = open_by_hand(
            session,
            team_id=team_id,
            location_id=location_id,
            title=f"{location_id}: many unhappy answers",
            by="hub",
            now=opened,
            window_min=60,
        )
        escalate_overdue(session, now=opened + timedelta(minutes=ack_min - 1))
        acknowledge(session, task_id=task_id, actor="Mia", now=opened + timedelta(minutes=ack_min))
        resolve(session, task_id=task_id, actor="Mia", now=opened + timedelta(minutes=resolve_min))
        ids.append(task_id)
    measure_due(session, now=WEEK.until)
    return ids


def add_all(session: Session, *, every_min: float = 6) -> int:
    """The sites, the week before (fewer answers, no bad day), the week and its tasks."""
    add_sites(session)
    add_week(session, period=WEEK.previous(), every_min=every_min * 1.2, seed=16)
    presses = add_week(session, every_min=every_min)
    add_tasks(session)
    return presses
