"""Compare runs: Guild's columns, top-N by a column, a plain table, and formula-safe CSV."""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from hpwidgets.core.errors import OptionError, listing
from hpwidgets.core.records import RunRecord, rank
from hpwidgets.core.results.formats import cell, columns_for, sort_value, text
from hpwidgets.core.store.listing import RunListing

__all__ = ["Scope", "cell", "columns_for", "records_frame", "select", "table", "to_csv", "write_csv"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def select(records: Sequence[RunRecord], top: int | None = None, min: str | None = None,
           max: str | None = None) -> list[RunRecord]:
    """Rank by ``min``/``max`` with the one ranking (``records.rank``: completed runs first, then
    pruned, failed or terminated ones at their last value, runs without the column last) and
    keep the first ``top``."""
    if min and max:
        raise OptionError("max", max, "either {0} or {1}, not both", mentions=("min", "max"))
    if top is not None and top < 1:
        raise OptionError("top", top, "a positive integer")
    column = min or max
    if column and isinstance(records, RunListing):  # one query: ORDER BY the rank, LIMIT top
        found = records.ranked(column, bool(max), top)
        if found is not None:
            return found
    rows = list(records[:top] if top and not column else records)
    if column:
        if not any(sort_value(r, column) is not None for r in rows) and rows:
            known = sorted({n for r in rows for n in (*r.scalars, *r.flags)})
            raise OptionError("min" if min else "max", column, "a scalar or flag of the runs: " + listing(known))
        rows = rank(rows, lambda r: sort_value(r, column), descending=bool(max))
    return rows[:top] if top else rows


@dataclass(frozen=True)
class Scope:
    """What a comparison looked at: how many runs of which scripts, before ``--top`` cut them."""

    scripts: tuple[tuple[str, int], ...]  # (operation, runs), most runs first
    column: str | None = None  # the --min/--max column
    column_scripts: tuple[str, ...] = ()  # the scripts whose runs have that column

    @classmethod
    def of(cls, store: Any, query: Any, column: str | None = None) -> Scope:
        """The scope of the runs ``query`` selects, from the store's index (two GROUP BYs)."""
        counts, having = store.operations(query, column)
        scripts = tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        return cls(scripts, column, tuple(sorted(having)))

    @classmethod
    def of_records(cls, records: Sequence[RunRecord], column: str | None = None) -> Scope:
        counts = Counter(r.operation for r in records)
        scripts = tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        having = sorted({r.operation for r in records if column and sort_value(r, column) is not None})
        return cls(scripts, column, tuple(having))

    @property
    def total(self) -> int:
        return sum(n for _, n in self.scripts)

    def text(self, shown: int) -> str:
        """``5 of 40 runs of 2 scripts (train.py 30, svc.py 10)``."""
        head = f"{shown} of {self.total} runs" if shown != self.total else f"{self.total} runs"
        if len(self.scripts) == 1:
            return f"{head} of {self.scripts[0][0]}"
        names = ", ".join(f"{op} {n}" for op, n in self.scripts)
        return f"{head} of {len(self.scripts)} scripts ({names})"

    def mixed(self) -> str:
        """A warning when the sort column comes from several scripts ("" when it does not)."""
        if len(self.column_scripts) < 2:
            return ""
        return (f"{self.column} comes from {len(self.column_scripts)} scripts ({', '.join(self.column_scripts)}): "
                "their values may not compare")


def table(records: Sequence[RunRecord], columns: list[str] | None = None) -> str:
    """A plain aligned table, as ``guild compare --table`` prints it."""
    columns = columns or columns_for(records)
    body = [[text(cell(r, c)) for c in columns] for r in records]
    widths = [max([len(c)] + [len(row[i]) for row in body]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in body]
    return "\n".join(lines)


def csv_safe(value: Any) -> Any:
    """Numbers stay numbers; text that a spreadsheet would run as a formula gets a quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else value  # full precision
    text = str(value)
    # a spreadsheet skips leading spaces before it reads a formula: " =1+1" runs too
    return "'" + text if text.startswith(_FORMULA_START) or text.lstrip().startswith(_FORMULA_START) else text


def to_csv(records: Sequence[RunRecord], columns: list[str] | None = None) -> str:
    columns = columns or columns_for(records)
    out = io.StringIO()
    write_rows(out, records, columns)
    return out.getvalue()


def write_rows(out: TextIO, records: Iterable[RunRecord], columns: list[str]) -> int:
    """The CSV of ``records`` written to ``out`` row by row (a listing streams); returns the rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for r in records:
        writer.writerow([csv_safe(cell(r, c)) for c in columns])
        count += 1
    return count


def write_csv(path: str, text: str) -> None:
    """Write the CSV to ``path``; refuse a missing folder and never follow a planted symlink."""
    with open_csv(path) as fh:
        fh.write(text)


@contextmanager
def open_csv(path: str) -> Iterator[TextIO]:
    """``path`` opened for a CSV; a missing folder is refused, a planted symlink never followed,
    and a failed write is one line."""
    accepted = "a file path in an existing folder, or - for standard output"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OptionError("csv", path, f"{accepted} (folder {folder} does not exist)")
    if os.path.isdir(path):
        raise OptionError("csv", path, f"{accepted} (it is a directory)")
    try:
        # a file the user asked for: the umask decides who reads it (only the store is private)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
    except OSError as exc:
        if os.path.islink(path):
            raise OptionError("csv", path, f"{accepted} (it is a symbolic link; not followed)") from None
        raise OptionError("csv", path, f"{accepted} ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
    except OSError as exc:  # a full disk, a device that takes no writes (/dev/full, /proc/self/mem)
        raise OptionError("csv", path, accepted, reason=f"it could not be written ({exc.strerror})") from None


def records_frame(records: Sequence[RunRecord], columns: list[str] | None = None):
    """A pandas DataFrame of the runs with the compare columns (pandas loads only here)."""
    import pandas as pd

    columns = columns or columns_for(records)
    rows = [[cell(r, c) for c in columns] for r in records]
    return pd.DataFrame(rows, columns=columns)
