"""Axes shared by the plots: a flag's x axis, the true curve along it, y-limits that only widen."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from hpwidgets.core.errors import OptionError
from hpwidgets.core.search.space import Categorical, Integer, Real

TRUTH_POINTS = 400


class FlagAxis:
    """How one flag maps to the x axis: numbers as they are, other values by their index."""

    def __init__(self, name: str, dim: Any) -> None:
        self.name = name
        self.log = isinstance(dim, Real) and dim.log
        values = dim.choices if isinstance(dim, Categorical) else dim if isinstance(dim, tuple) else ()
        self.numeric = all(_is_number(v) for v in values)
        self.index = {} if self.numeric else {v: i for i, v in enumerate(values)}
        self.labels = [str(v) for v in values]
        if isinstance(dim, (Real, Integer)):
            self.low, self.high = float(dim.low), float(dim.high)
        elif self.numeric and values:
            self.low, self.high = float(min(values)), float(max(values))
        else:
            self.low, self.high = 0.0, float(max(len(values) - 1, 0))

    def position(self, value: Any) -> float:
        if self.numeric:
            return float(value)
        return float(self.index.get(value, math.nan))

    def limits(self) -> tuple[float, float]:
        if self.log:
            pad = (self.high / self.low) ** 0.03
            return self.low / pad, self.high * pad
        if not self.numeric or self.low == self.high:
            return self.low - 0.5, self.high + 0.5
        pad = (self.high - self.low) * 0.03
        return self.low - pad, self.high + pad

    def grid(self) -> np.ndarray:
        if self.log:
            return np.geomspace(self.low, self.high, TRUTH_POINTS)
        return np.linspace(self.low, self.high, TRUTH_POINTS)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def truth_curve(truth: Callable[..., Any], xs: np.ndarray) -> np.ndarray:
    """``truth`` over ``xs``: one vectorized call if it takes arrays, else one call per point."""
    try:
        ys = np.asarray(truth(xs), dtype=float)
        if ys.shape == xs.shape:
            return ys
    except Exception:
        pass  # not vectorized: try point by point
    try:
        return np.array([float(truth(float(x))) for x in xs])
    except Exception as exc:
        name = getattr(truth, "__name__", repr(truth))
        raise OptionError("truth", name, f"a function of one number returning a number "
                                           f"(it raised {type(exc).__name__}: {exc})") from None


def grow_limits(limits: tuple[float, float] | None, values: np.ndarray) -> tuple[float, float] | None:
    """Y-limits that only widen, with headroom, so that most updates keep the cached background."""
    values = values[np.isfinite(values)]
    if not len(values):
        return limits
    lo, hi = float(values.min()), float(values.max())
    if limits is not None:
        if limits[0] <= lo and hi <= limits[1]:
            return limits
        lo, hi = min(lo, limits[0]), max(hi, limits[1])
    pad = (hi - lo) * 0.12 or max(abs(lo) * 0.1, 0.1)
    return lo - pad, hi + pad
