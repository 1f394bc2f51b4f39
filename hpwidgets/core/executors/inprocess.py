"""Trials of a Python function, called in the calling process: no subprocess, no parsing."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from ..cancel import CancelToken
from ..trial import TrialOutcome, TrialRunner, TrialSpec


class FunctionRunner(TrialRunner):
    in_process = True  # the engine may call it inline, without a thread

    def __init__(self, fn: Callable[..., Any], objective: str = "loss") -> None:
        self.fn = fn
        self.objective = objective

    def __call__(self, spec: TrialSpec, cancel: CancelToken, on_line: Callable[[str], None]) -> TrialOutcome:
        try:
            result = self.fn(**spec.flags)
        except Exception:
            for line in traceback.format_exc().rstrip("\n").split("\n"):
                on_line(line)
            return TrialOutcome(exit_code=1)
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
