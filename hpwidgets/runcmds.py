"""`hpw runs ...`, `hpw cat`, `hpw label`, `hpw tag`, shared by the CLI and `%hpruns`.

Each command parses with the one parser (arguments.py), names runs through core/results/refs.py, and
writes to ``out``. ``ask`` shows a prompt and returns the answer; the notebook passes None and
then a destructive command needs ``-y``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from hpwidgets.arguments import (
    UsageError,
    cat_parser,
    intermixed,
    option_names,
    run_filter,
    runs_parser,
    split_runs_action,
)
from hpwidgets.core.errors import HpwError, OptionError
from hpwidgets.core.records import RunRecord
from hpwidgets.core.results import refs
from hpwidgets.core.results.filters import RunFilter
from hpwidgets.core.store import trash
from hpwidgets.core.store.runstore import Store

Ask = Callable[[str, bool], bool]


class NoAnswer(HpwError):
    """A prompt found standard input closed."""


def confirm(text: str, default: bool, stream: TextIO | None = None) -> bool:
    """Guild's prompt on stderr: `(Y/n)` or `(y/N)`; a closed standard input is an error."""
    stream = stream or sys.stdin
    print(text, file=sys.stderr)
    print("Continue? (Y/n) " if default else "Continue? (y/N) ", end="", file=sys.stderr, flush=True)
    answer = stream.readline()
    if not answer:
        print(file=sys.stderr)
        raise NoAnswer("no answer on standard input (it is closed): pass -y to go on without asking")
    answer = answer.strip().lower()
    return default if not answer else answer in ("y", "yes")


def listing_line(index: int, r: RunRecord) -> str:
    from hpwidgets.core.results import compare

    tags = f"  [{' '.join(r.tags)}]" if r.tags else ""
    batch = f"  batch {r.batch[:8]}" if r.batch else ""  # what --resume and compare --batch take
    return (f"[{index}] {r.short_id}  {compare.cell(r, 'started')}  {r.operation}  {r.status.value:<10}"
            f"  {r.label}{tags}{batch}")


def runs(args: list[str], prog: str, out: TextIO, ask: Ask | None) -> int:
    action, rest = split_runs_action(args)
    ns = intermixed(runs_parser(prog, action), rest)
    store = _store()
    if action in ("list", "ls"):
        records = selected_runs(store, ns, deleted=ns.deleted)
        shown = list(records) if ns.all else records[:20]
        for i, r in enumerate(shown, 1):
            print(listing_line(i, r), file=out)
        return 0
    if action == "info":
        return info(store, ns, out)
    if action in ("label", "tag"):
        return label(store, ns, out) if action == "label" else tag(store, ns, out)
    return _remove_or_restore(store, action, ns, prog, out, ask)


def selected_runs(store: Store, ns: Any, deleted: bool = False) -> Sequence[RunRecord]:
    """The runs a command's indexes count: the store's (a listing read a page at a time) or the
    trash's, newest first, filtered. A --batch prefix must name one batch of the store (the
    trash keeps it as a prefix)."""
    flt = run_filter(ns) if hasattr(ns, "operations") else RunFilter()
    if deleted:
        return flt.apply(trash.trashed(store))
    try:
        batch = store.resolve_batch(flt.batch) if flt.batch else None
    except OptionError as exc:
        raise usage_error(exc) from None
    return store.listing(flt.query(batch))


def usage_error(exc: OptionError) -> refs.SelectionError:
    """An unknown filter value or column, a usage error, in the command line's words."""
    return refs.SelectionError(str(exc.renamed(option_names())))


def _store() -> Store:
    """The store, its orphaned runs reaped first (the one explicit step that changes runs)."""
    store = Store()
    store.reap_orphans()
    return store


def _one(store: Store, ns: Any) -> RunRecord:
    records = selected_runs(store, ns, deleted=ns.deleted)
    if not records:
        raise refs.SelectionError("No runs" + (" in the trash" if ns.deleted else "") + " to show")
    return refs.resolve(records, [ns.refs or "1"])[0]


def _batch_named(store: Store, ref: str):
    from hpwidgets.core.results.batch_info import batches

    found, count = batches(store).starting(ref.lower(), 1)
    return found[0] if count == 1 else None


def batches_command(args: list[str], prog: str, out: TextIO) -> int:
    """`hpw batches [-a]` lists batches, newest first; `hpw batches info BATCH` inspects one."""
    from hpwidgets.arguments import batches_parser
    from hpwidgets.core.results.batch_info import batches, info_lines, listing_line

    action = args[0] if args[:1] == ["info"] else "list"
    ns = intermixed(batches_parser(prog, action), args[1:] if action == "info" else args)
    store = _store()
    found = batches(store, selected_runs(store, ns))
    if action == "info":
        if not found:
            raise refs.SelectionError("No batches to show")
        for line in info_lines(refs.resolve(found, [ns.ref or "1"])[0]):
            print(line, file=out)
        return 0
    for i, b in enumerate(found if ns.all else found[:20], 1):
        print(listing_line(i, b), file=out)
    return 0


def _run_dir(store: Store, record: RunRecord, deleted: bool) -> str:
    import os

    return os.path.join(trash.trash_dir(store), record.id) if deleted else store.run_dir(record.id)


def info(store: Store, ns: Any, out: TextIO) -> int:
    """A run's attributes; a reference that names no run but starts a batch id shows the batch."""
    from hpwidgets.core.results.run_info import info_lines

    try:
        record = _one(store, ns)
    except refs.SelectionError:
        found = _batch_named(store, ns.refs) if ns.refs and not ns.deleted else None
        if found is None:
            raise
        from hpwidgets.core.results.batch_info import info_lines as batch_lines

        for line in batch_lines(found):
            print(line, file=out)
        return 0
    for line in info_lines(store, record, _run_dir(store, record, ns.deleted)):
        print(line, file=out)
    return 0


def cat(args: list[str], prog: str, out: TextIO) -> int:
    import os

    from hpwidgets.core.results.run_info import output_tail

    ns = intermixed(cat_parser(prog), args)
    if ns.tail is not None and ns.tail < 0:
        raise UsageError(f"{prog}: error: argument --tail: invalid value: {ns.tail} (accepted: 0 or a positive number of lines)")
    store = _store()
    record = _one(store, ns)
    from hpwidgets.core.store import safety

    try:
        raw = safety.read_private(os.path.join(_run_dir(store, record, ns.deleted), "output.log"))
    except FileNotFoundError:
        raw = b""
    text = raw.decode("utf-8", errors="replace")
    out.write(output_tail(text, ns.tail))
    out.flush()
    return 0


def tensorboard(args: list[str], prog: str, out: TextIO) -> int:
    """`hpw tensorboard`: the selected runs as a log directory, then TensorBoard on it, if installed."""
    import importlib.util
    import os
    import subprocess
    import sys

    from hpwidgets.arguments import tensorboard_parser
    from hpwidgets.core.results.tensorboard_logdir import export

    ns = intermixed(tensorboard_parser(prog), args)
    store = _store()
    records = selected_runs(store, ns)
    logdir = ns.logdir or os.path.join(store.root, "tensorboard")
    export(records, store.series, logdir)
    print(f"Wrote {len(records)} run{'s' if len(records) != 1 else ''} to {logdir}", file=out, flush=True)
    if ns.no_start:
        return 0
    if importlib.util.find_spec("tensorboard") is None:
        print(f"TensorBoard is not installed: `pip install tensorboard`, then `tensorboard --logdir {logdir}`",
              file=out, flush=True)
        return 1
    return subprocess.call([sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--port", str(ns.port)])


def label(store: Store, ns: Any, out: TextIO) -> int:
    names, text = (ns.refs, "") if ns.clear else (ns.refs[:-1], ns.refs[-1])
    if not names:
        raise UsageError(f"{ns.prog}: error: name the runs and then the label: RUN... TEXT (or RUN... --clear)")
    records = refs.resolve(store.listing(), names)
    for r in records:
        store.save(r.evolve(label=text))
    verb = "Cleared label of" if ns.clear else "Labeled"
    print(f"{verb} {len(records)} run(s)", file=out)
    return 0


def tag(store: Store, ns: Any, out: TextIO) -> int:
    if not ns.add and not ns.delete:
        raise UsageError(f"{ns.prog}: error: give --add TAG or --delete TAG")
    for t in ns.add:
        if not t or any(c.isspace() for c in t):
            raise UsageError(f"{ns.prog}: error: argument --add: invalid tag: {t!r} (accepted: a word without "
                             "spaces, such as baseline)")
    records = refs.resolve(store.listing(), ns.refs)
    for r in records:
        kept = [t for t in r.tags if t not in ns.delete]
        store.save(r.evolve(tags=tuple(kept + [t for t in dict.fromkeys(ns.add) if t not in kept])))
    print(f"Modified tags of {len(records)} run(s)", file=out)
    return 0


_PROMPTS = {
    "rm": ("You are about to delete the following runs (they go to the trash; `runs restore` brings them back):",
           False, "Deleted {} run(s) (into the trash)"),
    "permanent": ("You are about to permanently delete the following runs:", False, "Permanently deleted {} run(s)"),
    "restore": ("You are about to restore the following runs:", True, "Restored {} run(s)"),
    "purge": ("You are about to permanently delete the following deleted runs:", False, "Purged {} run(s)"),
}


def _remove_or_restore(store: Store, action: str, ns: Any, prog: str, out: TextIO, ask: Ask | None) -> int:
    from_trash = action in ("restore", "purge")
    flt = run_filter(ns)
    if not ns.refs and not flt:
        raise UsageError(f"{prog} {action}: error: name the runs (accepted: {refs.ACCEPTED}) or give a filter")
    listing = list(selected_runs(store, ns, deleted=from_trash))  # what is asked about is what is changed
    destructive = action != "restore"
    chosen = refs.resolve(listing, ns.refs, destructive=destructive) if ns.refs else listing
    kind = "permanent" if getattr(ns, "permanent", False) else "rm" if action in ("rm", "delete") else action
    text, default, done = _PROMPTS[kind]
    if not chosen:
        print("No runs selected", file=out)
        return 0
    if not ns.yes:
        if ask is None:
            if destructive:
                verb = "purge" if action == "purge" else "delete"
                raise UsageError(f"{prog} {action}: error: pass -y to {verb}: a notebook does not ask")
        else:
            index = {r.id: i for i, r in enumerate(listing, 1)}
            lines = [text, *(f"  {listing_line(index[r.id], r)}" for r in chosen)]
            if not ask("\n".join(lines), default):
                return 0  # Guild: answering no changes nothing and is not an error
    if kind == "rm":
        trash.move_to_trash(store, chosen)
    elif kind == "permanent":
        trash.delete_permanently(store, chosen)
    elif kind == "restore":
        trash.restore(store, chosen)
    else:
        trash.purge(store, chosen)
    print(done.format(len(chosen)), file=out)
    return 0
