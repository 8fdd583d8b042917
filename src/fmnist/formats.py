"""How numbers are written, one way everywhere: accuracy in percent, differences in signed
points, intervals in brackets, p-values in scientific notation when small, seconds whole.

Inputs are fractions (0.9166), as the metrics files hold them; outputs are text."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a type only: the evaluate stage's report needs no statistics module
    from fmnist.stats import Spread


def percent(fraction: float | None, digits: int = 2) -> str:
    """0.9166 -> '91.66'."""
    return "" if fraction is None else f"{100 * fraction:.{digits}f}"


def points(fraction: float | None, digits: int = 2) -> str:
    """A difference of fractions in signed percentage points: 0.0225 -> '+2.25'."""
    return "" if fraction is None else f"{100 * fraction:+.{digits}f}"


def interval(low: float | None, high: float | None, signed: bool = False) -> str:
    """'[91.10, 92.19]' or, for a difference, '[+1.66, +2.85]'; '' when either end is unknown."""
    if low is None or high is None:
        return ""
    write = points if signed else percent
    return f"[{write(low)}, {write(high)}]"


def p_value(p: float | None) -> str:
    """McNemar's p: '6.3e-14', '0.577'; '< 1e-300' where it underflowed to 0."""
    if p is None:
        return ""
    if p == 0:
        return "< 1e-300"
    return f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"


def seconds(value: float | None) -> str:
    """Training seconds: whole above 10 s ('333'), one decimal below ('9.7')."""
    if value is None:
        return ""
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def mean_std(s: Spread | None, scale: float = 100, digits: int = 2, signed: bool = False) -> str:
    """'92.36 ± 0.15' (n > 1) or '92.36' (one run); fractions scaled to percent by default."""
    if s is None:
        return ""
    mean = f"{scale * s.mean:{'+' if signed else ''}.{digits}f}"
    return mean if s.std is None else f"{mean} ± {scale * s.std:.{digits}f}"


def seeds(values: list[int]) -> str:
    """'0-4' for a run of consecutive seeds, '0, 2, 5' otherwise."""
    ordered = sorted(values)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]}-{ordered[-1]}"
    return ", ".join(map(str, ordered))
