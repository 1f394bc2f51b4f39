"""What the dashboard shows, folded from a batch's events; safe to update and read from any thread."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from ..core.compare import format_duration
from ..core.events import BatchFinished, BatchStarted, TrialFinished, TrialStarted
from ..core.flags import format_value
from ..core.records import RunRecord, Status


class BatchState:
    """Runs by id and the clock. ``apply`` takes events on the batch thread;
    readers (the render thread, button handlers) get copies, never the live dict."""

    def __init__(self, plan: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self.plan = plan
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, RunRecord] = {}
        self._started: float | None = None
        self._finished: BatchFinished | None = None
        self.version = 0  # bumps when the plot or table would change (not on output lines)

    def apply(self, event: Any) -> None:
        """Fold one event in; the plot takes the surrogate, output lines change nothing here."""
        with self._lock:
            if isinstance(event, BatchStarted):
                self._started = self._clock()
            elif isinstance(event, (TrialStarted, TrialFinished)):
                self._records[event.record.id] = event.record
                self.version += 1
            elif isinstance(event, BatchFinished):
                self._finished = event
                self.version += 1

    # -- reading -------------------------------------------------------------------------

    @property
    def finished(self) -> BatchFinished | None:
        return self._finished

    def records(self) -> list[RunRecord]:
        """The batch's runs so far, in trial order."""
        with self._lock:
            runs = list(self._records.values())
        return sorted(runs, key=lambda r: r.trial or 0)

    def best(self) -> RunRecord | None:
        return best_of(self.records(), self.plan.direction)

    def top(self, n: int) -> list[RunRecord]:
        """Runs with a value best first, then the rest (running, failed) in trial order."""
        runs = self.records()
        scored = [r for r in runs if _value(r) is not None]
        scored.sort(key=lambda r: -_value(r) if self.plan.direction == "max" else _value(r))
        rest = [r for r in runs if _value(r) is None]
        return (scored + rest)[:n]

    def progress_text(self) -> str:
        """``3 of 10 done · 1 running · 0 failed · best loss -0.91 (x=-0.3) · 0:00:04 elapsed · ETA 0:00:09``"""
        runs = self.records()
        counts = {s: 0 for s in Status}
        for r in runs:
            counts[r.status] += 1
        done = sum(n for s, n in counts.items() if s.is_finished())
        total = self.plan.total
        parts = [f"{done} of {total} done", f"{counts[Status.RUNNING]} running", f"{counts[Status.FAILED]} failed"]
        if counts[Status.TERMINATED]:
            parts.append(f"{counts[Status.TERMINATED]} terminated")
        best = best_of(runs, self.plan.direction)
        if best is not None:
            parts.append(f"best {best.objective} {best.value:.6g} ({self.point(best)})")
        elapsed = self.elapsed()
        parts.append(f"{format_duration(elapsed)} elapsed")
        if self._finished is None and done and done < total:
            parts.append(f"ETA {format_duration(elapsed / done * (total - done))}")
        head = "" if self._finished is None else f"{self._finished.status.capitalize()}: "
        return head + " · ".join(parts)

    def elapsed(self) -> float:
        if self._finished is not None:
            return self._finished.elapsed
        return 0.0 if self._started is None else self._clock() - self._started

    def point(self, record: RunRecord) -> str:
        """The searched flags of a run, ``x=-0.3`` (all flags when nothing is searched)."""
        names = self.plan.searched or sorted(record.flags)
        return " ".join(f"{n}={short(record.flags.get(n))}" for n in names)


def _value(record: RunRecord) -> float | None:
    value = record.value if record.status is Status.COMPLETED else None
    return None if value is None or math.isnan(value) else value


def best_of(records: list[RunRecord], direction: str) -> RunRecord | None:
    scored = [r for r in records if _value(r) is not None]
    if not scored:
        return None
    return (max if direction == "max" else min)(scored, key=_value)


def short(value: Any) -> str:
    """A cell's text: floats to 6 significant digits, None empty, the rest as the flag syntax has it."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return format_value(value)
