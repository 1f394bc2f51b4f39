"""One column layout and one cell format for every view of runs.

``hpw compare``, ``%hpcompare``, the live table, its CSV and the static HTML all take their
columns from ``columns_for`` and their text from ``text``; the CSV keeps full precision.

A flag named like a run attribute (``label``, ``status``, ``step``...) is shown as ``=label``,
the way Guild's column specs name flags, so that neither hides the other.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from typing import Any

from hpwidgets.core.records import RunRecord
from hpwidgets.core.search.flags import format_value

BASE_COLUMNS = ("run", "operation", "started", "time", "status", "label")
BRIEF_COLUMNS = ("run", "status")
_ATTRIBUTES = {*BASE_COLUMNS, "step"}


def _named(name: str) -> str:
    return f"={name}" if name in _ATTRIBUTES else name


def columns_for(records: Sequence[RunRecord], brief: bool = False, objective: str | None = None) -> list[str]:
    """The columns for these runs.

    Full (``hpw compare``, CSV): Guild's run, operation, started, time, status, label, the flags
    (sorted), step, the scalars (sorted). Brief (the notebook's tables, which must fit the
    page): run, status, the objective (``objective``, else the runs' own), the flags, the other
    scalars, then step and time; operation only when the runs have several, label only where
    it says more than the flags do.
    """
    flags = sorted({name for r in records for name in r.flags})
    scalars = sorted({name for r in records for name in r.scalars} - set(flags))
    if not brief:
        return full_columns(flags, scalars)
    goal = objective or (records[0].objective if records else None)
    first = [goal] if goal in scalars else []
    rest = [s for s in scalars if s not in first]
    tail = ["step"] if any(r.step is not None for r in records) else []
    tail.append("time")
    if len({r.operation for r in records}) > 1:
        tail.append("operation")
    if any(r.label and r.label != flags_label(r.flags) for r in records):
        tail.append("label")
    return [*BRIEF_COLUMNS, *map(_named, first), *map(_named, flags), *map(_named, rest), *tail]


def full_columns(flags: Iterable[str], scalars: Iterable[str]) -> list[str]:
    """The full layout (``hpw compare``, CSV) for runs with these flag and scalar names."""
    flags = sorted(set(flags))
    scalars = sorted(set(scalars) - set(flags))
    return [*BASE_COLUMNS, *map(_named, flags), "step", *map(_named, scalars)]


def flags_label(flags: dict[str, Any]) -> str:
    """The label a run gets when the user gives none: its flags, ``lr=0.01 x=-0.3``."""
    return " ".join(f"{name}={text(flags[name])}" for name in sorted(flags))


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


def number(value: float) -> str:
    """A number as people read it: six significant digits, no trailing zeros."""
    return f"{value:.6g}"


def text(value: Any) -> str:
    """The display text of a cell value: numbers to six significant digits, None empty,
    everything else as the flag syntax writes it."""
    if value is None:
        return ""
    if isinstance(value, float):
        return number(value)
    return format_value(value)


def row_text(record: RunRecord, columns: Sequence[str]) -> list[str]:
    return [text(cell(record, c)) for c in columns]


def format_duration(seconds: float) -> str:
    """``0.04s`` under a second, ``12.3s`` under a minute, ``0:01:05`` from a minute on."""
    if seconds < 1:
        return f"{max(seconds, 0.0):.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def sort_value(record: RunRecord, column: str) -> float | str | None:
    """A column's value for sorting: NaN counts as missing."""
    value = record.scalars.get(column, record.flags.get(column))
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
