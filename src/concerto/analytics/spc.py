"""Statistical process control: XmR charts read with NHS England's "Making Data Count" rules.

The process limits are mean ± 2.66 × the mean moving range (2.66 = 3 / 1.128, so the limits are
three sigma). A point shows special cause variation when it is:

- beyond a process limit ("astronomical point");
- in a run of 7 or more consecutive points on one side of the mean ("shift"; a point on the mean
  breaks the run);
- in a run of 7 or more consecutive points each higher (or each lower) than the one before ("trend";
  an equal value breaks it);
- one of two out of three consecutive points beyond two sigma on the same side of the mean ("two of
  three near a limit").

The variation icon reads the latest point, the assurance icon where the target sits against the
limits. Both carry text so they never rely on colour alone.
"""

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

LIMIT_FACTOR = 2.66
RUN_LENGTH = 7
# Making Data Count advises at least 15 points before limits are relied on.
RELIABLE_POINTS = 15


class Variation(StrEnum):
    COMMON = "common_cause"
    IMPROVING_HIGH = "improving_high"
    IMPROVING_LOW = "improving_low"
    CONCERNING_HIGH = "concerning_high"
    CONCERNING_LOW = "concerning_low"
    NEITHER_HIGH = "neither_high"  # special cause where no direction is better
    NEITHER_LOW = "neither_low"

    @property
    def label(self) -> str:
        return {
            "common_cause": "Common cause variation",
            "improving_high": "Special cause: improving, high",
            "improving_low": "Special cause: improving, low",
            "concerning_high": "Special cause: concerning, high",
            "concerning_low": "Special cause: concerning, low",
            "neither_high": "Special cause: high",
            "neither_low": "Special cause: low",
        }[self.value]

    @property
    def kind(self) -> str:
        return self.value.split("_")[0]  # common, improving, concerning, neither


class Assurance(StrEnum):
    MET = "consistently_met"
    NOT_MET = "consistently_not_met"
    HIT_AND_MISS = "hit_and_miss"

    @property
    def label(self) -> str:
        return {
            "consistently_met": "Target consistently met",
            "consistently_not_met": "Target consistently not met",
            "hit_and_miss": "Hit and miss: the target is within the process limits",
        }[self.value]


@dataclass(frozen=True)
class Point:
    value: float
    moving_range: float | None
    rules: frozenset[str] = frozenset()  # "beyond_limits", "shift", "trend", "two_of_three"
    direction: str | None = None  # "high" or "low" when special cause

    @property
    def special(self) -> bool:
        return bool(self.rules)


@dataclass(frozen=True)
class XmR:
    points: list[Point]
    mean: float
    mean_moving_range: float
    upper_limit: float
    lower_limit: float
    upper_two_sigma: float
    lower_two_sigma: float
    variation: Variation
    assurance: Assurance | None
    notes: list[str] = field(default_factory=list)

    @property
    def reliable(self) -> bool:
        return len(self.points) >= RELIABLE_POINTS


def xmr(values: Sequence[float], *, higher_is_better: bool | None, target: float | None = None) -> XmR:
    """An XmR chart of `values` (oldest first), with special causes, variation and assurance."""
    if len(values) < 2:
        raise ValueError("an XmR chart needs at least two points")
    values = [float(v) for v in values]
    moving_ranges = [abs(b - a) for a, b in itertools.pairwise(values)]
    mean = statistics.fmean(values)
    mr_bar = statistics.fmean(moving_ranges)
    spread = LIMIT_FACTOR * mr_bar
    upper, lower = mean + spread, mean - spread
    upper_2s, lower_2s = mean + spread * 2 / 3, mean - spread * 2 / 3

    rules: list[set[str]] = [set() for _ in values]
    direction: list[str | None] = [None] * len(values)

    def flag(i: int, rule: str, side: str) -> None:
        rules[i].add(rule)
        direction[i] = direction[i] or side

    for i, v in enumerate(values):
        if v > upper:
            flag(i, "beyond_limits", "high")
        elif v < lower:
            flag(i, "beyond_limits", "low")
    sides = [1 if v > mean else -1 if v < mean else 0 for v in values]
    for start, end, side in _runs(sides):
        if side and end - start >= RUN_LENGTH:
            for i in range(start, end):
                flag(i, "shift", "high" if side > 0 else "low")
    steps = [0] + [1 if b > a else -1 if b < a else 0 for a, b in itertools.pairwise(values)]
    # A trend of n points is n - 1 steps the same way; the first point of it is the one before.
    for start, end, step in _runs(steps):
        if step and end - start + 1 >= RUN_LENGTH:
            for i in range(start - 1, end):
                flag(i, "trend", "high" if step > 0 else "low")
    for i in range(len(values) - 2):
        window = range(i, i + 3)
        for side, beyond in (("high", lambda v: v > upper_2s), ("low", lambda v: v < lower_2s)):
            near = [j for j in window if beyond(values[j])]
            if len(near) >= 2:
                for j in near:
                    flag(j, "two_of_three", side)

    points = [
        Point(value=v, moving_range=None if i == 0 else moving_ranges[i - 1], rules=frozenset(r), direction=d)
        for i, (v, r, d) in enumerate(zip(values, rules, direction, strict=True))
    ]
    notes = []
    if len(values) < RELIABLE_POINTS:
        notes.append(f"Only {len(values)} points: Making Data Count advises at least {RELIABLE_POINTS} for limits.")
    return XmR(
        points=points,
        mean=mean,
        mean_moving_range=mr_bar,
        upper_limit=upper,
        lower_limit=lower,
        upper_two_sigma=upper_2s,
        lower_two_sigma=lower_2s,
        variation=_variation(points[-1], higher_is_better),
        assurance=_assurance(upper, lower, target, higher_is_better),
        notes=notes,
    )


def _runs(signs: list[int]):
    """(start, end, sign) for each maximal run of equal signs; end is exclusive."""
    start = 0
    for i in range(1, len(signs) + 1):
        if i == len(signs) or signs[i] != signs[start]:
            yield start, i, signs[start]
            start = i


def _variation(latest: Point, higher_is_better: bool | None) -> Variation:
    if not latest.special:
        return Variation.COMMON
    if higher_is_better is None:
        return Variation(f"neither_{latest.direction}")
    improving = (latest.direction == "high") == higher_is_better
    return Variation(f"{'improving' if improving else 'concerning'}_{latest.direction}")


def _assurance(upper: float, lower: float, target: float | None, higher_is_better: bool | None) -> Assurance | None:
    if target is None or higher_is_better is None:
        return None
    if lower > target if higher_is_better else upper < target:
        return Assurance.MET
    if upper < target if higher_is_better else lower > target:
        return Assurance.NOT_MET
    return Assurance.HIT_AND_MISS
