"""What ``hpw runs info RUN`` and ``hpw cat RUN`` show: a run's attributes in Guild's
``key: value`` form, its scalars with last/min/max and step, and its output."""

from __future__ import annotations

import math
import time

from hpwidgets.core.records import RunRecord
from hpwidgets.core.store.runstore import Store


def _when(ts: float | None) -> str:
    return "" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _num(value: object) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def info_lines(store: Store, record: RunRecord, run_dir: str | None = None) -> list[str]:
    """The run's attributes, flags and scalars, one ``key: value`` per line."""
    from hpwidgets.core.results.formats import format_duration

    r = record
    lines = [
        f"id: {r.id}",
        f"operation: {r.operation}",
        f"status: {r.status.value}",
    ]
    if r.reason:
        lines.append(f"reason: {r.reason}")
    lines += [
        f"started: {_when(r.started)}",
        f"stopped: {_when(r.stopped)}",
        f"time: {'' if r.elapsed is None else format_duration(r.elapsed)}",
        f"exit_code: {'' if r.exit_code is None else r.exit_code}",
        f"label: {r.label}",
        f"tags: {' '.join(r.tags)}",
        f"batch: {r.batch}" + ("" if r.trial is None else f" (trial {r.trial + 1})"),
        f"objective: {r.objective} ({'minimize' if r.direction == 'min' else 'maximize'})",
        f"run_dir: {run_dir or store.run_dir(r.id)}",
        "flags:",
    ]
    lines += [f"  {name}: {_num(value)}" for name, value in sorted(r.flags.items())]
    lines.append("scalars:")
    series = _read_series(store, r, run_dir)
    for name in sorted(set(r.scalars) | set(series)):
        lines.append(f"  {name}: {_scalar_summary(r, name, series.get(name, []))}")
    return lines


def _read_series(store: Store, record: RunRecord, run_dir: str | None) -> dict[str, list]:
    if run_dir is None:
        return store.series(record.id)
    import json
    import os

    from hpwidgets.core.store import safety

    try:
        return json.loads(safety.read_private(os.path.join(run_dir, "series.json")))
    except (OSError, ValueError, safety.UnsafePathError):
        return {}


def _scalar_summary(record: RunRecord, name: str, values: list) -> str:
    """``last (step N)``, plus min and max when the scalar was printed more than once."""
    last = record.scalars.get(name, values[-1][1] if values else None)
    step = values[-1][0] if values else record.step
    text = _num(last) + ("" if step is None else f" (step {step})")
    numbers = [v for _, v in values if isinstance(v, (int, float)) and not math.isnan(v)]
    if len(values) > 1 and numbers:
        text += f" min {_num(min(numbers))} max {_num(max(numbers))} ({len(values)} values)"
    return text


def output_tail(text: str, tail: int | None) -> str:
    """The last ``tail`` lines of a run's output (all of it when ``tail`` is None)."""
    if tail is None:
        return text
    lines = text.splitlines(keepends=True)
    return "".join(lines[-tail:]) if tail > 0 else ""
