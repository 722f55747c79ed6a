"""The location tree, site (an airport) -> area (a terminal) -> touchpoint, read once per view;
and the checks every location's id and name pass on their way in."""

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Location
from protocol.errors import ConfigError
from protocol.messages import LOCATION_ID_PATTERN
from protocol.text import printable

KINDS = ("site", "area", "touchpoint")
NAME_MAX_CHARS = 200
"""The locations.name column's size."""


def checked_location_id(location_id: str) -> str:
    """The id as kiosks and topics carry it, or a ConfigError saying what to use."""
    if not re.fullmatch(LOCATION_ID_PATTERN, location_id):
        raise ConfigError(
            f"location id {location_id!r}: use lowercase letters, digits, '.', '_' "
            "and '-' (at most 64, starting with a letter or digit; give a display name with --name)"
        )
    return location_id


def checked_name(name: str) -> str:
    """A display name fit for an e-mail subject, a CSV cell and a log line, or a ConfigError."""
    printable(name, what="location name")
    if not name.strip() or len(name) > NAME_MAX_CHARS:
        raise ConfigError(f"a location name has 1 to {NAME_MAX_CHARS} characters, not only spaces")
    return name


@dataclass(frozen=True)
class Place:
    location_id: str
    name: str
    kind: str
    time_zone: str
    parent_id: str | None


class LocationTree:
    def __init__(self, places: Iterable[Place]) -> None:
        self.places = {place.location_id: place for place in places}
        self._children: dict[str | None, list[str]] = defaultdict(list)
        for place in sorted(self.places.values(), key=lambda p: p.location_id):
            parent = place.parent_id if place.parent_id in self.places else None
            self._children[parent].append(place.location_id)

    @classmethod
    def load(cls, session: Session) -> "LocationTree":
        columns = (Location.location_id, Location.name, Location.kind, Location.time_zone)
        return cls(Place(*row) for row in session.execute(select(*columns, Location.parent_id)))

    def __contains__(self, location_id: object) -> bool:
        return location_id in self.places

    def roots(self) -> list[str]:
        return list(self._children[None])

    def children(self, location_id: str) -> list[str]:
        return list(self._children[location_id])

    def subtree(self, location_id: str) -> set[str]:
        """The location and every location beneath it."""
        return set(self._walk(location_id))

    def _walk(self, location_id: str) -> Iterator[str]:
        yield location_id
        for child in self._children[location_id]:
            yield from self._walk(child)

    def ancestors(self, location_id: str) -> list[str]:
        """From the location's parent up to its site."""
        chain: list[str] = []
        parent = self.places[location_id].parent_id
        while parent in self.places and parent not in chain:
            chain.append(parent)
            parent = self.places[parent].parent_id
        return chain

    def depth_first(self, within: set[str] | None = None) -> list[str]:
        """Every location, parents before their children, as a report lists them."""
        return [
            location_id
            for root in self.roots()
            for location_id in self._walk(root)
            if within is None or location_id in within
        ]
