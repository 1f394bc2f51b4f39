"""The one-line progress of a batch, from a snapshot of its read model."""

from __future__ import annotations

from typing import Any

from hpwidgets.core.records import RunRecord, Status
from hpwidgets.core.results.formats import format_duration, number, text
from hpwidgets.core.results.read_model import BatchSnapshot

REASON_CHARS = 80


def point(snap: BatchSnapshot, record: RunRecord) -> str:
    """The searched flags of a run, ``x=-0.3`` (all flags when nothing is searched)."""
    names = snap.plan.searched or sorted(record.flags)
    return " ".join(f"{n}={text(record.flags.get(n))}" for n in names)


def _last_failure(snap: BatchSnapshot) -> str:
    """``last: exit code 1: ValueError: ...``: why the failures failed, at a glance."""
    last = snap.last_failed
    if last is None or not last.reason:
        return ""
    reason = last.reason if len(last.reason) <= REASON_CHARS else last.reason[: REASON_CHARS - 1] + "…"
    return f"last: {reason}"


RUNNING_SHOWN = 4  # running trials the line names with their latest step and value


def latest(snap: BatchSnapshot, record: RunRecord) -> str:
    """A running trial as the progress line names it: ``#3 step 12 loss 0.31``."""
    step = "" if record.step is None else f" step {record.step}"
    return f"#{(record.trial or 0) + 1}{step} {snap.objective.name} {number(record.scalars[snap.objective.name])}"


def progress_text(snap: BatchSnapshot) -> str:
    """``3 of 10 done · 1 running (#4 step 12 loss 0.31) · 0 failed · 2 pruned · best loss -0.91
    (x=-0.3) · 4.0s elapsed · ETA 9.0s``: the counts as core/results/counts.py words them."""
    running = [r for r in snap.running() if snap.objective.name in r.scalars]  # those that printed it
    live = ", ".join(latest(snap, r) for r in running[:RUNNING_SHOWN]) + (", …" if len(running) > RUNNING_SHOWN else "")
    notes = {Status.RUNNING: live, Status.FAILED: _last_failure(snap)}
    parts: list[Any] = [snap.counts().text(shown=(Status.RUNNING, Status.FAILED), notes=notes)]
    best = snap.best
    if best is not None:
        parts.append(f"best {snap.objective.name} {number(snap.objective.value(best))} ({point(snap, best)})")
    parts.append(f"{format_duration(snap.elapsed)} elapsed")
    eta = snap.eta()
    if eta is not None:
        parts.append(f"ETA {format_duration(eta)}")
    head = "" if snap.finished is None else f"{snap.finished.status.capitalize()}: "
    return head + " · ".join(parts)
