"""The median rule: stop a trial whose value at a step is worse than the median of the values
that completed trials had at that same step.

No trial is judged before ``min-trials`` trials have completed, nor at its first
``warmup-steps`` steps; a step no completed trial reported is never judged. Optuna's
``MedianPruner`` compares the trial's best value so far; this one compares its value at the
step, as the median rule is usually stated.
"""

from __future__ import annotations

from hpwidgets.core.search.pruners.base import Pruner


class MedianPruner(Pruner):
    name = "median"
    settings = {
        "warmup-steps": (0, 0, "steps at the start of each trial that are never judged"),
        "min-trials": (5, 1, "completed trials needed before any trial is judged"),
    }
    warmup_steps: int
    min_trials: int

    def __init__(self, **values: int) -> None:
        super().__init__(**values)
        self._values: dict[str, dict[int, float]] = {}
        self._completed: list[str] = []

    def report(self, trial: str, step: int, value: float) -> bool:
        self._values.setdefault(trial, {})[step] = value
        if step <= self.warmup_steps or len(self._completed) < self.min_trials:
            return False
        earlier = [self._values[t][step] for t in self._completed if step in self._values[t]]
        return bool(earlier) and value > _median(earlier)

    def complete(self, trial: str) -> None:
        if trial in self._values:
            self._completed.append(trial)


def _median(values: list[float]) -> float:
    """The median, without the statistics module (which costs every command's start-up its
    fractions and decimal imports)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
