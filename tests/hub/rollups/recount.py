"""Presses spread at random, and the totals a report should find among them."""

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from hub.reporting.reports import LocationScore
from protocol.messages import BUTTONS, PressEvent
from tests.hub.factories import NOON, press


def random_presses(
    count: int, *, seed: int, places: Sequence[str], days: float, end: datetime = NOON
) -> list[PressEvent]:
    """`count` presses over the `days` before `end`, at random places, one in ten misuse."""
    rng = random.Random(seed)
    start = end - timedelta(days=days)
    return [
        press(
            rng.choice(BUTTONS),
            location_id=rng.choice(sorted(places)),
            seq=seq,
            at=start + timedelta(seconds=rng.randrange(int(days * 86_400))),
            misuse=rng.random() < 0.1,
        )
        for seq in range(1, count + 1)
    ]


def expected_totals(
    events: Iterable[PressEvent], since: datetime | None, until: datetime | None
) -> Counter[tuple[str, bool]]:
    """Presses per (location, misuse) in [since, until); None leaves that end open."""
    return Counter(
        (e.location_id, e.misuse)
        for e in events
        if (since is None or since <= e.occurred_at) and (until is None or e.occurred_at < until)
    )


def reported_totals(scores: Iterable[LocationScore]) -> Counter[tuple[str, bool]]:
    """What the scores say per (location, misuse)."""
    return Counter(
        {
            (s.location, misuse): c.total
            for s in scores
            for misuse, c in ((False, s.counts), (True, s.misuse_counts))
            if c.total
        }
    )
