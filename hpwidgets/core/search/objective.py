"""The objective of a search: the scalar it optimizes and in which direction.

Every comparison of results goes through one ``Objective``: which of two values is better,
the best run, the order of a ranking, the sign an optimizer (which always minimizes) is told.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hpwidgets.core.records import RunRecord, Status, rank

if TYPE_CHECKING:
    import numpy as np

DIRECTIONS = ("min", "max")


@dataclass(frozen=True)
class Objective:
    name: str = "loss"
    direction: str = "min"  # "min" or "max"

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"`direction in {DIRECTIONS}` must hold, but got {self.direction!r}.")

    @classmethod
    def of(cls, record: RunRecord) -> Objective:
        return cls(record.objective, record.direction)

    @property
    def verb(self) -> str:
        return "minimize" if self.direction == "min" else "maximize"

    @property
    def order(self) -> str:
        """How a ranking by this objective reads: ``lowest first``."""
        return "lowest first" if self.direction == "min" else "highest first"

    def missing(self, printed: Iterable[str]) -> str:
        """One line for a search whose trials printed scalars but never this objective, with the
        closest printed name as a suggestion."""
        printed = sorted(set(printed))
        said = ", ".join(printed) if printed else "no scalars at all"
        line = f"No trial printed {self.name}, the column this batch would {self.verb}; the trials printed: {said}"
        close = difflib.get_close_matches(self.name, printed, n=1, cutoff=0.6)
        return f"{line} (did you mean {close[0]}?)" if close else line

    def minimized(self, value: float) -> float:
        """The value an optimizer is told: optimizers always minimize."""
        return -value if self.direction == "max" else value

    def better(self, a: float, b: float) -> bool:
        """True when ``a`` is strictly better than ``b``."""
        return self.minimized(a) < self.minimized(b)

    def value(self, record: RunRecord) -> float | None:
        """The run's objective when it can rank: a completed run with a finite value."""
        if record.status is not Status.COMPLETED:
            return None
        value = record.scalars.get(self.name)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            return None
        return float(value)

    def told(self, record: RunRecord) -> float | None:
        """What an optimizer learns from a run, before the sign: a completed run's value, a
        pruned run's last reported value (as Optuna and Ray Tune do); None for the rest."""
        if record.status is Status.PRUNED:
            value = record.scalars.get(self.name)
            return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None
        return self.value(record)

    def best(self, records: Iterable[RunRecord]) -> RunRecord | None:
        """The best ranked run; the earliest wins a tie."""
        return self.best_of((v, r) for r in records if (v := self.value(r)) is not None)

    def best_of(self, scored: Iterable[tuple[float, RunRecord]]) -> RunRecord | None:
        """The run of the best (value, run) pair; the earliest wins a tie."""
        best = min(scored, key=lambda pair: self.minimized(pair[0]), default=None)  # min keeps the first of equals
        return None if best is None else best[1]

    def best_so_far(self, values: Iterable[float]) -> np.ndarray:
        """The best value up to each position (a convergence curve)."""
        import numpy as np  # here, not at the top: `hpw compare` and `hpw runs` start without numpy

        values = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
        if not len(values):
            return values
        return np.minimum.accumulate(values) if self.direction == "min" else np.maximum.accumulate(values)

    def last(self, record: RunRecord) -> float | None:
        """The run's last finite value of the objective, whatever its status."""
        value = record.scalars.get(self.name)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            return None
        return float(value)

    def rank(self, records: Iterable[RunRecord]) -> list[RunRecord]:
        """The one ranking (``records.rank``): completed runs best first, then pruned, failed or
        terminated ones at their last value, then the rest in their order."""
        return rank(records, self.last, descending=self.direction == "max")
