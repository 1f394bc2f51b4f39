"""The trial loop: ask the optimizer, run the trial, tell the result; emit an event at each step."""

from __future__ import annotations

import math
import re
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import nullcontext
from typing import Any

from hpwidgets.core.processes import owners
from hpwidgets.core.records import RunRecord, Status
from hpwidgets.core.results.formats import flags_label
from hpwidgets.core.results.read_model import BatchState
from hpwidgets.core.run.cancel import CancelToken
from hpwidgets.core.run.events import (
    BatchFinished,
    BatchStarted,
    Dispatcher,
    ModelUpdated,
    TrialFinished,
    TrialOutput,
    TrialProgress,
    TrialStarted,
)
from hpwidgets.core.run.output.event_watch import EventWatch
from hpwidgets.core.run.output.patterns import Patterns
from hpwidgets.core.run.output.reader import OutputReader
from hpwidgets.core.run.scalars import ScalarLog
from hpwidgets.core.run.trial import TrialOutcome, TrialRunner, TrialSpec
from hpwidgets.core.search import priors
from hpwidgets.core.search.plan import BatchPlan, make_optimizer
from hpwidgets.core.search.pruners import Pruner, Pruning
from hpwidgets.core.search.space import Categorical, Real

MODEL_POINTS = 200  # resolution of the surrogate curve sent to the plot
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b")


class Engine:
    def __init__(
        self,
        plan: BatchPlan,
        runner: TrialRunner,
        run_dir_for: Any,
        *,
        timeout: float | None = None,
        fail_fast: bool = False,
        workers: int = 1,
        label: str | None = None,
        tags: tuple[str, ...] = (),
        batch_id: str | None = None,
        source_hash: str | None = None,
        priors: list[RunRecord] | tuple = (),
        resumed: list[RunRecord] | tuple = (),
        want_model: bool = False,
        pruner: Pruner | None = None,
        patterns: Patterns | None = None,
    ) -> None:
        self.plan = plan
        self.runner = runner
        self.run_dir_for = run_dir_for  # run id -> directory the trial runs in
        self.timeout, self.fail_fast, self.workers = timeout, fail_fast, workers
        self.label = label
        self.tags = tuple(tags)
        self.batch_id = batch_id or uuid.uuid4().hex
        self.source_hash = source_hash
        self.events = Dispatcher()
        self.state = BatchState(plan, runs=resumed)  # the read model: folded first, before any view
        self.events.subscribe(self.state.apply, critical=True)
        self.events.subscribe(runner.on_event)
        self.cancel = CancelToken()
        self.want_model = want_model
        self.pruning = Pruning(pruner) if pruner is not None else None
        self.patterns = patterns or Patterns()  # how printed lines become scalars
        self.optimizer = make_optimizer(plan)
        # --resume: the batch's done trials (completed, pruned) count toward its total and are not run again
        self.resumed = list(resumed)
        self._skip = [self._params(r.flags) for r in self.resumed]
        self.priors = [p for p in priors if plan.objective.told(p) is not None]  # earlier runs
        self._failed_fast = False
        self._objective_seen = any(plan.objective.name in r.scalars for r in self.resumed)  # by any trial
        self._owner = owners.current_token()
        self._inline = workers == 1 and runner.in_process
        self.finished: BatchFinished | None = None

    # -- public ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Kill running trials (their whole process groups) and start no more."""
        self.cancel.cancel()

    def run(self) -> BatchFinished:
        started = time.time()
        objective = self.plan.objective
        for prior in self.priors:
            self.optimizer.observe(self._params(prior.flags), objective.minimized(objective.told(prior)))
        for earlier in self.resumed:  # the batch's own finished trials, from before a --resume
            value = objective.told(earlier)
            if value is not None:
                self.optimizer.observe(self._params(earlier.flags), objective.minimized(value))
        mode = priors.mode_of(self.plan.opt_flags)
        self.events.emit(BatchStarted(self.batch_id, self.plan, tuple(self.priors), len(self.resumed), mode,
                                      self.workers))
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="hpw-trial")
        flight: dict[Future, tuple[RunRecord, dict]] = {}
        index = len(self.resumed)
        try:
            while True:
                while len(flight) < self.workers and index < self.plan.total and not self.cancel.is_set():
                    params = self._ask()
                    if params is None:
                        break
                    record = self._start(index, params)
                    flight[self._submit(pool, record)] = (record, params)
                    index += 1
                if not flight:
                    break
                done, _ = wait(list(flight), return_when=FIRST_COMPLETED)
                for future in done:
                    record, params = flight.pop(future)
                    self._finish(record, params, future)
        except BaseException:
            self.stop()  # Ctrl-C or a failing store: kill what runs, record it, then re-raise
            for future, (record, params) in list(flight.items()):
                try:
                    self._finish(record, params, future)
                except BaseException:
                    pass
            raise
        finally:
            pool.shutdown(wait=True)
            self._emit_finished(started)
        return self.finished

    # -- steps -------------------------------------------------------------------------------

    def _ask(self) -> dict[str, Any] | None:
        """The optimizer's next point; a grid or seeded random search skips points already run."""
        while True:
            params = self.optimizer.ask()
            if params is None or params not in self._skip:
                return params
            self._skip.remove(params)
            self.optimizer.tell(params, None)

    def _params(self, flags: dict[str, Any]) -> dict[str, Any]:
        return {n: flags[n] for n in self.plan.searched if n in flags}

    def _start(self, index: int, params: dict[str, Any]) -> RunRecord:
        flags = {**self.plan.fixed, **params}
        record = RunRecord(
            id=uuid.uuid4().hex,
            batch=self.batch_id,
            operation=self.plan.operation,
            flags=flags,
            status=Status.RUNNING,
            started=time.time(),
            label=self.label or flags_label(flags),
            tags=self.tags,
            objective=self.plan.objective.name,
            direction=self.plan.objective.direction,
            source_hash=self.source_hash,
            searched=self.plan.searched,
            owner=self._owner,
            trial=index,
        )
        self.events.emit(TrialStarted(record))
        return record

    def _submit(self, pool: ThreadPoolExecutor, record: RunRecord) -> Future:
        if not self._inline:
            return pool.submit(self._execute, record)
        future: Future = Future()  # one in-process trial at a time: no thread hand-off
        try:
            future.set_result(self._execute(record))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def _execute(self, record: RunRecord) -> tuple[TrialOutcome, ScalarLog]:
        log = ScalarLog(ignore=frozenset(record.flags), patterns=self.patterns)
        run_id, objective = record.id, self.plan.objective
        trial = CancelToken()  # Stop cancels every trial; a pruner cancels just this one
        reader = OutputReader(log)  # the store keeps what a terminal shows; the log reads every redraw
        lock = threading.Lock()  # the output and the event files feed the log from two threads

        def report(scalars: list, settled: list) -> None:
            for name, step, value in scalars:
                self.events.emit(TrialProgress(run_id, name, step, value))  # the read model folds it now
                self._objective_seen = self._objective_seen or name == objective.name
            for name, step, value in settled:  # final for their step: what the pruner judges
                if (name == objective.name and self.pruning
                        and self.pruning.report(run_id, step, objective.minimized(value))):
                    trial.cancel()  # the runner kills the trial's process group (or closes its generator)

        def on_line(segment: str) -> None:
            with lock:
                line, scalars = reader.feed(segment)
                settled = log.take_settled()
            if line is not None:
                self.events.emit(TrialOutput(run_id, line))
            report(scalars, settled)

        def on_event_scalars(found: list) -> None:
            with lock:
                scalars = [log.add(tag, step, value) for tag, step, value in found if tag not in log.ignore]
                settled = log.take_settled()
            report(scalars, settled)

        spec = TrialSpec(run_id, self.run_dir_for(run_id), record.flags, self.timeout)
        if self.cancel.is_set():
            return TrialOutcome(exit_code=None, killed="cancel"), log
        key = self.cancel.register(trial.cancel)
        try:
            # in-process trials write no event files worth a thread each
            with nullcontext() if self.runner.in_process else EventWatch(spec.run_dir, on_event_scalars):
                return self.runner(spec, trial, on_line), log
        finally:
            self.cancel.unregister(key)
            last = reader.flush()  # a bar left drawn without a newline
            if last is not None:
                self.events.emit(TrialOutput(run_id, last))

    def _finish(self, record: RunRecord, params: dict[str, Any], future: Future) -> None:
        try:
            outcome, log = future.result()
        except Exception as exc:  # the executor itself broke (a lost Dask worker, ...)
            outcome, log = TrialOutcome(exit_code=None, reason=f"{type(exc).__name__}: {exc}"), ScalarLog()
        status, reason, scalars = self._judge(record, outcome, log)
        final = record.evolve(status=status, reason=reason, scalars=scalars, step=log.step,
                              stopped=time.time(), exit_code=outcome.exit_code)
        if status is Status.COMPLETED and self.pruning:
            self.pruning.complete(record.id)
        value = self.plan.objective.told(final)  # a pruned trial: its last value
        self.optimizer.tell(params, None if value is None else self.plan.objective.minimized(value))
        self.events.emit(TrialFinished(final, {k: list(v) for k, v in log.series.items()}))
        if status is Status.FAILED and (self.fail_fast or self._never_printed(final)):
            self._failed_fast = True
            self.stop()
        if self.want_model:
            self._emit_model()

    def _never_printed(self, final: RunRecord) -> bool:
        """A trial ran to its end and printed scalars, none of them the objective, which no trial has
        printed yet: every trial would fail the same way, so the batch stops now (the read model's
        ``missing_objective`` says why)."""
        return (final.exit_code == 0 and bool(final.scalars) and not self._objective_seen
                and self.plan.objective.name not in final.scalars)

    def _judge(self, record: RunRecord, outcome: TrialOutcome, log: ScalarLog) -> tuple[Status, str | None, dict]:
        scalars = {**log.last, **outcome.scalars}
        pruned_at = self.pruning.pruned_at(record.id) if self.pruning else None
        if pruned_at is not None and outcome.killed == "cancel":
            return Status.PRUNED, f"pruned at step {pruned_at}", scalars
        if outcome.killed == "cancel":
            return Status.TERMINATED, "stopped before it finished", scalars
        if outcome.killed == "timeout":
            return Status.FAILED, f"timed out after {self.timeout:g} s", scalars
        if outcome.exit_code != 0:
            code = outcome.exit_code
            why = outcome.reason or (f"killed by signal {-code}" if code and code < 0 else f"exit code {code}")
            last = log.last_line.strip()[:300]
            if not outcome.reason and _EXCEPTION.match(last):
                why += f": {last}"  # the traceback's last line says what went wrong
            return Status.FAILED, why, scalars
        value = scalars.get(record.objective)
        if value is None:
            return Status.FAILED, f"no '{record.objective}' in its output", scalars
        if not math.isfinite(value):
            return Status.FAILED, f"{record.objective} is {value}", scalars
        return Status.COMPLETED, None, scalars

    def _emit_model(self) -> None:
        if len(self.plan.space) != 1:
            return
        (flag, dim), = self.plan.space.items()
        if isinstance(dim, Categorical):
            return
        lo, hi = dim.low, dim.high
        if isinstance(dim, Real) and dim.log:
            xs = [math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * i / (MODEL_POINTS - 1)) for i in range(MODEL_POINTS)]
        else:
            xs = [lo + (hi - lo) * i / (MODEL_POINTS - 1) for i in range(MODEL_POINTS)]
        result = self.optimizer.surrogate([{flag: x} for x in xs])
        if result is None:
            return
        mean = [self.plan.objective.minimized(m) for m in result[0]]  # back from the minimized sign
        std = result[1]
        self.events.emit(ModelUpdated(flag, tuple(xs), tuple(mean), tuple(std)))

    def _emit_finished(self, started: float) -> None:
        snap = self.state.snapshot()
        status = "failed" if self._failed_fast else ("stopped" if self.cancel.is_set() else "completed")
        self.finished = BatchFinished(self.batch_id, status, snap.finished_counts(), snap.best, time.time() - started)
        self.events.emit(self.finished)
