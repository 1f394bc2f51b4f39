"""The one argument parser behind both ``hpw run`` and ``%hprun`` (and compare, runs)."""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from .core.errors import HpwError
from .core.plan import RunOptions, parse_assignments


class UsageError(HpwError):
    """The command line does not parse; the message is argparse's, with the command's name."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # raise instead of exiting: the library never exits
        raise UsageError(f"{self.prog}: error: {message}")

    def exit(self, status: int = 0, message: str | None = None):
        if message:
            raise UsageError(message.strip())
        raise _HelpShown()


class _HelpShown(Exception):
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
    p.add_argument("-l", "--label", help="label for the runs (default: their flags)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="kill a trial that runs longer")
    p.add_argument("--fail-fast", action="store_true", help="stop the batch at the first failed trial")
    p.add_argument("-w", "--workers", type=int, default=1, metavar="N",
                   help="trials at once (default 1; with --dask: the cluster's thread count)")
    p.add_argument("--dask", metavar="ADDRESS", help="run the trials on this Dask scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--retries", type=int, default=0, metavar="N",
                   help="with --dask: run a trial again, up to N times, when its worker is lost")
    p.add_argument("--resume", metavar="BATCH", help="finish an interrupted batch (its finished trials count)")
    p.add_argument("--preview", "--print-trials", action="store_true", help="show the plan and the trials; run nothing")
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
    p.add_argument("--table", action="store_true", help="print a plain table")
    p.add_argument("--csv", metavar="PATH", help="write the rows as CSV to PATH (- for standard output)")
    p.add_argument("--batch", metavar="BATCH", help="only the runs of this batch")
    p.add_argument("--operation", metavar="SCRIPT", help="only the runs of this script")
    if notebook:
        p.add_argument("--wait", action="store_true", help="first wait for the batches this kernel is running")
    return p


def runs_parser(prog: str = "hpw runs") -> Parser:
    p = Parser(prog=prog, description="List runs, newest first; `rm RUN...` deletes runs.")
    p.add_argument("action", nargs="?", choices=["list", "rm"], default="list")
    p.add_argument("refs", nargs="*", metavar="RUN", help="run ids (or their first characters) for rm")
    p.add_argument("-a", "--all", action="store_true", help="all runs, not the newest 20")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask before deleting")
    return p


def option_names() -> dict[str, str]:
    """The Python API's keyword for each option (``max_trials``) -> how a command line spells it
    (``--max-trials``), read off the parsers: adapters rename the core's errors with it."""
    names = {"opt_flags": "-Fo", "flags": "flag"}
    for parser in (run_parser(notebook=True), compare_parser(), runs_parser()):
        for action in parser._actions:
            long = [s for s in action.option_strings if s.startswith("--")]
            if long and action.dest != "help":
                names.setdefault(action.dest, long[0])
    return names


def split(line: str) -> list[str]:
    """A magic's line split as a POSIX shell would split the same command line."""
    try:
        return shlex.split(line, comments=True)
    except ValueError as exc:
        raise UsageError(f"cannot split the line: {exc}") from None


def run_options(ns: argparse.Namespace) -> RunOptions:
    return RunOptions(
        optimizer=ns.optimizer,
        max_trials=ns.max_trials,
        random_seed=ns.random_seed,
        minimize=ns.minimize,
        maximize=ns.maximize,
        opt_flags=parse_opt_flags(ns.opt_flag),
        label=ns.label,
        timeout=ns.timeout,
        fail_fast=ns.fail_fast,
        workers=ns.workers,
        retries=ns.retries,
        dask=ns.dask,
    )


def parse_opt_flags(items: list[str]) -> dict[str, str]:
    from .core.errors import OptionError

    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise OptionError("-Fo", item, "NAME=VALUE, such as -Fo random-starts=5")
        out[name.strip()] = value
    return out


def flag_values(ns: argparse.Namespace) -> dict[str, Any]:
    return dict(parse_assignments(ns.flags))
