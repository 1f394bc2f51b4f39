"""``%hprun``, ``%%hprun``, ``%hpwatch``, ``%hpcompare``, ``%hpruns`` and ``%hpplot``: the CLI's commands with the CLI's own parsers.

The raw line reaches ``shlex`` (no ``$var``/``{expr}`` expansion), so a line behaves as it does
after ``hpw``. There is no y/n prompt: the plan heads the dashboard. Errors are one line (an
IPython UsageError), never a traceback. A trailing ``;`` silences the returned value, as it
does for any cell.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class, no_var_expand

from hpwidgets.arguments import (
    HelpShown,
    UsageError,
    compare_parser,
    option_names,
    plot_parser,
    run_parser,
    split,
)
from hpwidgets.core.errors import HpwError, OptionError


def _one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    prog = command.__name__.removesuffix("_cell")  # %%hprun's errors read as %hprun's

    @functools.wraps(command)
    def magic(self: Any, line: str, *cell: str) -> Any:
        line = line.strip()
        silent = line.endswith(";")
        try:
            result = command(self, line[:-1] if silent else line, *cell)
        except HelpShown:
            return None
        except UsageError as exc:
            raise IPythonUsageError(str(exc)) from None
        except OptionError as exc:
            raise IPythonUsageError(f"%{prog}: error: {exc.renamed(option_names())}") from None
        except HpwError as exc:
            raise IPythonUsageError(f"%{prog}: error: {exc}") from None
        return None if silent else result

    return magic


@magics_class
class HpMagics(Magics):
    @no_var_expand
    @line_magic
    @_one_line_errors
    def hprun(self, line: str) -> Any:
        """%hprun SCRIPT [NAME=VALUE ...] [--optimizer gp] [--truth FN] [--wait] ...: run a batch
        with a live dashboard. Without --wait the batch runs on a background thread and the cell
        returns at once. Returns the Batch. `%hprun -h` lists every option."""
        return self._run(run_parser("%hprun", notebook=True).parse_args(split(line)))

    @no_var_expand
    @cell_magic("hprun")
    @_one_line_errors
    def hprun_cell(self, line: str, cell: str) -> Any:
        """%%hprun [NAME=VALUE ...] [options]: the cell's body is the trial, run as a script in a
        fresh interpreter (its literal assignments are its flags); the notebook's names it uses
        reach the trial as copies. Every %hprun option works."""
        from hpwidgets.core.run.cell_scripts import write_cell
        from hpwidgets.core.store.runstore import Store

        args = split(line)  # first, so that a line that does not split writes nothing
        path = write_cell(Store(), cell, self.shell.user_ns)  # `%hprun --resume BATCH` finds it again
        return self._run(run_parser("%%hprun", notebook=True).parse_args([path, *args]))

    def _run(self, ns: Any) -> Any:
        from hpwidgets.console import help_flags, prepare_batch, preview_lines
        from hpwidgets.core.store.runstore import Store
        from hpwidgets.notebook.dashboard import show_dashboard
        from hpwidgets.notebook.running import track

        text = help_flags(ns, "%hprun")
        if text is not None:
            print(text)
            return None
        if ns.top < 1:
            raise OptionError("top", ns.top, "a positive integer")
        truth = self._truth(ns.truth)
        batch = prepare_batch(ns, "%hprun", store=Store(), want_model=True)  # the CLI's own: a new batch or --resume
        if ns.preview:
            print(batch.describe())
            print("\n".join(preview_lines(batch)))
            batch.release()
            return None
        if ns.detach:
            from hpwidgets.core.processes.detach import launch
            from hpwidgets.core.processes.watch import WatchedBatch

            launch(batch)  # a process of its own runs it; this cell follows its record
            batch = WatchedBatch(batch.id, batch.store, plan=batch.plan)
        try:
            dashboard = show_dashboard(batch, truth=truth, top=ns.top)
        except OptionError as exc:
            if exc.option != "truth":
                raise
            raise OptionError("truth", ns.truth, exc.accepted) from None  # the name as given
        track(batch)
        if not ns.detach:
            batch.start(background=True)
        if ns.wait:
            try:
                batch.wait()
            except KeyboardInterrupt:  # Batch.wait stopped the batch and waited for it
                if ns.detach:
                    print("%hprun: stopped waiting; the detached batch keeps running (%hpwatch or hpw stop it)",
                          file=sys.stderr)
                    return batch
                kept = batch.snapshot().counts().done
                print(f"%hprun: stopped; {kept} finished runs kept, the running ones terminated",
                      file=sys.stderr)
            dashboard.wait_drawn(10)  # the cell ends with the last frame in it
        return batch

    @no_var_expand
    @line_magic
    @_one_line_errors
    def hpwatch(self, line: str) -> Any:
        """%hpwatch [BATCH] [--top N]: the live dashboard of a batch (its id or first characters;
        none: the newest running batch), running or finished, followed from its record in the
        store; Stop stops a detached batch."""
        from hpwidgets.arguments import batch_parser
        from hpwidgets.console import batch_to_watch
        from hpwidgets.core.processes.watch import WatchedBatch
        from hpwidgets.notebook.dashboard import show_dashboard
        from hpwidgets.notebook.running import track

        parser = batch_parser("%hpwatch", "the live dashboard of a batch, from the store", newest=True)
        parser.add_argument("--top", type=int, default=5, metavar="N", help="rows of the live table")
        ns = parser.parse_args(split(line))
        if ns.top < 1:
            raise OptionError("top", ns.top, "a positive integer")
        watched = WatchedBatch(batch_to_watch(ns.batch, "%hpwatch"))
        show_dashboard(watched, top=ns.top)
        track(watched)
        return watched

    def _truth(self, name: str | None) -> Callable[..., Any] | None:
        if name is None:
            return None
        accepted = "the name of a function defined in the notebook, such as truth"
        if name not in self.shell.user_ns:
            raise OptionError("truth", name, f"{accepted} (no such name)")
        value = self.shell.user_ns[name]
        if not callable(value):
            raise OptionError("truth", name, f"{accepted} (it is a {type(value).__name__})")
        return value

    @no_var_expand
    @line_magic
    @_one_line_errors
    def hpcompare(self, line: str) -> Any:
        """%hpcompare [--top N] [--min COL | --max COL] [--table] [--csv PATH] [--wait]: compare
        runs. Each form shows one thing: the table (returned: `c = %hpcompare` keeps it quiet,
        `c.df` is the DataFrame), the plain table (--table), or a line saying what --csv wrote."""
        from hpwidgets.console import compare_command
        from hpwidgets.core.records import RANKING_RULE, mixes_statuses
        from hpwidgets.core.results import compare
        from hpwidgets.core.results.formats import sort_value
        from hpwidgets.notebook.comparison import Comparison
        from hpwidgets.notebook.running import running_note, started_ids, wait_all

        ns = compare_parser("%hpcompare", notebook=True).parse_args(split(line))
        if ns.wait:
            wait_all()
        else:
            note = running_note()
            if note:
                print(note, file=sys.stderr)
        mine = started_ids()
        rows, columns, scope = compare_command(ns, note=sys.stdout, batches=set(mine) if ns.kernel else None)
        if ns.table:
            print(compare.table(rows, columns))
            return None
        if ns.csv:
            return None
        sort = ns.min or ns.max
        rule = f"; {RANKING_RULE}" if sort and mixes_statuses(rows, lambda r: sort_value(r, sort)) else ""
        order = f", by {sort} ({'lowest' if ns.min else 'highest'} first{rule})" if sort else ""
        chosen = columns if ns.columns or ns.skip_core else None
        return Comparison(rows, scope.text(len(rows)) + order + _scope_hint(ns, scope, mine), sort, chosen)

    @no_var_expand
    @line_magic
    @_one_line_errors
    def hpplot(self, line: str) -> Any:
        """%hpplot [BATCH] [--kind objective|parallel|importance|partial] [-o FILE.png]: a view of a
        batch (default: the newest) as a picture; -o writes it to a file instead."""
        from hpwidgets.pictures.batchplot import plot

        ns = plot_parser("%hpplot", notebook=True).parse_args(split(line))
        view = plot(ns.batch, ns.kind)
        if ns.output:
            view.save(ns.output)
            print(f"wrote the {ns.kind} view to {ns.output}")
            return None
        return view

    @no_var_expand
    @line_magic
    @_one_line_errors
    def hpruns(self, line: str) -> None:
        """%hpruns [FILTERS] | info RUN | cat RUN [--tail N] | label RUN... TEXT | tag RUN... --add T
        | rm RUN... -y | restore RUN... | purge RUN... -y: the `hpw runs` commands (a notebook does
        not ask: rm and purge need -y). `info` also shows the run's output."""
        from hpwidgets.runcmds import cat, runs

        args = split(line)
        if args[:1] == ["cat"]:
            cat(args[1:], "%hpruns cat", sys.stdout)
            return None
        runs(args, "%hpruns", sys.stdout, None)
        if args[:1] == ["info"]:  # the notebook shows the output with the attributes
            print("output:")
            cat(args[1:], "%hpruns info", sys.stdout)
        return None


def _display_batch(batch: Any) -> None:
    """A Batch as a cell's value: nothing under its own dashboard (which already shows it),
    else one line."""
    from IPython.display import display

    from hpwidgets.notebook.dashboard import is_shown

    if not is_shown(batch):
        display({"text/plain": repr(batch)}, raw=True)


def _scope_hint(ns: Any, scope: Any, mine: list[str]) -> str:
    """What the caption adds about scope: this kernel's batches only, or how to ask for them."""
    if ns.kernel:
        return " (this kernel's batches only)"
    if mine and len(scope.scripts) > 1:
        return " (every batch in the store: --kernel keeps this kernel's own)"
    return ""


def load_ipython_extension(ipython: Any) -> None:
    from hpwidgets.core.run.batch import Batch

    ipython.register_magics(HpMagics)
    from hpwidgets.core.processes.watch import WatchedBatch

    for kind in (Batch, WatchedBatch):
        ipython.display_formatter.ipython_display_formatter.for_type(kind, _display_batch)
