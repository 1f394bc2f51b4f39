"""Frozen records of runs: what the store keeps and what subscribers receive."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from typing import Any


class Status(str, enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    TERMINATED = "terminated"
    PRUNED = "pruned"  # stopped early by a pruner; its series and last values are kept

    def is_finished(self) -> bool:
        """The run's process ended, whatever the outcome. Whether its batch still needs it (a
        failed run is run again by --resume) is core/results/counts.py's ``is_done``."""
        return self in (Status.COMPLETED, Status.FAILED, Status.TERMINATED, Status.PRUNED)


@dataclass(frozen=True)
class RunRecord:
    id: str
    batch: str
    operation: str  # the script's file name, or the function's name
    flags: dict[str, Any]
    status: Status = Status.PENDING
    started: float | None = None
    stopped: float | None = None
    exit_code: int | None = None
    label: str = ""
    scalars: dict[str, float] = field(default_factory=dict)
    step: int | None = None
    reason: str | None = None  # why a run failed or was terminated
    objective: str = "loss"
    direction: str = "min"  # "min" or "max"
    source_hash: str | None = None
    searched: tuple[str, ...] = ()  # the flags the batch searched over
    owner: str | None = None  # "host:pid:start" of the supervising process (see owner.py)
    trial: int | None = None  # index of the trial in its batch
    tags: tuple[str, ...] = ()

    def evolve(self, **changes: Any) -> RunRecord:
        return replace(self, **changes)

    @property
    def short_id(self) -> str:
        return self.id[:8]

    @property
    def elapsed(self) -> float | None:
        if self.started is None or self.stopped is None:
            return None
        return self.stopped - self.started

    @property
    def value(self) -> float | None:
        """The objective as printed, or None when the run has none."""
        return self.scalars.get(self.objective)

    def to_json(self) -> dict[str, Any]:
        # by hand, not dataclasses.asdict: this runs twice per trial and asdict deep-copies
        data = {name: getattr(self, name) for name in _FIELDS}
        data["status"] = self.status.value
        data["searched"] = list(self.searched)
        data["tags"] = list(self.tags)
        data["flags"] = dict(self.flags)
        data["scalars"] = dict(self.scalars)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        """A record from JSON that was checked when it was stored (the index); see ``checked``."""
        known = _FIELD_SET
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["status"] = Status(kwargs.get("status", "pending"))
        kwargs["searched"] = tuple(kwargs.get("searched") or ())
        kwargs["tags"] = tuple(kwargs.get("tags") or ())
        return cls(**kwargs)

    @classmethod
    def checked(cls, data: Any) -> RunRecord:
        """A record from JSON read off disk, checked field by field (ValueError says which is wrong).

        A scalar whose value is not a number is a missing value: never sorted as text, never
        told to an optimizer.
        """
        return cls.from_json(checked_fields(data))


def checked_fields(data: Any) -> dict[str, Any]:
    """``RunRecord.checked``'s checks without building the record (a rebuild reads 100,000 of
    them): the fields as ``from_json`` takes them, batch, operation and flags filled in and the
    scalars that are no number dropped."""
    if not isinstance(data, dict):
        raise ValueError(f"a run record is a JSON object, got {type(data).__name__}")
    for name, value in data.items():  # by exact type first (cheap): JSON gives no subclasses
        if name in _EXACT and type(value) not in _EXACT[name]:
            _check_kinds(data)  # in _KINDS's order, so that the first wrong field is named
            break
    if any(not isinstance(t, str) for t in data.get("tags") or ()):
        raise ValueError("'tags' must be a list of text")
    if "id" not in data:
        raise ValueError("'id' is missing")
    if data.get("status", "pending") not in _STATUSES:
        raise ValueError(f"'status' must be one of {', '.join(_STATUSES)}, got {data['status']!r}")
    for name in ("started", "stopped"):  # a time a date can show: 1e300, Infinity or NaN end a listing
        if data.get(name) is not None and not 0 <= data[name] <= LATEST_TIME:
            raise ValueError(f"'{name}' must be a time in seconds since 1970 (0 to {LATEST_TIME:.0f}), "
                             f"got {data[name]!r}")
    for name in ("exit_code", "step", "trial"):
        if data.get(name) is not None and not (0 if name == "trial" else -_INT64) <= data[name] < _INT64:
            raise ValueError(f"'{name}' must be an integer from {0 if name == 'trial' else -_INT64} to "
                             f"{_INT64 - 1}, got {data[name]!r}")
    _check_flags(data.get("flags") or {})
    if "objective" in data and not data["objective"].strip():
        raise ValueError("'objective' must name a scalar, got ''")
    if data.get("direction", "min") not in ("min", "max"):
        raise ValueError(f"'direction' must be min or max, got {data['direction']!r}")
    scalars = {k: v for k, v in ((k, _number(v)) for k, v in (data.get("scalars") or {}).items())
               if v is not None}
    return {"batch": "", "operation": "", "flags": {}, **data, "scalars": scalars}


LATEST_TIME = 253402300799.0  # 9999-12-31 23:59:59 UTC: the last time a date shows
_INT64 = 1 << 63  # what the index (SQLite) stores as an integer


def _number(value: Any) -> float | None:
    """A scalar as a number; None (a missing value) for text, a bool or an integer no float holds."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def _check_flags(flags: dict[str, Any]) -> None:
    """Integers the index can store (NaN and infinities are float flags a script may be given)."""
    for name, value in flags.items():
        if isinstance(value, int) and not isinstance(value, bool) and not -_INT64 <= value < _INT64:
            raise ValueError(f"flag '{name}' must be an integer from {-_INT64} to {_INT64 - 1}, got {value!r}")


def _check_kinds(data: dict[str, Any]) -> None:
    for name, kinds in _KINDS.items():
        if name in data and not _is(data[name], kinds):
            raise ValueError(f"'{name}' must be {_KIND_NAMES[kinds]}, got {type(data[name]).__name__}")


def _is(value: Any, kinds: tuple) -> bool:
    if value is None:
        return None in kinds
    if isinstance(value, bool):
        return bool in kinds
    return isinstance(value, _CLASSES[kinds])


_NUMBER = (int, float, None)
_TEXT = (str,)
_OPT_TEXT = (str, None)
_OPT_INT = (int, None)
_KINDS: dict[str, tuple] = {
    "id": _TEXT, "batch": _TEXT, "operation": _TEXT, "flags": (dict,), "started": _NUMBER,
    "stopped": _NUMBER, "exit_code": _OPT_INT, "label": _TEXT, "scalars": (dict,), "step": _OPT_INT,
    "reason": _OPT_TEXT, "objective": _TEXT, "direction": _TEXT, "source_hash": _OPT_TEXT,
    "searched": (list, None), "owner": _OPT_TEXT, "trial": _OPT_INT, "tags": (list, None),
}
_KIND_NAMES = {_NUMBER: "a number", _TEXT: "text", _OPT_TEXT: "text", _OPT_INT: "an integer",
               (dict,): "an object", (list, None): "a list"}
_CLASSES = {kinds: tuple(k for k in kinds if k is not None and k is not bool) for kinds in _KINDS.values()}
_EXACT = {name: frozenset(type(None) if k is None else k for k in kinds) for name, kinds in _KINDS.items()}
_STATUSES = tuple(s.value for s in Status)
_FIELDS = tuple(f.name for f in fields(RunRecord))
_FIELD_SET = frozenset(_FIELDS)


RANKING_RULE = "completed runs first, then pruned, failed or terminated ones at their last value"


def rank(records: Iterable[RunRecord], value_of: Callable[[RunRecord], Any], descending: bool = False) -> list[RunRecord]:
    """The one ranking of runs, for every view (dashboard, record, compare, sidebar, CSV):
    completed runs by their value, then the runs that ended otherwise (pruned, failed,
    terminated) by their last value, then the rest (running, or without a value) in their order.
    A pruned run's last value is not a final one, so it never ranks above a completed run."""
    records = list(records)
    tiers: tuple[list, list] = ([], [])
    rest = []
    for r in records:
        value = value_of(r) if r.status.is_finished() else None
        if value is None:
            rest.append(r)
        else:
            tiers[r.status is not Status.COMPLETED].append((value, r))
    out = []
    for tier in tiers:
        try:
            tier.sort(key=lambda pair: pair[0], reverse=descending)  # stable: ties keep their order
        except TypeError:  # mixed types in one column: compare as text
            tier.sort(key=lambda pair: str(pair[0]), reverse=descending)
        out += [r for _, r in tier]
    return out + rest


def mixes_statuses(records: Iterable[RunRecord], value_of: Callable[[RunRecord], Any]) -> bool:
    """True when a ranking shows completed runs beside others with a value: its header says the rule."""
    statuses = {r.status is Status.COMPLETED for r in records if r.status.is_finished() and value_of(r) is not None}
    return statuses == {True, False}
