"""`seed-lab bench cusum`: how soon the CUSUM catches a real drop, and how often it cries wolf.

Simulated locations get presses as a Poisson process; the unhappy share follows the
location's baseline (p0, known to the chart, as a well-observed history makes it) and, after
the drop, the shifted share of the odds ratio `drop_odds_ratio`. False alarms are counted
over in-control weeks; the detection delay is the time from the drop to the first firing.
Each seed gives a median and p90 delay and a false alarm rate; the report gives the median
and the range of these over the seeds.
"""

import random
import statistics
from dataclasses import asdict, dataclass
from typing import Any

from hub.alerts.cusum import Cusum, CusumParams

WEEK_MIN = 7 * 24 * 60
MAX_DELAY_MIN = 7 * 24 * 60


@dataclass(frozen=True)
class CusumBenchPlan:
    seeds: int = 10
    locations: int = 50
    presses_per_hour: float = 20
    p0: float = 0.2
    drop_odds_ratio: float = 2.0
    odds_ratio: float = 2.0
    threshold: float = 4.0


def _share(p0: float, odds_ratio: float) -> float:
    return CusumParams(odds_ratio=odds_ratio).shifted(p0)


def _press_times(rng: random.Random, rate_per_min: float, span_min: float) -> list[float]:
    times, t = [], rng.expovariate(rate_per_min)
    while t < span_min:
        times.append(t)
        t += rng.expovariate(rate_per_min)
    return times


def false_alarms(rng: random.Random, plan: CusumBenchPlan) -> int:
    """Firings in one in-control location-week."""
    chart = Cusum(CusumParams(plan.odds_ratio, plan.threshold))
    presses = _press_times(rng, plan.presses_per_hour / 60, WEEK_MIN)
    return sum(chart.update(rng.random() < plan.p0, plan.p0) for _ in presses)


def detection_delay(rng: random.Random, plan: CusumBenchPlan) -> float | None:
    """Minutes from the drop to the first firing after it (None: not within a week).

    The chart runs in control for a random 0-24 h first, so it meets the drop wherever
    ordinary noise has left its statistic."""
    chart = Cusum(CusumParams(plan.odds_ratio, plan.threshold))
    rate = plan.presses_per_hour / 60
    for _ in _press_times(rng, rate, rng.uniform(0, 24 * 60)):
        chart.update(rng.random() < plan.p0, plan.p0)
    bad = _share(plan.p0, plan.drop_odds_ratio)
    for t in _press_times(rng, rate, MAX_DELAY_MIN):
        if chart.update(rng.random() < bad, plan.p0):
            return t
    return None


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _one_seed(seed: int, plan: CusumBenchPlan) -> dict[str, float]:
    rng = random.Random(seed)
    alarms = [false_alarms(rng, plan) for _ in range(plan.locations)]
    delays = [detection_delay(rng, plan) for _ in range(plan.locations)]
    found = [d for d in delays if d is not None]
    return {
        "median_delay_min": statistics.median(found) if found else float("nan"),
        "p90_delay_min": _quantile(found, 0.9) if found else float("nan"),
        "missed_share": 1 - len(found) / len(delays),
        "false_alarms_per_location_week": sum(alarms) / len(alarms),
    }


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def run_cusum_bench(plan: CusumBenchPlan) -> dict[str, Any]:
    runs = [_one_seed(seed, plan) for seed in range(plan.seeds)]
    return {
        "plan": asdict(plan),
        "p1": round(_share(plan.p0, plan.odds_ratio), 4),
        **{key: _spread([run[key] for run in runs]) for key in runs[0]},
    }
