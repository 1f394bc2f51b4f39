"""A batch you hold: one run by this process (core/run/batch.py) or one watched from its record
(core/processes/watch.py). Both are views of the same read model, so they describe, wait, say
whether they are done and print themselves the same way, from here.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from hpwidgets.core.records import RunRecord
from hpwidgets.core.results.read_model import SnapshotViews
from hpwidgets.core.run.events import BatchFinished

WAIT_POLL = 0.1  # seconds between looks while waiting: Ctrl-C (a kernel interrupt) gets through


class BatchHandle(SnapshotViews):
    """``id``, ``plan``, ``priors``, ``pruner``, ``snapshot()`` and ``stop()`` come from the
    subclass; ``_done`` is set when the batch has ended, ``_error`` holds what broke it."""

    id: str
    plan: Any  # the frozen BatchPlan
    running_note = ""  # what the repr of a batch still running adds after its plan

    def __init__(self) -> None:
        self._done = threading.Event()
        self._error: BaseException | None = None

    @property
    def priors(self) -> list[RunRecord]:
        """Earlier runs the optimizer takes as observations (``-Fo prev-trials``)."""
        raise NotImplementedError

    @property
    def pruner(self) -> Any:
        """The pruner that judges the trials, None when nothing is pruned."""
        return None

    @property
    def lead(self) -> str:
        """How ``describe`` opens the plan."""
        return "You are about to run"

    def stop(self) -> Any:
        raise NotImplementedError

    def _interrupted(self) -> None:
        """Ctrl-C while waiting: nothing by default (a watched batch runs on elsewhere)."""

    def describe(self) -> str:
        """The plan as Guild prints it, the priors the batch uses and its pruner."""
        text = self.plan.text(lead=self.lead)
        priors = self.priors
        if priors:
            count = len(priors)
            text += (f"\nPriors: {count} earlier run{'s' if count != 1 else ''} of {self.plan.operation} "
                     f"(prev-trials={self.plan.opt_flags.get('prev-trials')})")
        if self.pruner is not None:
            text += f"\nPruning: {self.pruner.describe()}"
        return text

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def finished(self) -> BatchFinished | None:
        """How the batch ended (its status, counts and best), None while it runs."""
        return self.snapshot().finished

    def wait(self, timeout: float | None = None) -> BatchHandle:
        """Block until the batch ends or ``timeout`` seconds pass; re-raise what broke it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while not self._done.wait(WAIT_POLL):
                if deadline is not None and time.monotonic() > deadline:
                    break
        except KeyboardInterrupt:
            self._interrupted()
            raise
        if self._error is not None:
            raise self._error
        return self

    def __repr__(self) -> str:
        # Shown under a live dashboard right after %hprun returns: say nothing that goes stale.
        head = f"<Batch {self.id[:8]}: {self.plan.operation}, {self.plan.optimizer}, {self.plan.total} trials"
        ended = self.finished if self.done else None
        if ended is None:
            return head + self.running_note + ">"
        return f"{head}: {ended.status}, {self.snapshot().counts().text()}>"
