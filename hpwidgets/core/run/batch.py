"""A batch: prepare a search from a script or a function, run it, and hold its results."""

from __future__ import annotations

import hashlib
import inspect
import threading
from collections.abc import Callable
from typing import Any

from hpwidgets.core.errors import OptionError, UnknownFlagError
from hpwidgets.core.processes import locks
from hpwidgets.core.processes.stop_requests import StopListener
from hpwidgets.core.records import RunRecord, Status
from hpwidgets.core.results.counts import is_done
from hpwidgets.core.results.read_model import BatchSnapshot
from hpwidgets.core.run import cell_scripts
from hpwidgets.core.run.engine import Engine
from hpwidgets.core.run.executors.inprocess import FunctionRunner
from hpwidgets.core.run.executors.local import ScriptRunner
from hpwidgets.core.run.handle import BatchHandle
from hpwidgets.core.run.output.patterns import Patterns
from hpwidgets.core.run.recorder import StoreRecorder
from hpwidgets.core.run.scripts import ScriptInfo, inspect_script
from hpwidgets.core.search.plan import BatchPlan, RunOptions, build_plan
from hpwidgets.core.search.priors import find_priors
from hpwidgets.core.search.run_options import manifest_options
from hpwidgets.core.store import manifests
from hpwidgets.core.store.runstore import Store


class Batch(BatchHandle):
    """A prepared search. ``start()`` runs it (here or on a thread); the rest reads its results."""

    def __init__(self, plan: BatchPlan, engine: Engine, store: Store, info: ScriptInfo | None,
                 request: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.plan, self.engine, self.store, self.info = plan, engine, store, info
        self.request = request or {"flags": {}, "options": {}}  # what --resume needs to prepare it again
        self._thread: threading.Thread | None = None
        self.held_lock: int | None = None  # --resume takes the batch's lock before it lists the finished runs

    @property
    def id(self) -> str:
        return self.engine.batch_id

    @property
    def events(self):
        return self.engine.events

    @property
    def priors(self) -> list[RunRecord]:
        return list(self.engine.priors)

    @property
    def pruner(self) -> Any:
        return self.engine.pruning.pruner if self.engine.pruning is not None else None

    def snapshot(self) -> BatchSnapshot:
        """A frozen view of the batch's results now (see core/results/read_model.py)."""
        return self.engine.state.snapshot()

    def start(self, background: bool = False) -> Batch:
        if not self.engine.resumed:
            self.save_manifest()
        lock, self.held_lock = self.held_lock, None
        if lock is None:
            lock = locks.acquire(self.store.batches_dir, self.id, locks.LOOK)  # held until the batch ends
        if lock is None:
            raise _still_running(self.id)
        held = (lock, StopListener.open(self.id, self.stop))  # `hpw stop` and the Runs sidebar reach it
        if not background:
            try:
                self.engine.run()
            finally:
                self._release(*held)
            return self
        self._thread = threading.Thread(target=self._run_quietly, args=held, name=f"hpw-batch-{self.id[:8]}",
                                        daemon=True)
        self._thread.start()
        return self

    def _run_quietly(self, lock: int, listener: StopListener | None) -> None:
        try:
            self.engine.run()
        except BaseException as exc:  # shown by whoever waits on the batch
            self._error = exc
        finally:
            self._release(lock, listener)

    def _release(self, lock: int, listener: StopListener | None) -> None:
        if listener is not None:
            listener.close()
        locks.release(lock)
        self._done.set()

    def release(self) -> None:
        """Drop the lock a resumed batch holds since it was prepared, when it will not start (a
        preview, an answer of no, a supervisor that runs it instead)."""
        lock, self.held_lock = self.held_lock, None
        locks.release(lock)

    def _interrupted(self) -> None:
        """Ctrl-C (a kernel interrupt) while waiting stops the batch: it runs in this process."""
        self.stop()
        self._done.wait()

    def stop(self) -> None:
        self.engine.stop()

    def save_manifest(self) -> None:
        """What --resume needs to run the rest of the batch again later (core/store/manifests.py)."""
        manifests.write(self.store, self.plan, self.id, script=self.info.path if self.info else None,
                        source_hash=self.engine.source_hash, names_hash=self.request.get("names_hash"),
                        flags=self.request["flags"], options=self.request["options"])


def function_flags(fn: Callable[..., Any]) -> dict[str, tuple[Any, type | None]]:
    """The flags of a function: its parameters with no default or a literal one (a number, a
    string, a bool, None); the others (an array, a random generator) keep their defaults."""
    out = {}
    for name, param in inspect.signature(fn).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.default is not param.empty and not isinstance(param.default, (bool, int, float, str, type(None))):
            continue
        default = None if param.default is param.empty else param.default
        out[name] = (default, type(default) if default is not None else None)
    return out


def _accepts_any(fn: Callable[..., Any]) -> bool:
    return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(fn).parameters.values())


def _function_hash(fn: Callable[..., Any]) -> str:
    code = getattr(fn, "__code__", None)
    blob = (code.co_code + repr(code.co_consts).encode()) if code else repr(fn).encode()
    return hashlib.sha256(blob).hexdigest()


def prepare(
    target: str | Callable[..., Any],
    flags: dict[str, Any] | None = None,
    options: RunOptions | None = None,
    store: Store | None = None,
    *,
    want_model: bool = False,
    runner: Any = None,
    batch_id: str | None = None,
    resumed: list[RunRecord] | tuple = (),
    expect_source: str | None = None,
    expect_names: str | None = None,
) -> Batch:
    """Check everything and build the batch; nothing is written until it starts."""
    options = options or RunOptions()
    store = store or Store()
    given = dict(flags or {})
    if callable(target):
        info = None
        known = function_flags(target)
        operation = getattr(target, "__name__", "function")
        if not _accepts_any(target):
            for name in given:
                if name not in known:
                    raise UnknownFlagError(f"{operation}()", name, sorted(known))
        if options.dask is not None:
            raise OptionError("dask", options.dask, "a script to run there; a function's trials run in this process")
        if options.timeout is not None:
            raise OptionError("timeout", options.timeout, "None for a function: it runs in this process, which "
                                                          "cannot kill it; run a script to time its trials out")
        for name in ("output_scalars", "builtin_scalars"):  # a function's results are not printed lines
            if getattr(options, name) != getattr(RunOptions(), name):
                raise OptionError(name, getattr(options, name), "left as it is for a function: its results are "
                                                                "read as it returns or yields them")
        runner = runner or FunctionRunner(target, options.objective.name)
        source_hash, script_name, source, names = _function_hash(target), None, None, None
    else:
        cell_scripts.check_cell(str(target))  # a %%hprun cell: ours, private, no link
        info = inspect_script(str(target))
        for name in given:
            info.flag(name)  # raises UnknownFlagError listing the script's flags
        known = {n: (f.default, f.type) for n, f in info.flags.items()}
        operation = info.name
        names = cell_scripts.read_names(info.path)
        if options.dask is not None and names is not None:
            raise OptionError("dask", options.dask, "None for a notebook cell that uses the notebook's names: "
                                                    "its trials run on this machine")
        runner = runner or (None if options.dask is not None else ScriptRunner(info, names))
        source_hash = hashlib.sha256(info.source.encode()).hexdigest()
        script_name, source = info.name, info.source
        if expect_source is not None and source_hash != expect_source:  # what runs is what was checked
            raise _SourceChanged(f"a batch whose script is unchanged; {info.path} changed since the batch "
                                 "started: start a new batch")
        if expect_source is not None and cell_scripts.names_hash(names) != expect_names:
            raise _SourceChanged(f"a batch whose cell takes the notebook values it started with; "
                                 f"{cell_scripts.names_file(info.path)} holds others (the cell ran again since): "
                                 "run the cell again to start a new batch")
    plan = build_plan(operation, known, given, options)
    patterns = Patterns(options.output_scalars, options.builtin_scalars)  # checked before any trial
    store.reap_orphans()  # runs a dead process left running must not count as running
    priors = find_priors(store, plan, source_hash)
    if options.retries and options.dask is None:
        raise OptionError("retries", options.retries, "0, or a number of new attempts with {0} when a worker is lost",
                          mentions=("dask",))
    workers = options.workers
    if runner is None:  # --dask: connect once the plan holds
        from hpwidgets.core.run.executors.dask import DaskRunner

        runner = DaskRunner(info, options.dask, options.retries, options.dask_files_max)
        workers = runner.slots if workers == 1 else workers
    engine = Engine(plan, runner, store.run_dir, timeout=options.timeout, fail_fast=options.fail_fast,
                    workers=workers, label=options.label, tags=options.tags, source_hash=source_hash,
                    priors=priors, resumed=resumed, batch_id=batch_id, want_model=want_model,
                    pruner=options.pruner(), patterns=patterns)
    if engine.pruning is not None:
        for earlier in resumed:
            points = store.series(earlier.id).get(plan.objective.name, [])
            engine.pruning.replay(earlier.id, [(step, plan.objective.minimized(v)) for step, v in points],
                                  completed=earlier.status is Status.COMPLETED)
    engine.events.subscribe(StoreRecorder(store, script_name, source, record_start=info is not None), critical=True)
    request = {"flags": {k: _jsonable(v) for k, v in given.items()}, "options": manifest_options(options),
               "names_hash": cell_scripts.names_hash(names)}
    return Batch(plan, engine, store, info, request)


def _jsonable(value: Any) -> Any:
    """A given flag value as the manifest keeps it: JSON as is, anything else in the flag syntax."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float, bool)) for v in value):
        return list(value)
    from hpwidgets.core.search.flags import describe

    return describe(value)


def resume(ref: str, store: Store | None = None, runner: Any = None, want_model: bool = False) -> Batch:
    """Prepare the rest of an interrupted batch: its done trials (completed or pruned:
    core/results/counts.py) count and serve as priors; failed, terminated and never started ones
    run (again)."""
    store = store or Store()
    store.reap_orphans()  # trials a dead process left running are run again
    manifest = manifests.load(store, ref)
    if not manifest.get("script"):
        raise OptionError("resume", ref, "a batch of a script (a function's batch cannot be resumed from its id)")
    # the lock first, then the finished runs: a second --resume waiting at its prompt meanwhile
    # would otherwise run again the trials this one finishes
    lock = locks.acquire(store.batches_dir, manifest["id"], locks.LOOK)
    if lock is None:
        raise _still_running(manifest["id"], ref)
    try:
        batch = _prepare_rest(manifest, ref, store, runner, want_model)
    except BaseException:
        locks.release(lock)
        raise
    batch.held_lock = lock
    return batch


def _prepare_rest(manifest: dict[str, Any], ref: str, store: Store, runner: Any, want_model: bool) -> Batch:
    runs = store.runs(batch=manifest["id"])
    done = [r for r in runs if is_done(r)]  # not run again
    # the script must be the one the batch ran: never whatever a path names today
    expect = manifest.get("source_hash") or next((r.source_hash for r in runs if r.source_hash), None)
    if not expect:
        raise OptionError("resume", ref, "a batch whose script's hash was recorded (none found: start a new batch)")
    try:
        return prepare(manifest["script"], manifest["flags"], manifests.run_options(manifest), store, runner=runner,
                       batch_id=manifest["id"], resumed=done, want_model=want_model, expect_source=expect,
                       expect_names=manifest.get("names_hash"))
    except _SourceChanged as exc:
        raise OptionError("resume", ref, exc.args[0]) from None


class _SourceChanged(Exception):
    """The script's text, or a cell's notebook values, differ from the ones the batch ran with."""


def _still_running(batch_id: str, ref: str | None = None) -> OptionError:
    return OptionError("resume", ref or batch_id[:8],
                       f"a batch that no process is running; batch {batch_id[:8]} is still running: stop it first")
