"""Alert rules as HappyOrNot's (share negative, Happy Index, count of one answer over a
window), the CUSUM, and device health; their checks and their pure verdicts."""

import re
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.models import AlertRule
from hub.reporting.scores import ButtonCounts, happy_index
from protocol.errors import ConfigError
from protocol.messages import Button


class RuleKind(StrEnum):
    NEGATIVE_SHARE = "negative_share"  # % unhappy + very unhappy >= threshold, n >= min
    HAPPY_INDEX = "happy_index"  # Happy Index < threshold, n >= min
    ANSWER_COUNT = "answer_count"  # presses of `button` >= threshold
    CUSUM = "cusum"  # the Bernoulli CUSUM reaches threshold h (hub/alerts/cusum.py)
    DEVICE_OFFLINE = "device_offline"  # not seen for threshold minutes
    OUTBOX = "outbox"  # outbox depth >= threshold events
    CLOCK_SKEW = "clock_skew"  # |clock offset| > threshold seconds


WINDOW_KINDS = frozenset({RuleKind.NEGATIVE_SHARE, RuleKind.HAPPY_INDEX, RuleKind.ANSWER_COUNT})
HEALTH_KINDS = frozenset({RuleKind.DEVICE_OFFLINE, RuleKind.OUTBOX, RuleKind.CLOCK_SKEW})
THRESHOLD_RANGE: dict[RuleKind, tuple[float, float]] = {
    RuleKind.NEGATIVE_SHARE: (0, 100),
    RuleKind.HAPPY_INDEX: (0, 100),
    RuleKind.ANSWER_COUNT: (1, 1_000_000),
    RuleKind.CUSUM: (0.5, 100),
    RuleKind.DEVICE_OFFLINE: (1, 100_000),
    RuleKind.OUTBOX: (1, 10_000_000),
    RuleKind.CLOCK_SKEW: (0.1, 1_000_000),
}
MAX_WINDOW_MIN = 7 * 24 * 60
QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class QuietHours:
    """No alert opens from `start` to `end` in the location's own time (may span midnight)."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> "QuietHours":
        match = QUIET.match(text)
        if not match:
            raise ConfigError(f"quiet hours {text!r}: write HH:MM-HH:MM, e.g. 22:00-06:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        return cls(time(h1, m1), time(h2, m2))

    def covers(self, moment: datetime, time_zone: str) -> bool:
        local = moment.astimezone(zone(time_zone)).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def zone(name: str) -> ZoneInfo:
    """The location's zone; UTC for a name this system does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class Rule:
    id: int
    location_id: str
    kind: RuleKind
    threshold: float
    window_min: int
    min_responses: int = 0
    button: Button | None = None
    quiet: QuietHours | None = None

    @classmethod
    def from_row(cls, row: AlertRule) -> "Rule":
        quiet = f"{row.quiet_from}-{row.quiet_until}" if row.quiet_from and row.quiet_until else ""
        return cls(
            id=row.id,
            location_id=row.location_id,
            kind=RuleKind(row.kind),
            threshold=row.threshold,
            window_min=row.window_min,
            min_responses=row.min_responses,
            button=Button(row.button) if row.button else None,
            quiet=QuietHours.parse(quiet) if quiet else None,
        )

    def describe(self) -> str:
        text = {
            RuleKind.NEGATIVE_SHARE: f"negative >= {self.threshold:g} % in {self.window_min} min"
            f" (at least {self.min_responses} responses)",
            RuleKind.HAPPY_INDEX: f"Happy Index < {self.threshold:g} over {self.window_min} min"
            f" (at least {self.min_responses} responses)",
            RuleKind.ANSWER_COUNT: f">= {self.threshold:g} {self.button} in {self.window_min} min",
            RuleKind.CUSUM: f"CUSUM of the unhappy share reaches h = {self.threshold:g}",
            RuleKind.DEVICE_OFFLINE: f"a kiosk unseen for {self.threshold:g} min",
            RuleKind.OUTBOX: f"a kiosk's outbox holds >= {self.threshold:g} events",
            RuleKind.CLOCK_SKEW: f"a kiosk's clock off by more than {self.threshold:g} s",
        }[self.kind]
        return f"{text}, quiet {self.quiet}" if self.quiet else text


def check_rule(rule: Rule) -> None:
    """Refuse a rule that could never make sense, saying which value to change."""
    low, high = THRESHOLD_RANGE[rule.kind]
    if not low <= rule.threshold <= high:
        raise ConfigError(f"a {rule.kind} threshold must lie in {low:g}..{high:g}")
    if rule.kind in WINDOW_KINDS and not 1 <= rule.window_min <= MAX_WINDOW_MIN:
        raise ConfigError(f"the window must be 1..{MAX_WINDOW_MIN} minutes")
    if not 0 <= rule.min_responses <= 1_000_000:
        raise ConfigError("min responses must be 0..1000000")
    if (rule.kind is RuleKind.ANSWER_COUNT) != (rule.button is not None):
        raise ConfigError("a button is given with answer_count rules, and only with them")


def window_verdict(rule: Rule, counts: ButtonCounts) -> str | None:
    """What is wrong in this window's counts (misuse left out), or None when all is well."""
    if rule.kind is RuleKind.ANSWER_COUNT:
        assert rule.button is not None
        count = counts.as_dict()[rule.button.value]
        hit = count >= rule.threshold
        return f"{count} {rule.button} presses in the last {rule.window_min} min" if hit else None
    if counts.total == 0 or counts.total < rule.min_responses:
        return None
    of = f"of {counts.total} in the last {rule.window_min} min"
    if rule.kind is RuleKind.NEGATIVE_SHARE:
        share = 100 * (counts.unhappy + counts.very_unhappy) / counts.total
        return f"{share:.0f} % negative {of}" if share >= rule.threshold else None
    index = happy_index(counts)
    hit = index is not None and index < rule.threshold
    return f"Happy Index {index:.0f} {of}" if hit else None
