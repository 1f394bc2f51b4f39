"""Compare runs: Guild's columns, top-N by a column, a plain table, and formula-safe CSV."""

from __future__ import annotations

import csv
import io
import math
import os
import time
from collections.abc import Sequence
from typing import Any

from .errors import OptionError
from .records import RunRecord

BASE_COLUMNS = ("run", "operation", "started", "time", "status", "label")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FIXED = {*BASE_COLUMNS, "step"}


def columns_for(records: Sequence[RunRecord]) -> list[str]:
    """run, operation, started, time, status, label, flags (sorted), step, scalars (sorted).

    A flag named like a fixed column (``label``, ``step``...) is shown as ``=label``, the way
    Guild's column specs name flags, so neither hides the other.
    """
    flags = sorted({name for r in records for name in r.flags})
    scalars = sorted({name for r in records for name in r.scalars} - set(flags))
    shown = [f"={f}" if f in _FIXED else f for f in flags]
    return [*BASE_COLUMNS, *shown, "step", *(f"={s}" if s in _FIXED else s for s in scalars)]


def cell(record: RunRecord, column: str) -> Any:
    """The raw value of one cell: numbers stay numbers, absent values are None."""
    if column.startswith("="):
        name = column[1:]
        return record.flags[name] if name in record.flags else record.scalars.get(name)
    if column == "run":
        return record.short_id
    if column == "operation":
        return record.operation
    if column == "started":
        return None if record.started is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.started))
    if column == "time":
        return None if record.elapsed is None else format_duration(record.elapsed)
    if column == "status":
        return record.status.value
    if column == "label":
        return record.label
    if column == "step":
        return record.step if record.step is not None else (0 if record.scalars else None)
    if column in record.flags:
        return record.flags[column]
    return record.scalars.get(column)


def format_duration(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def sort_key_value(record: RunRecord, column: str) -> float | str | None:
    value = record.scalars.get(column, record.flags.get(column))
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def select(records: Sequence[RunRecord], top: int | None = None, min: str | None = None,
           max: str | None = None) -> list[RunRecord]:
    """Sort by ``min``/``max`` (runs without the column last) and keep the first ``top``."""
    if min and max:
        raise OptionError("--max", max, "either --min or --max, not both")
    if top is not None and top < 1:
        raise OptionError("--top", top, "a positive integer")
    rows = list(records)
    column = min or max
    if column:
        if not any(sort_key_value(r, column) is not None for r in rows) and rows:
            known = sorted({n for r in rows for n in (*r.scalars, *r.flags)})
            raise OptionError("--min" if min else "--max", column, "a scalar or flag of the runs: " + ", ".join(known))
        present = [r for r in rows if sort_key_value(r, column) is not None]
        absent = [r for r in rows if sort_key_value(r, column) is None]
        try:
            present.sort(key=lambda r: sort_key_value(r, column), reverse=bool(max))
        except TypeError:  # mixed types in one column: compare as text
            present.sort(key=lambda r: str(sort_key_value(r, column)), reverse=bool(max))
        rows = present + absent
    return rows[:top] if top else rows


def table(records: Sequence[RunRecord], columns: list[str] | None = None) -> str:
    """A plain aligned table, as ``guild compare --table`` prints it."""
    columns = columns or columns_for(records)
    body = [[_table_text(cell(r, c)) for c in columns] for r in records]
    widths = [max([len(c)] + [len(row[i]) for row in body]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in body]
    return "\n".join(lines)


def _table_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:f}" if math.isfinite(value) and abs(value) >= 1e-6 or value == 0 else f"{value:g}"
    return str(value)


def csv_safe(value: Any) -> Any:
    """Numbers stay numbers; text that a spreadsheet would run as a formula gets a quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else value  # full precision
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(records: Sequence[RunRecord], columns: list[str] | None = None) -> str:
    columns = columns or columns_for(records)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for r in records:
        writer.writerow([csv_safe(cell(r, c)) for c in columns])
    return out.getvalue()


def write_csv(path: str, text: str) -> None:
    """Write the CSV to ``path``; refuse a missing folder and never follow a planted symlink."""
    accepted = "a file path in an existing folder, or - for standard output"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OptionError("--csv", path, f"{accepted} (folder {folder} does not exist)")
    if os.path.isdir(path):
        raise OptionError("--csv", path, f"{accepted} (it is a directory)")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        if os.path.islink(path):
            raise OptionError("--csv", path, f"{accepted} (it is a symbolic link; not followed)") from None
        raise OptionError("--csv", path, f"{accepted} ({exc.strerror})") from None
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def records_frame(records: Sequence[RunRecord], columns: list[str] | None = None):
    """A pandas DataFrame of the runs with the compare columns (pandas loads only here)."""
    import pandas as pd

    columns = columns or columns_for(records)
    rows = [[cell(r, c) for c in columns] for r in records]
    return pd.DataFrame(rows, columns=columns)
