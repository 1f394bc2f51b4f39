"""The one argument parser behind both ``hpw run`` and ``%hprun`` (and compare, runs)."""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from hpwidgets.core.errors import HpwError
from hpwidgets.core.search.plan import RunOptions, parse_assignments
from hpwidgets.core.search.run_options import cli_names


class UsageError(HpwError):
    """The command line does not parse; the message is argparse's, with the command's name."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # raise instead of exiting: the library never exits
        raise UsageError(f"{self.prog}: error: {message}")

    def exit(self, status: int = 0, message: str | None = None):
        if message:
            raise UsageError(message.strip())
        raise HelpShown()


class HelpShown(Exception):
    """-h was given and the help text is already printed."""


def run_parser(prog: str = "hpw run", notebook: bool = False) -> Parser:
    p = Parser(prog=prog, description="Run a script (or a batch of trials of it) with flags set.")
    p.add_argument("script", nargs="?", help="the Python script to run, such as train.py")
    p.add_argument("flags", nargs="*", metavar="NAME=VALUE",
                   help="flag values in Guild's syntax: x=0.1, x=[-2,0,2], x=[-2.0:2.0], lr=loguniform[1e-4:1e-1]")
    p.add_argument("-o", "--optimizer", help="grid, random, gp (bayesian, gaussian), forest or gbrt")
    p.add_argument("-m", "--max-trials", type=int, metavar="N", help="trials in a search (default 20; a grid: its size)")
    p.add_argument("--random-seed", type=int, metavar="N", help="seed for reproducible searches")
    p.add_argument("-N", "--minimize", metavar="COL", help="the scalar to minimize (default: loss)")
    p.add_argument("-X", "--maximize", metavar="COL", help="the scalar to maximize")
    p.add_argument("-Fo", "--opt-flag", action="append", default=[], metavar="NAME=VAL",
                   help="optimizer flag: random-starts, acq-func, kappa, xi, noise, prev-trials")
    p.add_argument("--prune", metavar="PRUNER", help="stop unpromising trials early: median or asha")
    p.add_argument("-Fp", "--prune-flag", action="append", default=[], metavar="NAME=VAL",
                   help="pruner setting: median: warmup-steps, min-trials; asha: min-step, reduction")
    p.add_argument("--output-scalars", action="append", default=[], metavar="PATTERN",
                   help=r"read scalars with this pattern too, in Guild's syntax: '(\key)=(\value)', "
                        r"'val=(?P<val_loss>\value)' (repeatable)")
    p.add_argument("--no-output-scalars", dest="builtin_scalars", action="store_false",
                   help="read none of the built-in output formats (only --output-scalars patterns)")
    p.add_argument("-l", "--label", help="label for the runs (default: their flags)")
    p.add_argument("--tag", action="append", default=[], dest="tags", metavar="TAG",
                   help="a tag for the runs (repeatable)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="kill a trial that runs longer")
    p.add_argument("--fail-fast", action="store_true", help="stop the batch at the first failed trial")
    p.add_argument("-w", "--workers", type=int, default=1, metavar="N",
                   help="trials at once (default 1; with --dask: the cluster's thread count)")
    p.add_argument("--dask", metavar="ADDRESS", help="run the trials on this Dask scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--retries", type=int, default=0, metavar="N",
                   help="with --dask: run a trial again, up to N times, when its worker is lost")
    p.add_argument("--dask-files-max", type=float, default=100, metavar="MB",
                   help="with --dask: bring back at most MB megabytes of a trial's files into its run (default 100)")
    p.add_argument("--resume", metavar="BATCH", help="finish an interrupted batch (its finished trials count)")
    p.add_argument("--preview", "--print-trials", action="store_true", help="show the plan and the trials; run nothing")
    p.add_argument("--detach", action="store_true",
                   help="run the batch in a process of its own that outlives this one (hpw watch, hpw stop)")
    p.add_argument("--help-flags", "--help-op", action="store_true",
                   help="list the script's flags with their types and defaults; run nothing")
    if notebook:
        p.add_argument("--truth", metavar="NAME", help="a function of the notebook giving the noiseless objective")
        p.add_argument("--wait", action="store_true", help="block until the batch ends")
        p.add_argument("--top", type=int, default=5, metavar="N", help="rows of the live table")
    else:
        p.add_argument("-y", "--yes", action="store_true", help="do not ask before running")
    return p


def compare_parser(prog: str = "hpw compare", notebook: bool = False) -> Parser:
    p = Parser(prog=prog, description="Compare runs: Guild's columns, best first with --min/--max.")
    p.add_argument("-n", "--top", "--limit", type=int, metavar="N", help="show the first N runs")
    sort = p.add_mutually_exclusive_group()
    sort.add_argument("--min", metavar="COL", help="sort by COL, lowest first")
    sort.add_argument("--max", metavar="COL", help="sort by COL, highest first")
    p.add_argument("-t", "--table", action="store_true", help="print a plain table")
    p.add_argument("--csv", metavar="PATH", help="write the rows as CSV to PATH (- for standard output)")
    p.add_argument("-c", "--columns", metavar="COLS",
                   help="the columns, comma-separated: flags, scalars, run attributes, 'min loss', 'max loss', 'last loss'")
    p.add_argument("--skip-core", action="store_true", help="leave out operation, started, time, status and label")
    add_filter_args(p)
    if notebook:
        p.add_argument("--wait", action="store_true", help="first wait for the batches this kernel is running")
        p.add_argument("--kernel", action="store_true", help="only the runs of the batches this kernel started")
    return p


def plot_parser(prog: str = "hpw plot", notebook: bool = False) -> Parser:
    p = Parser(prog=prog, description="Draw a view of a batch: objective, parallel, importance or partial.")
    p.add_argument("batch", nargs="?", metavar="BATCH", help="a batch id or its first characters (default: the newest)")
    p.add_argument("-k", "--kind", default="objective", metavar="KIND",
                   help="objective (and best so far) by trial, parallel coordinates, flag importance, "
                        "or partial dependence (default: objective)")
    p.add_argument("-o", "--output", metavar="FILE.png", required=not notebook,
                   help="write the picture to FILE.png" + ("" if notebook else " (required)"))
    return p


def add_filter_args(p: argparse.ArgumentParser) -> None:
    """Guild's run filters, the same for runs, compare and runs rm (see core/results/filters.py)."""
    g = p.add_argument_group("filters")
    g.add_argument("-o", "--operation", "--op", action="append", default=[], dest="operations", metavar="VAL",
                   help="runs whose operation contains VAL (repeatable)")
    g.add_argument("-l", "--label", action="append", default=[], dest="labels", metavar="VAL",
                   help="runs whose label contains VAL (repeatable)")
    g.add_argument("-U", "--unlabeled", action="store_true", help="runs without a label")
    g.add_argument("--tag", action="append", default=[], dest="tags", metavar="TAG", help="runs with TAG (repeatable)")
    for short, name in (("-R", "running"), ("-C", "completed"), ("-E", "failed"), ("-T", "terminated"),
                        ("-P", "pending")):
        names = [short, f"--{name}"] + (["--error"] if name == "failed" else [])
        g.add_argument(*names, action="store_true", help=f"{name} runs")
    g.add_argument("-B", "--batch", metavar="PREFIX", help="runs of the batch whose id starts with PREFIX")
    g.add_argument("--started", type=_started, metavar="RANGE",
                   help="runs started in RANGE: 'last hour', 'last 2 days', 'today', 'yesterday', 'this week', "
                        "'after 2026-11-01', 'between 09:00 and 12:00'")
    g.add_argument("--filter", type=_value_test, action="append", default=[], dest="values", metavar="EXPR",
                   help="runs whose flag compares so: 'x > 0.5', 'optimizer = adam', 'scalar:loss < 0.3' "
                        "(OP one of = != < <= > >=; repeatable: every one holds)")


def _value_test(text: str):
    from hpwidgets.core.results.filters import parse_filter

    try:
        return parse_filter(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid EXPR: {exc}") from None


def _started(text: str):
    from hpwidgets.core.results.filters import parse_started

    try:
        return parse_started(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid RANGE: {exc}") from None


def run_filter(ns: argparse.Namespace):
    from hpwidgets.core.records import Status
    from hpwidgets.core.results.filters import RunFilter

    statuses = frozenset(s for s in Status if getattr(ns, s.value, False))
    return RunFilter(operations=tuple(ns.operations), labels=tuple(ns.labels), unlabeled=ns.unlabeled,
                     tags=tuple(ns.tags), statuses=statuses, batch=ns.batch, started=ns.started,
                     values=tuple(ns.values))


RUNS_SUBCOMMANDS = ("list", "ls", "info", "rm", "delete", "restore", "purge", "label", "tag")


def runs_parser(prog: str = "hpw runs", action: str = "list") -> Parser:
    """The parser of one `runs` subcommand (the first word picks it; see split_runs_action)."""
    refs_help = "runs: list indexes (1, 2:5) or the first characters of run ids"
    p = Parser(prog=prog if action == "list" else f"{prog} {action}")
    if action in ("list", "ls"):
        p.description = "List runs, newest first."
        p.add_argument("-a", "--all", action="store_true", help="all runs, not the newest 20")
        p.add_argument("-d", "--deleted", action="store_true", help="the runs in the trash")
    elif action == "info":
        p.description = "Show a run: flags, status, times, scalars, its directory (default: the newest)."
        p.add_argument("refs", nargs="?", metavar="RUN", help=refs_help)
        p.add_argument("-d", "--deleted", action="store_true", help="a run in the trash")
    elif action == "label":
        p.description = "Set the label of runs: RUN... TEXT (or --clear)."
        p.add_argument("refs", nargs="+", metavar="RUN... TEXT")
        p.add_argument("--clear", action="store_true", help="remove the label (every argument is a run)")
    elif action == "tag":
        p.description = "Add or delete tags of runs."
        p.add_argument("refs", nargs="+", metavar="RUN", help=refs_help)
        p.add_argument("-a", "--add", action="append", default=[], metavar="TAG", help="add TAG (repeatable)")
        p.add_argument("-d", "--delete", action="append", default=[], metavar="TAG", help="delete TAG (repeatable)")
    else:
        what = {"rm": "Move runs to the trash (--permanent: delete them)", "delete": "Move runs to the trash",
                "restore": "Bring runs back from the trash", "purge": "Delete runs in the trash for good"}[action]
        p.description = f"{what}. Without RUN: every run the filters select (a filter is required)."
        p.add_argument("refs", nargs="*", metavar="RUN", help=refs_help)
        p.add_argument("-y", "--yes", action="store_true", help="do not ask")
        if action in ("rm", "delete"):
            p.add_argument("-p", "--permanent", action="store_true", help="delete for good, not into the trash")
    if action not in ("label", "tag"):
        add_filter_args(p)
    return p


def batch_parser(prog: str, what: str, newest: bool = False) -> Parser:
    """`hpw watch [BATCH]` and `hpw stop BATCH`; ``newest``: BATCH may be left out for the
    newest running batch."""
    p = Parser(prog=prog, description=what)
    if newest:
        p.add_argument("batch", nargs="?", metavar="BATCH",
                       help="a batch id or its first characters (default: the newest running batch)")
    else:
        p.add_argument("batch", metavar="BATCH", help="a batch id or its first characters")
    return p


def option_names() -> dict[str, str]:
    """The Python API's keyword for each option (``max_trials``) -> how a command line spells it
    (``--max-trials``): the run options' declared names, the rest read off the parsers; adapters
    rename the core's errors with it."""
    names = {**cli_names(), "flags": "flag"}
    for parser in (run_parser(notebook=True), compare_parser(), runs_parser(), plot_parser()):
        for action in parser._actions:
            long = [s for s in action.option_strings if s.startswith("--")]
            if long and action.dest != "help":
                names.setdefault(action.dest, long[0])
    return names


def split_runs_action(args: list[str]) -> tuple[str, list[str]]:
    """`runs rm -y ID` -> ("rm", ["-y", "ID"]); no known first word -> ("list", args)."""
    if args and args[0] in RUNS_SUBCOMMANDS:
        return args[0], args[1:]
    return "list", args


def batches_parser(prog: str = "hpw batches", action: str = "list") -> Parser:
    p = Parser(prog=prog if action == "list" else f"{prog} {action}")
    if action == "info":
        p.description = "Show a batch: its plan, optimizer and flags, trial counts and best run (default: the newest)."
        p.add_argument("ref", nargs="?", metavar="BATCH", help="a list index (1) or the first characters of a batch id")
    else:
        p.description = "List batches, newest first."
        p.add_argument("-a", "--all", action="store_true", help="all batches, not the newest 20")
    add_filter_args(p)
    return p


def tensorboard_parser(prog: str = "hpw tensorboard") -> Parser:
    p = Parser(prog=prog, description="Show runs in TensorBoard: their series as scalars, their flags and final "
                                      "scalars as HParams (the runs `hpw runs` lists, filtered alike).")
    p.add_argument("--logdir", metavar="DIR", help="write the runs here (default: tensorboard/ in the store)")
    p.add_argument("--port", type=int, default=6006, metavar="N", help="TensorBoard's port (default 6006)")
    p.add_argument("--no-start", action="store_true", help="write the log directory; start nothing")
    add_filter_args(p)
    return p


def cat_parser(prog: str = "hpw cat") -> Parser:
    p = Parser(prog=prog, description="Print a run's output (default: the newest run's).")
    p.add_argument("refs", nargs="?", metavar="RUN", help="a list index (1) or the first characters of a run id")
    p.add_argument("--tail", type=int, metavar="N", help="only the last N lines")
    p.add_argument("-d", "--deleted", action="store_true", help="a run in the trash")
    add_filter_args(p)
    return p


def intermixed(parser: Parser, args: list[str]) -> argparse.Namespace:
    """Options anywhere on the line: `runs rm -y ID` as well as `runs rm ID -y`."""
    ns = parser.parse_intermixed_args(args)
    ns.prog = parser.prog
    return ns


def split(line: str) -> list[str]:
    """A magic's line split as a POSIX shell would split the same command line."""
    try:
        return shlex.split(line, comments=True)
    except ValueError as exc:
        raise UsageError(f"cannot split the line: {exc}") from None


def run_options(ns: argparse.Namespace) -> RunOptions:
    from hpwidgets.core.errors import OptionError

    if ns.dask_files_max < 0:
        raise OptionError("dask_files_max", ns.dask_files_max, "0 or a positive number of megabytes")
    return RunOptions(
        optimizer=ns.optimizer,
        max_trials=ns.max_trials,
        random_seed=ns.random_seed,
        minimize=ns.minimize,
        maximize=ns.maximize,
        opt_flags=parse_opt_flags(ns.opt_flag),
        label=ns.label,
        tags=tuple(ns.tags),
        timeout=ns.timeout,
        fail_fast=ns.fail_fast,
        workers=ns.workers,
        retries=ns.retries,
        dask=ns.dask,
        dask_files_max=int(ns.dask_files_max * 1024 * 1024),
        prune=ns.prune,
        prune_flags=parse_opt_flags(ns.prune_flag, "prune_flags", "-Fp warmup-steps=5"),
        output_scalars=tuple(ns.output_scalars),
        builtin_scalars=ns.builtin_scalars,
    )


def parse_opt_flags(items: list[str], option: str = "opt_flags", example: str = "-Fo random-starts=5") -> dict[str, str]:
    """``-Fo`` / ``-Fp`` items, each NAME=VALUE."""
    from hpwidgets.core.errors import OptionError

    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise OptionError(option, item, f"NAME=VALUE, such as {example}")
        out[name.strip()] = value
    return out


def flag_values(ns: argparse.Namespace) -> dict[str, Any]:
    return dict(parse_assignments(ns.flags))
