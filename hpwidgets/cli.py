"""The `hpw` command: run, runs, compare. A thin adapter: it parses, calls the core, prints.

Imports stay lazy so that `hpw compare` starts fast (no numpy, pandas or skopt unless needed).
"""

from __future__ import annotations

import signal
import sys
from typing import TextIO

USAGE = """usage: hpw COMMAND [ARGS]

commands:
  run SCRIPT [NAME=VALUE ...]   run a script, or a batch of trials of it
  runs [rm RUN ...]             list runs, newest first; delete runs
  compare                       compare runs (--top N --min COL --table --csv PATH)

`hpw COMMAND -h` tells more."""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    handlers = {"run": _run, "runs": _runs, "compare": _compare}
    if command not in handlers:
        print(f"hpw: error: unknown command {command!r} (accepted: run, runs, compare)", file=sys.stderr)
        return 2
    from .arguments import UsageError, _HelpShown, option_names
    from .core.errors import HpwError, OptionError

    try:
        return handlers[command](rest)
    except _HelpShown:
        return 0
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OptionError as exc:
        print(f"hpw {command}: error: {exc.renamed(option_names())}", file=sys.stderr)
        return 1
    except HpwError as exc:
        print(f"hpw {command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0


def _confirm(text: str, stream: TextIO = sys.stdin) -> bool:
    print(text, file=sys.stderr)
    print("Continue? (Y/n) ", end="", file=sys.stderr, flush=True)
    answer = stream.readline()
    if not answer:  # no one to ask
        print("\nno answer on standard input: pass -y to run without asking", file=sys.stderr)
        return False
    return answer.strip().lower() in ("", "y", "yes")


def _run(args: list[str]) -> int:
    from .arguments import run_parser
    from .console import echo_to, prepare_batch, preview_lines

    ns = run_parser().parse_args(args)
    batch = prepare_batch(ns)
    if ns.preview:
        print(batch.describe())
        for line in preview_lines(batch):
            print(line)
        return 0
    if not ns.yes and not _confirm(batch.describe()):
        return 0
    echo_to(batch, sys.stdout)
    try:
        _stop_on_hangup()
        batch.start()
    except KeyboardInterrupt as exc:
        done = batch.finished
        print(f"\nhpw run: stopped; {done.counts['completed'] if done else 0} finished runs kept, "
              "the running ones terminated", file=sys.stderr)
        return 128 + getattr(exc, "signum", signal.SIGINT)
    done = batch.finished
    if not batch.plan.is_batch:
        return 0 if done and done.counts["completed"] == 1 else 1
    return 1 if done and done.status == "failed" else 0


class _Signalled(KeyboardInterrupt):
    """SIGTERM or SIGHUP (a closed SSH session, `timeout`): stop the batch as Ctrl-C does."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop_on_hangup() -> None:
    def stop(signum: int, frame: object) -> None:
        for sig in (signal.SIGTERM, signal.SIGHUP):  # once: the clean-up must not be cut short
            signal.signal(sig, signal.SIG_IGN)
        raise _Signalled(signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)


def _compare(args: list[str]) -> int:
    from .arguments import compare_parser
    from .console import compare_command
    from .core import compare

    ns = compare_parser().parse_args(args)
    rows, columns = compare_command(ns, note=sys.stderr)
    if ns.csv and not ns.table:
        return 0
    print(compare.table(rows, columns))
    return 0


def _runs(args: list[str]) -> int:
    from .arguments import runs_parser
    from .core import compare
    from .core.store import Store

    ns = runs_parser().parse_args(args)
    store = Store()
    store.reap_orphans()
    if ns.action == "rm":
        if not ns.refs:
            print("hpw runs rm: error: name the runs to delete (accepted: run ids or their first characters)",
                  file=sys.stderr)
            return 2
        records = [store.get(ref) for ref in ns.refs]
        if not ns.yes:
            listing = "\n".join(f"  {r.short_id}  {r.operation}  {r.status.value}  {r.label}" for r in records)
            if not _confirm(f"You are about to delete {len(records)} run(s):\n{listing}"):
                return 0
        deleted = store.delete([r.id for r in records])
        print(f"Deleted {len(deleted)} run(s)")
        return 0
    records = store.runs(limit=None if ns.all else 20)
    for i, r in enumerate(records, 1):
        print(f"[{i}] {r.short_id}  {compare.cell(r, 'started')}  {r.operation}  {r.status.value:<10}  {r.label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
