"""Follow a batch from any process: its record of events folded into the one read model.

``WatchedBatch`` is a ``BatchHandle`` as a ``Batch`` is (core/run/handle.py: ``.plan``,
``.events``, ``.snapshot()``, ``.describe()``, ``.id``, ``.priors``, ``.stop()``): a thread tails
``batches/<id>.events`` (core/event_log.py), re-emits each event and folds it into a
``BatchState``, so every view works unchanged. It ends with the batch's end, or when the
supervisor is gone without one (killed): then the store's runs, reaped, give the final state.
With ``follow=False`` it is one look at the batch now (the Runs sidebar's view of a batch),
also of a batch that runs in a kernel and keeps no record of events: its stored runs.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from hpwidgets.core.errors import OptionError, StoreError
from hpwidgets.core.processes import detach, event_log, locks
from hpwidgets.core.records import RunRecord, Status
from hpwidgets.core.results.read_model import BatchSnapshot, BatchState
from hpwidgets.core.run.events import BatchFinished, BatchStarted, Dispatcher, TrialFinished, TrialStarted
from hpwidgets.core.run.handle import BatchHandle
from hpwidgets.core.search.plan import BatchPlan
from hpwidgets.core.store import manifests
from hpwidgets.core.store.runstore import Store

POLL = 0.1  # seconds between reads of the record when nothing new came
ALIVE_EVERY = 0.5  # seconds between checks that the supervisor still holds the batch's lock


class WatchedBatch(BatchHandle):
    running_note = " (detached)"

    def __init__(self, ref: str, store: Store | None = None, *, plan: BatchPlan | None = None,
                 option: str = "BATCH", follow: bool = True) -> None:
        super().__init__()
        self.store = store or Store()
        manifest = manifests.load(self.store, ref, option=option)
        self.id: str = manifest["id"]
        self.plan = plan or manifests.plan_of(manifest, option=option)
        self._pruner = manifests.run_options(manifest).pruner()
        self.events = Dispatcher()
        self._started_at: float | None = None
        self.state = BatchState(self.plan, clock=self._clock)
        self.events.subscribe(self.state.apply, critical=True)
        self.lost: str | None = None  # why the batch ended without its end recorded
        self._priors: tuple[RunRecord, ...] = ()
        self._reader = event_log.Reader(event_log.path_of(self.store.batches_dir, self.id), self.plan)
        running = locks.is_running(self.store.batches_dir, self.id)
        if not os.path.exists(self._reader.path):
            if running and not follow:  # a look now, not a follow: the store's runs so far
                self._from_store(None, started=False)
                return
            if running:
                raise OptionError(option, ref, f"a detached batch or a finished one; batch {self.id[:8]} runs in a "
                                               "kernel or an `hpw run` that keeps no record of its events: watch "
                                               "it there")
            self._from_store("completed", started=False)  # a finished batch that ran in a kernel: its stored runs
            return
        self._apply(self._reader.read())  # what is recorded so far, before any view subscribes
        if self.state.snapshot().finished is not None or not running and self._end_if_gone():
            return
        if not follow:
            self._reader.close()
            return
        threading.Thread(target=self._follow, name=f"hpw-watch-{self.id[:8]}", daemon=True).start()

    # -- following -----------------------------------------------------------------------

    def _clock(self) -> float:
        """Wall time, except when the state takes the batch's start: then the recorded one, so
        that a watcher attached later shows the time since the batch started."""
        at, self._started_at = self._started_at, None
        return time.time() if at is None else at

    def _apply(self, events: list[Any]) -> None:
        for event in events:
            self._started_at = getattr(event, "at", None)
            if hasattr(event, "priors") and not isinstance(event, BatchFinished):
                self._priors = tuple(event.priors)
            self.events.emit(event)
            if isinstance(event, BatchFinished):
                self._done.set()

    def _follow(self) -> None:
        checked = time.monotonic()
        try:
            while not self._done.is_set():
                events = self._reader.read()
                self._apply(events)
                if events:
                    continue
                if time.monotonic() - checked > ALIVE_EVERY:
                    checked = time.monotonic()
                    if not locks.is_running(self.store.batches_dir, self.id) and self._end_if_gone():
                        return
                time.sleep(POLL)
        except StoreError as exc:  # the record became unsafe to read: say so and stop following
            self.lost = str(exc)
            self._done.set()
        finally:
            self._reader.close()

    def _end_if_gone(self) -> bool:
        """No process runs the batch: read what it wrote last; without its end, take the store's."""
        self._apply(self._reader.read())
        if self._done.is_set():
            return True
        self.lost = (f"batch {self.id[:8]} ended without recording its end (its supervisor was killed); "
                     f"`hpw run --resume {self.id[:8]}` finishes it")
        self._from_store("stopped")
        return True

    def _from_store(self, status: str | None, started: bool = True) -> None:
        """The store's runs as the batch's state; ``status`` None: it still runs (in a kernel).
        ``started`` False: no record of events gave the batch's start; its first run's is taken."""
        if status is not None:
            self.store.reap_orphans()  # runs the dead supervisor left running read as terminated
        runs = sorted(self.store.runs(batch=self.id), key=lambda r: r.trial or 0)  # trial order
        starts = [r.started for r in runs if r.started]
        if not started and starts:
            self._started_at = min(starts)
            self.events.emit(BatchStarted(self.id, self.plan))
        for record in runs:
            running = status is None and record.status is Status.RUNNING
            self.events.emit(TrialStarted(record) if running else TrialFinished(record))
        if status is None:
            return
        snap = self.state.snapshot()
        if status == "completed" and snap.counts().ended < snap.total:
            status = "stopped"
        elapsed = snap.elapsed
        if not started and starts:  # from the first run's start to the last one's end
            elapsed = max([r.stopped or r.started for r in runs if r.started], default=min(starts)) - min(starts)
        self._apply([BatchFinished(self.id, status, snap.finished_counts(), snap.best, elapsed)])

    # -- what a Batch offers -----------------------------------------------------------------

    @property
    def priors(self) -> list[RunRecord]:
        return list(self._priors)

    @property
    def pruner(self) -> Any:
        return self._pruner

    @property
    def lead(self) -> str:
        return f"Batch {self.id[:8]}:"  # it runs already, or ran

    def snapshot(self) -> BatchSnapshot:
        return self.state.snapshot()

    def stop(self, wait: bool = False) -> str | None:
        """Signal the batch's supervisor (core/processes/detach.py); ``wait`` returns its one line."""
        if wait:
            return detach.stop(self.store, self.id)

        def stop_quietly() -> None:
            try:
                detach.stop(self.store, self.id)
            except Exception as exc:  # a Stop button has no caller to raise to
                print(f"hpwidgets: stop: {exc}", flush=True)

        threading.Thread(target=stop_quietly, name=f"hpw-stop-{self.id[:8]}", daemon=True).start()
        return None
