"""Search dimensions: what an optimizer may choose for one flag."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Union


@dataclass(frozen=True)
class Real:
    low: float
    high: float
    log: bool = False
    initial: float | None = None

    def contains(self, value: Any) -> bool:
        return isinstance(value, (int, float)) and self.low <= value <= self.high

    def describe(self) -> str:
        fn = "loguniform" if self.log else "uniform"
        return f"{fn}[{self.low}:{self.high}]"


@dataclass(frozen=True)
class Integer:
    low: int
    high: int
    initial: int | None = None

    def contains(self, value: Any) -> bool:
        return isinstance(value, int) and self.low <= value <= self.high

    def describe(self) -> str:
        return f"[{self.low}:{self.high}]"


@dataclass(frozen=True)
class Categorical:
    choices: tuple
    initial: Any = None

    def contains(self, value: Any) -> bool:
        return value in self.choices

    def describe(self) -> str:
        return "[" + ", ".join(str(c) for c in self.choices) + "]"


Dimension = Union[Real, Integer, Categorical]

# An ordered mapping flag name -> dimension; names are kept sorted, as Guild does.
Space = dict[str, Dimension]


def sorted_space(dims: dict[str, Dimension]) -> Space:
    return {name: dims[name] for name in sorted(dims)}


def unit_log_bounds(dim: Real) -> tuple[float, float]:
    """Bounds in log space for a log-uniform dimension."""
    return math.log(dim.low), math.log(dim.high)


def in_space(space: Space, fixed: dict[str, Any], flags: dict[str, Any]) -> bool:
    """True when a run's flags lie inside a search space and match its fixed flags (for priors)."""
    for name, dim in space.items():
        if name not in flags:
            return False
        value = flags[name]
        if isinstance(dim, Integer) and isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(dim, Real) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not dim.contains(value):
            return False
    return all(flags.get(n) == v for n, v in fixed.items())
