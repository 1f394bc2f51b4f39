"""The `hpw` command: run, runs, compare. A thin adapter: it parses, calls the core, prints.

Imports stay lazy so that `hpw compare` starts fast (no numpy, pandas or skopt unless needed).
"""

from __future__ import annotations

import signal
import sys

USAGE = """usage: hpw COMMAND [ARGS]

commands:
  run SCRIPT [NAME=VALUE ...]   run a script, or a batch of trials of it
  runs [FILTERS]                list runs, newest first (--deleted: the trash)
  runs info [RUN]               a run's flags, status, times, scalars and directory
  runs rm RUN...                move runs to the trash (--permanent: delete them)
  runs restore RUN...           bring runs back from the trash
  runs purge RUN...             delete runs in the trash for good
  batches [info BATCH]          list batches; a batch's plan, optimizer, counts and best
  watch BATCH                   follow a batch's progress until it ends
  stop BATCH                    stop a batch started with `hpw run --detach`
  cat [RUN] [--tail N]          a run's output
  label RUN... TEXT             set the label of runs
  tag RUN... --add T --delete T add or delete tags
  compare                       compare runs (--top N --min COL --table --csv PATH)
  plot [BATCH] --kind KIND -o FILE.png
                                a view of a batch: objective, parallel, importance, partial
  tensorboard [FILTERS]         the runs in TensorBoard: series, flags and final scalars (HParams)

RUN is a list index of `hpw runs` (1, 2:5) or the first characters of a run id.

`hpw COMMAND -h` tells more; `hpw --version` says which hpwidgets this is."""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    if argv[0] == "--version":
        from hpwidgets import __version__

        print(f"hpwidgets {__version__}")
        return 0
    command, rest = argv[0], argv[1:]
    handlers = {"run": _run, "runs": _runs, "batches": _batches, "compare": _compare, "cat": _cat, "label": _label,
                "tag": _tag, "plot": _plot, "watch": _watch, "stop": _stop, "tensorboard": _tensorboard}
    if command not in handlers:
        print(f"hpw: error: unknown command {command!r} (accepted: {', '.join(handlers)})", file=sys.stderr)
        return 2
    from hpwidgets.arguments import HelpShown, UsageError, option_names
    from hpwidgets.core.errors import HpwError, OptionError
    from hpwidgets.core.results.refs import SelectionError

    try:
        return handlers[command](rest)
    except HelpShown:
        return 0
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OptionError as exc:
        print(f"hpw {command}: error: {exc.renamed(option_names())}", file=sys.stderr)
        return 1
    except SelectionError as exc:  # an unknown run, column or filter value: a usage error
        print(f"hpw {command}: error: {exc}", file=sys.stderr)
        return 2
    except HpwError as exc:
        print(f"hpw {command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0


def _tensorboard(args: list[str]) -> int:
    from hpwidgets.runcmds import tensorboard

    return tensorboard(args, "hpw tensorboard", sys.stdout)


def _plot(args: list[str]) -> int:
    from hpwidgets.arguments import plot_parser
    from hpwidgets.pictures.batchplot import plot

    ns = plot_parser().parse_args(args)
    plot(ns.batch, ns.kind).save(ns.output)
    print(f"wrote the {ns.kind} view to {ns.output}")
    return 0


def _confirm(text: str) -> bool:
    from hpwidgets.runcmds import confirm

    return confirm(text, default=True)


def _run(args: list[str]) -> int:
    from hpwidgets.arguments import run_parser
    from hpwidgets.console import echo_to, help_flags, prepare_batch, preview_lines

    ns = run_parser().parse_args(args)
    text = help_flags(ns, "hpw run")
    if text is not None:
        print(text)
        return 0
    batch = prepare_batch(ns)
    if ns.preview:
        print(batch.describe())
        for line in preview_lines(batch):
            print(line)
        batch.release()
        return 0
    if not ns.yes and not _confirm(batch.describe()):
        batch.release()
        return 0
    if ns.detach:
        from hpwidgets.core.processes.detach import launch

        short = launch(batch)[:8]
        print(f"Batch {short} runs detached: `hpw watch {short}` follows it, `hpw stop {short}` stops it")
        return 0
    echo_to(batch, sys.stdout)
    try:
        stop_on_hangup()
        batch.start()
    except KeyboardInterrupt as exc:
        print(f"\nhpw run: stopped; {batch.snapshot().counts().done} finished runs kept, "
              "the running ones terminated", file=sys.stderr)
        return 128 + getattr(exc, "signum", signal.SIGINT)
    done = batch.finished
    if not batch.plan.is_batch:
        return 0 if done and done.counts["completed"] == 1 else 1
    return 1 if done and done.status == "failed" else 0


class Signalled(KeyboardInterrupt):
    """SIGTERM or SIGHUP (a closed SSH session, `timeout`): stop the batch as Ctrl-C does."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def stop_on_hangup() -> None:
    def stop(signum: int, frame: object) -> None:
        for sig in (signal.SIGTERM, signal.SIGHUP):  # once: the clean-up must not be cut short
            signal.signal(sig, signal.SIG_IGN)
        raise Signalled(signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)


def _watch(args: list[str]) -> int:
    from hpwidgets.arguments import batch_parser
    from hpwidgets.console import batch_to_watch, watch_command

    ns = batch_parser("hpw watch", "follow a batch's progress until it ends", newest=True).parse_args(args)
    try:
        return watch_command(batch_to_watch(ns.batch, "hpw watch"), sys.stdout)
    except KeyboardInterrupt:
        print("\nhpw watch: stopped watching; the batch keeps running (`hpw stop BATCH` stops it)",
              file=sys.stderr)
        return 130


def _stop(args: list[str]) -> int:
    from hpwidgets.arguments import batch_parser
    from hpwidgets.core.processes.detach import stop
    from hpwidgets.core.store.runstore import Store

    ns = batch_parser("hpw stop", "stop a batch started with `hpw run --detach`").parse_args(args)
    print(stop(Store(), ns.batch))
    return 0


def _compare(args: list[str]) -> int:
    from hpwidgets.arguments import compare_parser
    from hpwidgets.console import compare_command
    from hpwidgets.core.results import compare

    ns = compare_parser().parse_args(args)
    rows, columns, _ = compare_command(ns, note=sys.stderr)
    if ns.csv and not ns.table:
        return 0
    print(compare.table(rows, columns))
    return 0


def _runs(args: list[str]) -> int:
    from hpwidgets.runcmds import confirm, runs

    return runs(args, "hpw runs", sys.stdout, confirm)


def _batches(args: list[str]) -> int:
    from hpwidgets.runcmds import batches_command

    return batches_command(args, "hpw batches", sys.stdout)


def _cat(args: list[str]) -> int:
    from hpwidgets.runcmds import cat

    return cat(args, "hpw cat", sys.stdout)


def _label(args: list[str]) -> int:
    from hpwidgets.runcmds import runs

    return runs(["label", *args], "hpw", sys.stdout, None)


def _tag(args: list[str]) -> int:
    from hpwidgets.runcmds import runs

    return runs(["tag", *args], "hpw", sys.stdout, None)


if __name__ == "__main__":
    sys.exit(main())
