"""Perception scores as the market leader defines them, so numbers compare. Pure functions."""

import math
from dataclasses import dataclass

from protocol.messages import Button

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class ButtonCounts:
    very_happy: int = 0
    happy: int = 0
    unhappy: int = 0
    very_unhappy: int = 0

    @property
    def total(self) -> int:
        return self.very_happy + self.happy + self.unhappy + self.very_unhappy

    @property
    def positive(self) -> int:
        return self.very_happy + self.happy

    def __add__(self, other: "ButtonCounts") -> "ButtonCounts":
        return ButtonCounts(
            self.very_happy + other.very_happy,
            self.happy + other.happy,
            self.unhappy + other.unhappy,
            self.very_unhappy + other.very_unhappy,
        )

    def add(self, button: Button, n: int = 1) -> "ButtonCounts":
        return self + ButtonCounts(**{button.value: n})

    def as_dict(self) -> dict[str, int]:
        return {b.value: getattr(self, b.value) for b in Button}


def happy_index(counts: ButtonCounts) -> float | None:
    """HappyOrNot's Happy Index, 0-100: 100 * (3*VH + 2*H + 1*U + 0*VU) / (3*N)."""
    if counts.total == 0:
        return None
    weighted = 3 * counts.very_happy + 2 * counts.happy + counts.unhappy
    return 100 * weighted / (3 * counts.total)


def positive_share(counts: ButtonCounts) -> float | None:
    """Top-2 box: (VH + H) / N."""
    if counts.total == 0:
        return None
    return counts.positive / counts.total


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson score interval for a binomial proportion; sound for small n and p near 0 or 1."""
    if n == 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes={successes} outside 0..n={n}")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)
