"""Asynchronous successive halving (ASHA, Li et al. 2020), as Optuna's SuccessiveHalvingPruner.

Rung k sits at step ``min-step * reduction**k``. A trial that reaches a rung records its value
there and goes on only if that value is among the best ``1/reduction`` of every value recorded
at the rung so far, itself included (with fewer than ``reduction`` values: only if it is the
best). Nobody waits for stragglers, so it suits ``--workers`` and Dask.
"""

from __future__ import annotations

from hpwidgets.core.search.pruners.base import Pruner


class AshaPruner(Pruner):
    name = "asha"
    settings = {
        "min-step": (1, 1, "the step of the first rung"),
        "reduction": (3, 2, "rungs are this many times further apart; 1 in this many goes on"),
    }
    min_step: int
    reduction: int

    def __init__(self, **values: int) -> None:
        super().__init__(**values)
        self._rungs: dict[int, list[float]] = {}
        self._next: dict[str, int] = {}  # trial -> the next rung it has not reached

    def rung_step(self, k: int) -> int:
        return self.min_step * self.reduction**k

    def report(self, trial: str, step: int, value: float) -> bool:
        k = self._next.get(trial, 0)
        try:
            while step >= self.rung_step(k):
                values = self._rungs.setdefault(k, [])
                values.append(value)
                k += 1
                if not self._promotable(value, values):
                    return True
            return False
        finally:
            self._next[trial] = k

    def _promotable(self, value: float, values: list[float]) -> bool:
        kept = max(len(values) // self.reduction, 1)  # how many of the rung go on
        return value <= sorted(values)[kept - 1]
