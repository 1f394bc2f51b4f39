"""How far a batch is: the one place that says which trials are done, whether the batch is
finished, whether ``--resume`` has anything left to run, and how its counts read.

As with Guild's ``--needed``, a trial that completed is never run again, and neither is a
pruned one: pruning is a decision about that point, not an accident. A failed or terminated
trial, and a trial never started, is what ``--resume`` runs. Every listing, hint, repr,
progress line and sidebar row reads its counts from here; the Runs sidebar's JS shows the text
the server formats with ``text()``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from hpwidgets.core.records import RunRecord, Status

DONE = (Status.COMPLETED, Status.PRUNED)  # never run again by --resume
SHOWN = (Status.RUNNING, Status.FAILED, Status.PRUNED, Status.TERMINATED, Status.PENDING)  # text()'s order


def is_done(record: RunRecord) -> bool:
    """A trial the batch keeps as its answer for that point: ``--resume`` does not run it again."""
    return record.status in DONE


@dataclass(frozen=True)
class BatchCounts:
    total: int  # the trials the batch plans
    completed: int = 0
    pruned: int = 0
    failed: int = 0
    terminated: int = 0
    running: int = 0
    pending: int = 0

    @classmethod
    def of(cls, runs: Iterable[RunRecord], total: int) -> BatchCounts:
        """The counts of a batch's runs (a resumed batch's superseded attempts included)."""
        seen = {s: 0 for s in Status}
        for r in runs:
            seen[r.status] += 1
        return cls(total, **{s.value: n for s, n in seen.items()})

    def __getitem__(self, status: Status) -> int:
        return getattr(self, status.value)

    @property
    def done(self) -> int:
        """Trials completed or pruned."""
        return self.completed + self.pruned

    @property
    def ended(self) -> int:
        """Trials whose process ended, whatever the outcome (done, failed or terminated)."""
        return self.done + self.failed + self.terminated

    @property
    def finished(self) -> bool:
        """Every planned trial is done: ``--resume`` would run nothing."""
        return self.done >= self.total

    @property
    def resumable(self) -> bool:
        """Trials are left for ``--resume`` (failed, terminated, never started) and none runs now."""
        return not self.finished and self.running == 0

    def text(self, shown: Collection[Status] = (), notes: Mapping[Status, str] | None = None) -> str:
        """``3 of 10 done · 1 running · 2 failed · 1 pruned``: a status with no trial is left out
        unless it is in ``shown``; ``notes`` add a bracket after a status's count (the progress
        line's live steps, the last failure's reason)."""
        notes = notes or {}
        parts = [f"{self.done} of {self.total} done"]
        for status in SHOWN:
            count = self[status]
            if count or status in shown:
                note = notes.get(status)
                parts.append(f"{count} {status.value}" + (f" ({note})" if note else ""))
        return " · ".join(parts)
