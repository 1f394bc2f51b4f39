"""The one read model of a batch's results.

``BatchState`` folds the engine's events into runs by id, each run's scalar series (live, as
each scalar is printed: a running run's record carries its latest step and values), the
priors, the surrogate and the end; ``snapshot()`` gives any thread a frozen ``BatchSnapshot``. Every
result a user sees is derived here: ``Batch.runs/.best/.df``, the CLI echo, the dashboard's
progress line, plot and table, and the engine's own ``BatchFinished`` counts and best.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from hpwidgets.core.records import RunRecord, Status
from hpwidgets.core.results.counts import BatchCounts
from hpwidgets.core.run.events import (
    BatchFinished,
    BatchStarted,
    ModelUpdated,
    TrialFinished,
    TrialOutput,
    TrialProgress,
    TrialStarted,
)

TAIL_LINES = 20  # the output a failed run keeps in view: enough for a traceback's end


@dataclass(frozen=True)
class BatchSnapshot:
    plan: Any  # the frozen BatchPlan
    runs: tuple[RunRecord, ...] = ()  # this batch's runs so far, in trial order
    priors: tuple[RunRecord, ...] = ()  # earlier runs the optimizer took as observations
    model: ModelUpdated | None = None  # the surrogate along the one searched flag
    finished: BatchFinished | None = None
    elapsed: float = 0.0
    version: int = 0  # bumps with every change a view would show
    # run id -> scalar -> [(step, value)]; a running run's series are tuples, never changed in place
    series: dict[str, dict[str, Any]] = field(default_factory=dict)
    tails: dict[str, tuple[str, ...]] = field(default_factory=dict)  # run id -> last lines, runs not completed
    workers: int = 1  # trials at once
    # What views derive from the runs, worked out once per version (snapshots of one version,
    # which differ only in ``elapsed``, share it): a redraw at 1,000 runs stays cheap.
    _derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def _once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]

    @property
    def objective(self):
        return self.plan.objective

    @property
    def total(self) -> int:
        return self.plan.total

    def _summary(self) -> dict[str, Any]:
        """One pass over the runs for what the progress line, the ETA and the captions need."""
        def summarize() -> dict[str, Any]:
            running, durations = [], []
            last_failed, printed_objective, ran = None, False, False
            name = self.objective.name
            for r in self.runs:
                if r.status is Status.RUNNING:
                    running.append(r)
                elif r.status.is_finished():
                    if r.elapsed is not None:
                        durations.append(r.elapsed)
                    ran = ran or r.exit_code == 0
                    later = last_failed is None or (r.stopped or 0) >= (last_failed.stopped or 0)
                    if r.status is Status.FAILED and later:
                        last_failed = r
                printed_objective = printed_objective or name in r.scalars
            return {"counts": BatchCounts.of(self.runs, self.total), "running": running, "durations": durations,
                    "last_failed": last_failed, "printed_objective": printed_objective, "ran": ran}

        return self._once("summary", summarize)

    def counts(self) -> BatchCounts:
        """Done, running, failed, ...: the one count of a batch (core/results/counts.py)."""
        return self._summary()["counts"]

    @property
    def last_failed(self) -> RunRecord | None:
        """The failed run that stopped last (its reason heads the progress line's failures)."""
        return self._summary()["last_failed"]

    @property
    def done(self) -> int:
        return self.counts().done

    @property
    def best(self) -> RunRecord | None:
        return self._once("best", lambda: self.objective.best_of(self._scored()))

    def _scored(self) -> list[tuple[float, RunRecord]]:
        """(value, run) of the runs that can rank, in trial order: each value read once."""
        def score() -> list[tuple[float, RunRecord]]:
            value = self.objective.value
            return [(v, r) for r in self.runs if (v := value(r)) is not None]

        return self._once("scored", score)

    def scored(self) -> list[tuple[float, RunRecord]]:
        """(objective value, run) of the runs that can rank, in trial order."""
        return list(self._scored())

    def ranked(self) -> list[RunRecord]:
        """Runs with a value best first, then the rest (running, failed) in trial order."""
        return list(self._once("ranked", lambda: self.objective.rank(self.runs)))

    def top(self, n: int) -> list[RunRecord]:
        return self.ranked()[:n]

    def pruned(self) -> list[RunRecord]:
        """Pruned trials that reported a value, in trial order: every view draws them at their last one."""
        told = self.objective.told
        return [r for r in self.runs if r.status is Status.PRUNED and told(r) is not None]

    def completed(self) -> list[RunRecord]:
        """Runs with a rankable objective value, in trial order (the plot's points)."""
        return [r for _, r in self._scored()]

    def explanation(self):
        """Partial dependence, importance and a 2-D contour of the searched flags, from a GP fitted
        on the completed trials (core/search/explain.py); None under 3 of them. Once per version."""
        def make():
            from hpwidgets.core.search.explain import explain, view_space

            sign = -1.0 if self.objective.direction == "max" else 1.0
            return explain(view_space(self.plan), [(r.flags, v) for v, r in self._scored()], sign)

        return self._once("explanation", make)

    def eta(self) -> float | None:
        """Seconds left: the trials not finished, ``workers`` at a time, at the mean duration of
        the finished ones, less what the running ones have already spent."""
        finished = self._summary()["durations"]
        if self.finished is not None or not finished or len(finished) >= self.total:
            return None
        mean = sum(finished) / len(finished)
        left = self.total - len(finished)
        now = time.time()
        spent = sum(min(mean, now - r.started) for r in self.running() if r.started is not None)
        return max(0.0, (left * mean - spent) / max(1, min(self.workers, left)))

    def details(self, record: RunRecord) -> str:
        """Why a run did not complete, and the end of what it printed ("" for other runs)."""
        if record.status in (Status.COMPLETED, Status.PENDING, Status.RUNNING):
            return ""
        tail = "\n".join(self.tails.get(record.id, ()))
        return f"{record.reason or record.status.value}\n{tail}".rstrip()

    def missing_objective(self) -> str | None:
        """One line when finished trials ran but none printed the objective, else None."""
        summary = self._summary()
        if not summary["ran"] or summary["printed_objective"]:
            return None
        return self.objective.missing(s for r in self.runs for s in r.scalars)

    def running(self) -> list[RunRecord]:
        return list(self._summary()["running"])

    def curve(self, run_id: str) -> Any:
        """The objective's (step, value) pairs of one run so far; empty when it printed none."""
        return self.series.get(run_id, {}).get(self.objective.name, ())

    def finished_counts(self) -> dict[str, int]:
        """The ended trials by status, as ``BatchFinished`` carries them."""
        counts = self.counts()
        return {s.value: counts[s] for s in Status if s.is_finished()}


class SnapshotViews:
    """``runs``, ``best`` and ``df`` of anything with a ``snapshot()``: a batch run here, or one
    watched from its record."""

    def snapshot(self) -> BatchSnapshot:
        raise NotImplementedError

    @property
    def runs(self) -> list[RunRecord]:
        """The batch's runs in trial order (frozen records)."""
        return list(self.snapshot().runs)

    @property
    def best(self) -> RunRecord | None:
        return self.snapshot().best

    @property
    def df(self):
        """One row per trial: run, status, flags, scalars (a pandas DataFrame)."""
        from hpwidgets.core.results.compare import records_frame

        return records_frame(self.runs)


class BatchState:
    """Thread-safe: ``apply`` takes events on the batch thread; readers get snapshots."""

    def __init__(self, plan: Any, runs: Iterable[RunRecord] = (), clock: Callable[[], float] = time.monotonic) -> None:
        self.plan = plan
        self._clock = clock
        self._lock = threading.Lock()
        # In trial order: a resumed batch's finished trials, then each trial as it starts (the
        # engine starts trials in order; a finished record replaces its start in place).
        self._records: dict[str, RunRecord] = {r.id: r for r in sorted(runs, key=lambda r: r.trial or 0)}
        self._series: dict[str, dict[str, Any]] = {}  # what snapshots hold: frozen per run
        # A running trial's series grow by appends (not a new tuple per line, which would cost
        # a trial of n steps n²/2 copies); the next snapshot freezes the runs that grew.
        self._growing: dict[str, dict[str, list]] = {}
        self._grew: set[str] = set()
        self._tails: dict[str, deque] = {}
        self._workers = 1
        self._priors: tuple[RunRecord, ...] = ()
        self._model: ModelUpdated | None = None
        self._started: float | None = None
        self._finished: BatchFinished | None = None
        self._version = 0
        self._snapshot: BatchSnapshot | None = None

    def apply(self, event: Any) -> None:
        with self._lock:
            if isinstance(event, TrialOutput):
                tail = self._tails.get(event.run_id)
                if tail is None:
                    tail = self._tails[event.run_id] = deque(maxlen=TAIL_LINES)
                tail.append(event.line)
                return  # output lines change no result: the tail shows once the run ends
            if isinstance(event, BatchStarted):
                self._started = self._clock()
                self._priors = tuple(event.priors)
                self._workers = event.workers
            elif isinstance(event, TrialStarted):
                self._records[event.record.id] = event.record
            elif isinstance(event, TrialProgress):
                if not self._progress(event):
                    return
            elif isinstance(event, TrialFinished):
                self._records[event.record.id] = event.record
                grown = self._growing.pop(event.record.id, None)
                self._grew.discard(event.record.id)
                if event.series:
                    self._series[event.record.id] = event.series
                elif grown:  # what the run streamed is all it has
                    self._series[event.record.id] = {n: tuple(v) for n, v in grown.items()}
                if event.record.status is Status.COMPLETED:
                    self._tails.pop(event.record.id, None)
            elif isinstance(event, ModelUpdated):
                self._model = event
            elif isinstance(event, BatchFinished):
                self._finished = event
            else:
                return  # no other event changes a result
            self._version += 1
            self._snapshot = None

    def _progress(self, event: TrialProgress) -> bool:
        record = self._records.get(event.run_id)
        if record is None or record.status is not Status.RUNNING:
            return False  # a line that raced the trial's end changes nothing
        self._records[event.run_id] = record.evolve(scalars={**record.scalars, event.name: event.value},
                                                    step=event.step)
        self._growing.setdefault(event.run_id, {}).setdefault(event.name, []).append((event.step, event.value))
        self._grew.add(event.run_id)
        return True

    @property
    def version(self) -> int:
        return self._version

    def elapsed(self) -> float:
        if self._finished is not None:
            return self._finished.elapsed
        return 0.0 if self._started is None else self._clock() - self._started

    def snapshot(self) -> BatchSnapshot:
        """A frozen view of the batch now; cheap when nothing changed but the clock."""
        with self._lock:
            if self._snapshot is None:
                for run_id in self._grew:  # snapshots already handed out keep what they saw
                    self._series[run_id] = {n: tuple(v) for n, v in self._growing[run_id].items()}
                self._grew.clear()
                runs = tuple(self._records.values())
                tails = {rid: tuple(lines) for rid, lines in self._tails.items()}
                self._snapshot = BatchSnapshot(self.plan, runs, self._priors, self._model, self._finished,
                                               0.0, self._version, dict(self._series), tails, self._workers)
            return replace(self._snapshot, elapsed=self.elapsed())
