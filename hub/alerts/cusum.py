"""A Bernoulli CUSUM on the unhappy share, against each location's own hour-of-week baseline.

Each scored press (misuse left out) is a Bernoulli trial x = 1 when it is unhappy or very
unhappy, else 0. Under control the unhappy probability is p0, the baseline of the location
for the local hour of the week the press falls in; the drop to detect is the shift to p1 with
odds ratio `odds_ratio` (default 2):

    p1 = R p0 / (1 - p0 + R p0)

Each press adds its log-likelihood ratio of p1 against p0:

    w(x) = x ln(p1 / p0) + (1 - x) ln((1 - p1) / (1 - p0))

and the statistic S = max(0, S + w) climbs while unhappy presses come oftener than p0 says and
sinks back to 0 otherwise. The alert fires when S >= h (the decision threshold, default 4) and
S is reset to 0, so a lasting drop fires again only after as much evidence once more.

p0 for an hour of the week comes from the location's hourly rollups over the previous
`baseline_weeks` weeks, shrunk towards a prior (the location's share over all those weeks, or
`FALLBACK_P0` for a new location) with the weight of `prior_strength` responses:

    p0 = (unhappy_h + m * prior) / (n_h + m)

so an hour with few responses leans on the prior and a well-observed hour on its own history.
p0 is held within [P0_FLOOR, P0_CEILING] so that a spotless or a dreadful history cannot make
one press decisive. The measured detection delay and false alarm rate are in docs/alerts.md
(`seed-lab bench cusum`).
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

FALLBACK_P0 = 0.2
P0_FLOOR = 0.02
P0_CEILING = 0.8
HOURS_PER_WEEK = 7 * 24


@dataclass(frozen=True)
class CusumParams:
    odds_ratio: float = 2.0
    threshold: float = 4.0
    prior_strength: float = 20.0
    baseline_weeks: int = 8

    def shifted(self, p0: float) -> float:
        """p1: the unhappy share the odds ratio makes of p0."""
        r = self.odds_ratio
        return r * p0 / (1 - p0 + r * p0)

    def increment(self, unhappy: bool, p0: float) -> float:
        """The log-likelihood ratio of one press, p1 against p0."""
        p1 = self.shifted(p0)
        return math.log(p1 / p0) if unhappy else math.log((1 - p1) / (1 - p0))


@dataclass(frozen=True)
class HourCounts:
    unhappy: int = 0
    total: int = 0


@dataclass(frozen=True)
class Baseline:
    """p0 for each of the 168 local hours of the week (Monday 00:00 is hour 0)."""

    p0: tuple[float, ...]

    @classmethod
    def flat(cls, p0: float) -> "Baseline":
        return cls((p0,) * HOURS_PER_WEEK)

    @classmethod
    def from_history(
        cls, counts: Mapping[int, HourCounts], prior_strength: float = 20.0
    ) -> "Baseline":
        unhappy = sum(c.unhappy for c in counts.values())
        total = sum(c.total for c in counts.values())
        prior = (unhappy + prior_strength * FALLBACK_P0) / (total + prior_strength)
        return cls(
            tuple(
                _clamp(
                    (counts.get(h, HourCounts()).unhappy + prior_strength * prior)
                    / (counts.get(h, HourCounts()).total + prior_strength)
                )
                for h in range(HOURS_PER_WEEK)
            )
        )

    def at(self, hour_of_week: int) -> float:
        return self.p0[hour_of_week % HOURS_PER_WEEK]


def _clamp(p: float) -> float:
    return min(P0_CEILING, max(P0_FLOOR, p))


@dataclass
class Cusum:
    params: CusumParams = field(default_factory=CusumParams)
    statistic: float = 0.0

    def update(self, unhappy: bool, p0: float) -> bool:
        """Add one press; True when it makes the chart fire (the statistic is then reset)."""
        self.statistic = max(0.0, self.statistic + self.params.increment(unhappy, _clamp(p0)))
        if self.statistic >= self.params.threshold:
            self.statistic = 0.0
            return True
        return False

    def run(self, presses: Iterable[tuple[bool, float]]) -> list[int]:
        """The indices of the presses at which the chart fires."""
        return [i for i, (unhappy, p0) in enumerate(presses) if self.update(unhappy, p0)]
