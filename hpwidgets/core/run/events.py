"""Typed events the engine emits; the store, the CLI, the plot and the table subscribe.

Subscribers receive frozen records, never live engine objects. One failing subscriber cannot
break the others: the dispatcher catches and reports its error, unless it is critical (the
store), whose failure stops the batch.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hpwidgets.core.records import RunRecord


@dataclass(frozen=True)
class BatchStarted:
    batch_id: str
    plan: Any  # a frozen BatchPlan
    priors: tuple[RunRecord, ...] = ()  # earlier runs given to the optimizer as observations
    resumed: int = 0  # finished trials of this batch from before a --resume
    prev_trials: str = "batch"  # how the priors were chosen (Guild's prev-trials)
    workers: int = 1  # trials at once


@dataclass(frozen=True)
class TrialStarted:
    record: RunRecord


@dataclass(frozen=True)
class TrialOutput:
    run_id: str
    line: str


@dataclass(frozen=True)
class TrialProgress:
    """A scalar a running trial printed (or yielded), as soon as it is parsed."""

    run_id: str
    name: str
    step: int | None
    value: float


@dataclass(frozen=True)
class TrialFinished:
    record: RunRecord
    series: dict[str, list] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelUpdated:
    """The surrogate's mean and std along the one searched flag, after a trial was told."""

    flag: str
    xs: tuple[float, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]


@dataclass(frozen=True)
class BatchFinished:
    batch_id: str
    status: str  # "completed", "stopped" or "failed"
    counts: dict[str, int]
    best: RunRecord | None
    elapsed: float


Event = BatchStarted | TrialStarted | TrialOutput | TrialProgress | TrialFinished | ModelUpdated | BatchFinished
Subscriber = Callable[[Any], None]


class Dispatcher:
    def __init__(self) -> None:
        self._subs: list[tuple[Subscriber, bool]] = []
        self._lock = threading.Lock()
        self.errors: list[BaseException] = []

    def subscribe(self, fn: Subscriber, critical: bool = False) -> Subscriber:
        with self._lock:
            self._subs.append((fn, critical))
        return fn

    def unsubscribe(self, fn: Subscriber) -> None:
        with self._lock:
            self._subs = [(f, c) for f, c in self._subs if f is not fn]

    def emit(self, event: Any) -> None:
        with self._lock:
            subs = list(self._subs)
        for fn, critical in subs:
            try:
                fn(event)
            except Exception as exc:
                if critical:
                    raise
                self.errors.append(exc)
                print(f"hpwidgets: a {type(event).__name__} listener failed:", file=sys.stderr)
                traceback.print_exc()
