"""What the CLI and the magics share: preparing a batch from parsed arguments, the trial echo,
the trial preview and the compare command."""

from __future__ import annotations

import itertools
import os
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, TextIO

from hpwidgets.core.records import Status
from hpwidgets.core.results.formats import number
from hpwidgets.core.run.events import BatchFinished, BatchStarted, TrialFinished, TrialOutput, TrialStarted

if TYPE_CHECKING:  # `hpw compare` imports this module: keep its start-up light
    from hpwidgets.core.run.batch import Batch


def help_flags(ns: Any, prog: str) -> str | None:
    """The text of `--help-flags` when it was given (None otherwise)."""
    if not getattr(ns, "help_flags", False):
        return None
    from hpwidgets.arguments import UsageError
    from hpwidgets.core.search.flaghelp import help_flags_lines

    if not ns.script:
        raise UsageError(f"{prog}: error: --help-flags needs a script, such as {prog} train.py --help-flags")
    return "\n".join(help_flags_lines(ns.script))


def prepare_batch(ns: Any, prog: str = "hpw run", **kwargs: Any) -> Batch:
    """The batch that parsed `hpw run` / `%hprun` arguments ask for (a new one, or --resume)."""
    from hpwidgets.arguments import UsageError, flag_values, run_options
    from hpwidgets.core.run.batch import prepare, resume

    if ns.resume:
        if ns.script or ns.flags:
            raise UsageError(f"{prog}: error: --resume takes no script or flags (the batch's own are used)")
        return resume(ns.resume, **kwargs)
    if not ns.script:
        raise UsageError(f"{prog}: error: the following arguments are required: script (or --resume BATCH)")
    return prepare(ns.script, flag_values(ns), run_options(ns), **kwargs)


def echo_to(batch: Batch, stream: TextIO) -> None:
    """Print each trial's output as it comes, with a line when a trial starts and ends."""
    total = batch.plan.total
    show_trials = batch.plan.is_batch

    def echo(event: Any) -> None:
        if isinstance(event, BatchStarted) and event.resumed:
            print(f"Resuming batch {event.batch_id[:8]}: {event.resumed} of {total} trials already finished",
                  file=stream, flush=True)
        if isinstance(event, BatchStarted) and event.priors:
            count = len(event.priors)
            print(f"Found {count} earlier trial{'s' if count != 1 else ''} for use as priors "
                  f"(prev-trials={event.prev_trials})", file=stream, flush=True)
        elif isinstance(event, TrialStarted) and show_trials:
            rec = event.record
            print(f"Running trial {rec.short_id} ({rec.trial + 1}/{total}): {rec.label}", file=stream, flush=True)
        elif isinstance(event, TrialOutput):
            print(event.line, file=stream, flush=True)
        elif isinstance(event, TrialFinished) and event.record.status is not Status.COMPLETED:
            rec = event.record
            print(f"Trial {rec.short_id} {rec.status.value}: {rec.reason}", file=stream, flush=True)
        elif isinstance(event, BatchFinished) and show_trials:
            snap = batch.snapshot()
            best = event.best
            tail = f"; best {best.objective} {number(best.value)} ({best.label})" if best else ""
            print(f"Batch {event.batch_id[:8]} {event.status}: {snap.counts().text()}{tail}", file=stream, flush=True)
            missing = snap.missing_objective()
            if missing:
                print(missing, file=stream, flush=True)

    def safe_echo(event: Any) -> None:
        try:
            echo(event)
        except BrokenPipeError:  # `hpw run ... | head`: stop echoing, keep running the batch
            batch.events.unsubscribe(safe_echo)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())  # so that the exit-time flush does not fail either

    batch.events.subscribe(safe_echo)


def batch_to_watch(ref: str | None, prog: str) -> str:
    """The batch ``ref`` names, or the newest running one when ``ref`` is None."""
    from hpwidgets.core.processes.locks import newest_running
    from hpwidgets.core.results.refs import SelectionError
    from hpwidgets.core.store.runstore import Store

    if ref is not None:
        return ref
    found = newest_running(Store().batches_dir)
    if found is None:
        raise SelectionError(f"no batch is running now: {prog} BATCH follows a finished one "
                             "(hpw batches lists them)")
    return found


def watch_command(ref: str, out: TextIO, refresh: float = 1.0) -> int:
    """`hpw watch BATCH`: the progress line at each new result (rewritten in place on a terminal,
    one line per change otherwise) until the batch ends; 1 when it failed or its supervisor died."""
    import threading

    from hpwidgets.core.processes.watch import WatchedBatch
    from hpwidgets.core.results.progress import progress_text

    watched = WatchedBatch(ref)
    changed = threading.Event()
    watched.events.subscribe(lambda _event: changed.set())
    tty = out.isatty()
    shown = None
    print(watched.describe(), file=out, flush=True)
    while True:
        ended = watched.done
        snap = watched.snapshot()
        if snap.version != shown or tty:
            shown = snap.version
            line = progress_text(snap)
            print(f"\r\033[K{line}" if tty else line, end="" if tty else "\n", file=out, flush=True)
        if ended:
            break
        changed.wait(refresh)
        changed.clear()
    if tty:
        print(file=out)
    if watched.lost:
        import sys

        print(f"hpw watch: {watched.lost}", file=sys.stderr)
        return 1
    done = watched.finished
    return 1 if done is not None and done.status == "failed" else 0


def preview_lines(batch: Batch, limit: int = 50) -> list[str]:
    """The trials a grid or random search would run (a Bayesian one decides as results come)."""
    plan = batch.plan
    if plan.optimizer not in ("grid", "random"):
        return [f"Trials are chosen by the {plan.optimizer} optimizer as results arrive; "
                f"the first uses {plan.opt_flags.get('random-starts', 'its default')} random starts."]
    from hpwidgets.core.search.plan import make_optimizer

    optimizer = make_optimizer(plan)
    asked = (optimizer.ask() for _ in range(plan.total))
    trials = [p for p in itertools.islice(asked, min(plan.total, limit)) if p is not None]
    lines = ["Trials:"]
    for i, params in enumerate(trials, 1):
        lines.append(f"  [{i}] " + " ".join(f"{k}={_fmt(v)}" for k, v in sorted(params.items())))
    if plan.total > limit:
        lines.append(f"  ... {plan.total - limit} more")
    return lines


def _fmt(value: Any) -> str:
    from hpwidgets.core.search.flags import format_value

    return format_value(value)


def _stream_csv(store: Any, listing: Any, ns: Any, note: TextIO) -> list[str]:
    """Every selected run written as CSV row by row, decoded as it is written: a full export keeps
    a few hundred records in memory, not all of them. Returns the columns."""
    import sys

    from hpwidgets.core.results import compare
    from hpwidgets.core.results.columns import skip_core
    from hpwidgets.core.results.formats import full_columns

    flags, scalars = store.column_names(listing.query)
    columns = full_columns(flags, scalars)
    if ns.skip_core:
        columns = skip_core(columns)
    if ns.csv == "-":
        compare.write_rows(sys.stdout, store.stream(listing.query), columns)
        return columns
    with compare.open_csv(ns.csv) as fh:
        count = compare.write_rows(fh, store.stream(listing.query), columns)
    print(f"wrote {count} runs to {ns.csv}", file=note)
    return columns


def compare_command(ns: Any, note: TextIO, batches: Collection[str] | None = None) -> tuple[list, list[str], Any]:
    """What `hpw compare` and `%hpcompare` share: select the rows (of ``batches`` only, when
    given), write --csv; returns the rows, their columns and the comparison's ``Scope`` for the
    caller to show. A sort column that several scripts print is named on ``note``."""
    import sys

    from hpwidgets.core.errors import OptionError
    from hpwidgets.core.results import compare
    from hpwidgets.core.results.columns import parse_columns, skip_core, with_summaries
    from hpwidgets.core.store.runstore import Store
    from hpwidgets.runcmds import selected_runs, usage_error

    store = Store()
    store.reap_orphans()
    listing = selected_runs(store, ns)
    if batches is not None:  # %hpcompare --kernel: this kernel's batches among those selected
        listing = store.listing(listing.query.within(batches))
    scope = compare.Scope.of(store, listing.query, ns.min or ns.max)
    if scope.mixed():
        print(f"Note: {scope.mixed()}", file=note)
    if ns.csv and not (ns.table or ns.columns or ns.top or ns.min or ns.max):  # every run, shown nowhere: streamed
        return [], _stream_csv(store, listing, ns, note), scope
    rows = compare.select(listing, ns.top, ns.min, ns.max)
    try:
        columns = parse_columns(ns.columns, rows) if ns.columns else compare.columns_for(rows)
    except OptionError as exc:
        raise usage_error(exc) from None
    if ns.skip_core:
        columns = skip_core(columns)
    rows = with_summaries(store, rows, columns)
    if ns.csv:
        text = compare.to_csv(rows, columns)
        if ns.csv == "-":
            sys.stdout.write(text)
        else:
            compare.write_csv(ns.csv, text)
            print(f"wrote {len(rows)} runs to {ns.csv}", file=note)
    return rows, columns, scope
