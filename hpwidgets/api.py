"""The Python API: ``hp.run``, ``hp.watch``, ``hp.stop``, ``hp.compare``, ``hp.runs``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hpwidgets.core.processes.watch import WatchedBatch
from hpwidgets.core.records import RunRecord
from hpwidgets.core.results import compare as _compare
from hpwidgets.core.run.batch import Batch, prepare
from hpwidgets.core.run.handle import BatchHandle
from hpwidgets.core.search.plan import RunOptions
from hpwidgets.core.search.run_options import RUN_OPTIONS
from hpwidgets.core.store.query import RunQuery
from hpwidgets.core.store.runstore import Store


def run(
    target: str | Callable[..., Any],
    flags: dict[str, Any] | None = None,
    *,
    optimizer: str | None = None,
    max_trials: int | None = None,
    random_seed: int | None = None,
    minimize: str | None = None,
    maximize: str | None = None,
    opt_flags: dict[str, Any] | None = None,
    label: str | None = None,
    tags: tuple[str, ...] | list[str] = (),
    timeout: float | None = None,
    fail_fast: bool = False,
    workers: int = 1,
    dask: Any = None,
    retries: int = 0,
    dask_files_max: int = 100 * 1024 * 1024,
    prune: str | None = None,
    prune_flags: dict[str, Any] | None = None,
    output_scalars: tuple[str, ...] | list[str] = (),
    builtin_scalars: bool = True,
    store: Store | str | None = None,
    show: bool = False,
    background: bool = False,
    truth: Callable[[float], float] | None = None,
    top: int = 5,
    detach: bool = False,
) -> Batch | WatchedBatch:
    """Run a script (a path) or a function's trials; blocks unless ``background`` and returns the Batch.

    ``flags`` maps flag names to values in the flag syntax (``"[-2.0:2.0]"``) or Python values
    (a list is a grid). ``show=True`` displays the live dashboard in a notebook.
    ``optimizer`` is grid, random, gp (bayesian, gaussian), forest or gbrt (default: grid, or
    random when a flag has a range); ``max_trials`` caps the trials (default 20; a grid: its
    size); ``random_seed`` makes a search reproducible. ``minimize`` or ``maximize`` names the
    scalar to optimize (default: minimize loss); ``opt_flags`` are the optimizer's settings
    (``{"random-starts": 5, "prev-trials": "sourcecode"}``). ``label`` and ``tags`` mark the
    runs. ``fail_fast`` stops the batch at the first failed trial; ``workers`` runs that many
    trials at once.
    ``dask`` (a scheduler address or a ``distributed.Client``) runs a script's trials on that
    cluster, as many at once as it has threads unless ``workers`` says otherwise; ``retries``
    runs a trial again when its Dask worker is lost; ``dask_files_max`` caps the bytes of a Dask
    trial's files brought back into its run directory. ``timeout`` kills a script's trial; a
    function's trials run in this process, which cannot kill them, so it is refused there.
    ``prune`` ("median" or "asha") stops unpromising trials early, with ``prune_flags``
    as its settings (``{"reduction": 3}``).
    ``output_scalars`` are patterns for scalars in a script's output, in Guild's syntax
    (``r"(\\key)=(\\value)"``), read before the built-in formats; ``builtin_scalars`` False
    reads none of those.
    ``detach=True`` runs a script's batch in a process of its own that outlives this one (a
    kernel restart or shutdown) and returns a ``WatchedBatch`` that follows it from the store;
    ``hp.watch(BATCH)`` follows it from anywhere, ``hp.stop(BATCH)`` stops it.
    """
    given = locals()  # this call's arguments, among them every run option (tests/test_run_options.py)
    options = RunOptions(**{o.name: given[o.name] for o in RUN_OPTIONS})
    batch = prepare(target, flags, options, _store(store), want_model=show)
    if detach:
        from hpwidgets.core.processes.detach import launch

        launch(batch)
        watched = WatchedBatch(batch.id, batch.store, plan=batch.plan)
        if show:
            _show(watched, truth, top)
        if not background:
            watched.wait()
        return watched
    if show:
        from hpwidgets.notebook.dashboard import show_dashboard
        from hpwidgets.notebook.running import track

        dashboard = show_dashboard(batch, truth=truth, top=top)
        track(batch)
        batch.start(background=background)
        if not background:
            dashboard.wait_drawn(10)  # the cell ends with the last frame in it
        return batch
    return batch.start(background=background)


def watch(batch: str, store: Store | str | None = None, *, show: bool = True,
          truth: Callable[[float], float] | None = None, top: int = 5) -> WatchedBatch:
    """Follow a batch (its id or first characters) from its record in the store, running or
    finished; in a notebook ``show`` displays the live dashboard, whose Stop stops a detached batch."""
    watched = WatchedBatch(batch, _store(store))
    if show:
        _show(watched, truth, top)
    return watched


def stop(batch: str, store: Store | str | None = None) -> str:
    """Stop a batch started with ``detach=True``; returns one line saying what was kept."""
    from hpwidgets.core.processes.detach import stop as stop_batch

    return stop_batch(_store(store), batch)


def _show(watched: WatchedBatch, truth: Callable[[float], float] | None, top: int) -> None:
    from hpwidgets.notebook.dashboard import show_dashboard
    from hpwidgets.notebook.running import track

    show_dashboard(watched, truth=truth, top=top)
    track(watched)


def compare(
    top: int | None = None,
    min: str | None = None,
    max: str | None = None,
    batch: str | None = None,
    operation: str | None = None,
    store: Store | str | None = None,
):
    """Runs as a DataFrame with the columns of ``hpw compare``, sorted and cut as asked."""
    store = _store(store)
    store.reap_orphans()
    batch = store.resolve_batch(batch) if batch else None
    rows = _compare.select(store.listing(RunQuery(batch=batch, operation=operation)), top, min, max)
    return _compare.records_frame(rows)


def runs(limit: int | None = None, store: Store | str | None = None) -> list[RunRecord]:
    """Run records, newest first (runs whose process died read as terminated)."""
    store = _store(store)
    store.reap_orphans()
    return store.runs(limit=limit)


def plot(batch: BatchHandle | str | None = None, kind: str = "objective", store: Store | str | None = None):
    """A view of a batch (a Batch or a watched one, a batch id or its first characters; None: the
    newest stored batch) as a ``FlagPlot``: ``.figure`` is the matplotlib Figure, ``.save(path)`` writes a PNG,
    a notebook shows it. ``kind``: objective, parallel, importance or partial."""
    from hpwidgets.pictures.batchplot import plot as draw

    return draw(batch, kind, None if isinstance(batch, BatchHandle) else _store(store))


def _store(store: Store | str | None) -> Store:
    return store if isinstance(store, Store) else Store(store)
