"""The figures Home Assistant is shown, read from the store: each location's today and last
hour, its subtree's presses counted as the dashboard rolls them up; each kiosk's health."""

from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.config import CameraSettings
from hub.hierarchy import LocationTree
from hub.homeassistant.discovery import KioskFigures, PlaceFigures
from hub.models import Device
from hub.reporting.analytics import is_online, rolled_up
from hub.reporting.reports import location_scores
from hub.reporting.scores import ButtonCounts, happy_index, positive_share

HOUR = timedelta(hours=1)


def local_midnight(now: datetime, time_zone: str) -> datetime:
    """The start of `now`'s day in the time zone, as a UTC instant."""
    zone = ZoneInfo(time_zone)
    return datetime.combine(now.astimezone(zone).date(), time(), tzinfo=zone).astimezone(UTC)


def _scored(
    session: Session, tree: LocationTree, since: datetime, until: datetime, camera: CameraSettings
) -> dict[str, ButtonCounts]:
    """Each location's scored counts over [since, until), its subtree's included."""
    scores = location_scores(session, since=since, until=until, buttons_only=True, camera=camera)
    return {place: score.scored for place, score in rolled_up(tree, scores).items()}


def place_figures(session: Session, *, now: datetime, camera: CameraSettings) -> list[PlaceFigures]:
    """Every location's figures: today in its own time zone, and the hour up to `now`."""
    tree = LocationTree.load(session)
    last_hour = _scored(session, tree, now - HOUR, now, camera)
    zones: dict[str, list[str]] = defaultdict(list)
    for place in tree.places.values():
        zones[place.time_zone].append(place.location_id)
    today: dict[str, ButtonCounts] = {}
    for zone, members in zones.items():
        counts = _scored(session, tree, local_midnight(now, zone), now, camera)
        today.update((member, counts.get(member, ButtonCounts())) for member in members)
    return [
        _figures(tree, location_id, today[location_id], last_hour.get(location_id))
        for location_id in tree.depth_first()
    ]


def _figures(
    tree: LocationTree, location_id: str, today: ButtonCounts, last_hour: ButtonCounts | None
) -> PlaceFigures:
    place = tree.places[location_id]
    index = happy_index(today)
    share = positive_share(today)
    return PlaceFigures(
        location_id=location_id,
        name=place.name,
        kind=place.kind,
        happy_index=None if index is None else round(index, 1),
        positive_percent=None if share is None else round(100 * share, 1),
        responses_last_hour=last_hour.total if last_hour else 0,
    )


def kiosk_figures(
    session: Session, *, now: datetime, locations: Collection[str]
) -> list[KioskFigures]:
    """Every kiosk not revoked: online as the dashboard tells it, its outbox's depth, and
    where it stands if that is one of `locations`."""
    devices = session.scalars(
        select(Device).where(Device.revoked_at.is_(None)).order_by(Device.device_id)
    )
    return [
        KioskFigures(
            device_id=device.device_id,
            location_id=device.location_id if device.location_id in locations else None,
            version=device.version,
            online=is_online(device, now),
            outbox_depth=device.outbox_depth,
        )
        for device in devices
    ]
