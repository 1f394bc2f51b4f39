"""One factory for run records: a test states only the fields it is about."""

from __future__ import annotations

from typing import Any

from hpwidgets.core.records import RunRecord, Status


def run_id(i: int) -> str:
    """A 32-hex run id (the store accepts nothing else) whose short id is ``i`` in 8 digits."""
    return f"{i:08x}" + "f" * 24


def record(i: int = 0, loss: float | None = None, status: Status = Status.COMPLETED, *,
           flags: dict[str, Any] | None = None, objective: str = "loss", **fields: Any) -> RunRecord:
    """Trial ``i`` of batch "b" of train.py: ``loss`` is its objective's value (no scalar when
    None); any other RunRecord field by keyword."""
    values: dict[str, Any] = dict(id=run_id(i), batch="b", operation="train.py", flags=dict(flags or {}),
                                  status=status, trial=i, objective=objective,
                                  scalars={} if loss is None else {objective: loss})
    values.update(fields)
    return RunRecord(**values)


def stored(i: int, **fields: Any) -> RunRecord:
    """Run ``i`` as a store holds it: finished at 1001 + i after one second, x = i, loss -i/10."""
    values: dict[str, Any] = dict(batch="b" * 32, flags={"x": float(i)}, started=1000.0 + i, stopped=1001.0 + i)
    values.update(fields)
    return record(i, -i / 10, **values)
