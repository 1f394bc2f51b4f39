"""Trials of a Python function, called in the calling process: no subprocess.

A function returns a number or a dict of numbers. A generator function yields one per step
(step 1, 2, ...): each yield is printed as ``name: value (step N)`` lines, which the engine
reads like a script's, so it streams and can be pruned; pruning closes the generator.
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable
from typing import Any

from hpwidgets.core.run.cancel import CancelToken
from hpwidgets.core.run.trial import TrialOutcome, TrialRunner, TrialSpec


class FunctionRunner(TrialRunner):
    in_process = True  # the engine may call it inline, without a thread

    def __init__(self, fn: Callable[..., Any], objective: str = "loss") -> None:
        self.fn = fn
        self.objective = objective

    def __call__(self, spec: TrialSpec, cancel: CancelToken, on_line: Callable[[str], None]) -> TrialOutcome:
        try:
            result = self.fn(**spec.flags)
            if inspect.isgenerator(result):
                return self._steps(result, cancel, on_line)
        except Exception:
            for line in traceback.format_exc().rstrip("\n").split("\n"):
                on_line(line)
            return TrialOutcome(exit_code=1)
        return self._outcome(result)

    def _steps(self, steps: Any, cancel: CancelToken, on_line: Callable[[str], None]) -> TrialOutcome:
        result: Any = None
        try:
            for step, result in enumerate(steps, 1):
                scalars = self._outcome(result)
                if scalars.exit_code:
                    return scalars
                for name, value in scalars.scalars.items():
                    on_line(f"{name}: {value!r} (step {step})")  # repr: full precision
                if cancel.is_set():  # pruned or stopped: its finally blocks run now
                    return TrialOutcome(exit_code=None, killed="cancel")
        finally:
            steps.close()
        if result is None:
            return TrialOutcome(exit_code=1, reason="the generator yielded nothing")
        return TrialOutcome(exit_code=0)

    def _outcome(self, result: Any) -> TrialOutcome:
        if isinstance(result, dict):
            scalars = {str(k): float(v) for k, v in result.items() if _is_number(v)}
        elif _is_number(result):
            scalars = {self.objective: float(result)}
        else:
            return TrialOutcome(
                exit_code=1,
                reason=f"the function returned {type(result).__name__}, not a number or a dict of numbers",
            )
        return TrialOutcome(exit_code=0, scalars=scalars)


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, (str, bytes))
