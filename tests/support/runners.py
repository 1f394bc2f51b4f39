"""Trials without a subprocess and an optimizer that asks what it is told to: engine behaviour
that depends only on a trial's outcome, tested in microseconds.

The real parts (subprocess groups, signals, timeouts) keep their own tests with real processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hpwidgets.core.run.cancel import CancelToken
from hpwidgets.core.run.trial import TrialOutcome, TrialRunner, TrialSpec
from hpwidgets.core.search.optimizers.base import Optimizer, Params


@dataclass(frozen=True)
class Ending:
    """How a scripted trial ends, after printing ``lines``: its exit code, or who ended it."""

    lines: tuple[str, ...] = ()
    exit_code: int | None = 0
    killed: str | None = None  # "timeout" or "cancel", as a real runner reports them


class ScriptedRunner(TrialRunner):
    """Runs each trial by calling ``script(flags)``: a string is what the trial prints (and it exits
    0), an Ending says more. Keeps every spec it was given, in order."""

    def __init__(self, script: Callable[[dict[str, Any]], str | Ending]) -> None:
        self.script = script
        self.specs: list[TrialSpec] = []

    def __call__(self, spec: TrialSpec, cancel: CancelToken, on_line: Callable[[str], None]) -> TrialOutcome:
        self.specs.append(spec)
        ending = self.script(dict(spec.flags))
        if isinstance(ending, str):
            ending = Ending(tuple(ending.splitlines()))
        for line in ending.lines:
            on_line(line)
        return TrialOutcome(exit_code=ending.exit_code, killed=ending.killed)


class ScriptedOptimizer(Optimizer):
    """Asks the given points in order, then None; keeps what it was told and observed."""

    name = "scripted"

    def __init__(self, points: Iterable[Params]) -> None:
        self.points = [dict(p) for p in points]
        self.told: list[tuple[Params, float | None]] = []
        self.observed: list[tuple[Params, float]] = []

    def ask(self) -> Params | None:
        return self.points.pop(0) if self.points else None

    def tell(self, params: Params, value: float | None) -> None:
        self.told.append((dict(params), value))

    def observe(self, params: Params, value: float) -> None:
        self.observed.append((dict(params), value))
