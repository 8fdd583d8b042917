"""Statistics over runs, written once: the mean, the sample standard deviation and n.

Every view that pools seeds calls :func:`spread`; a single run is ``n == 1`` with no
standard deviation, never "± 0"."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    """What a set of runs says about one number: mean, sample std (None for one run), n, range."""

    mean: float
    std: float | None
    n: int
    low: float
    high: float

    def scaled(self, factor: float) -> Spread:
        std = None if self.std is None else factor * self.std
        return Spread(factor * self.mean, std, self.n, factor * self.low, factor * self.high)


def spread(values: Iterable[float | None]) -> Spread | None:
    """Mean ± sample standard deviation of the finite values given; None when there are none."""
    kept = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not kept:
        return None
    std = statistics.stdev(kept) if len(kept) > 1 else None
    return Spread(statistics.fmean(kept), std, len(kept), min(kept), max(kept))


def spread_of(values: Iterable[float | None]) -> Spread:
    """:func:`spread` of values that must hold a number: an error names the gap, never a blank."""
    s = spread(values)
    if s is None:
        raise ValueError("no finite values to pool")
    return s


def mean_interval(s: Spread, level: float = 0.95) -> tuple[float, float] | None:
    """Student's t interval of the mean of ``s``: for a per-seed paired difference, what the
    seeds say about the difference beyond these seeds. None for a single run."""
    if s.std is None:
        return None
    from scipy.stats import t

    half = float(t.ppf(0.5 + level / 2, s.n - 1)) * s.std / math.sqrt(s.n)
    return s.mean - half, s.mean + half
