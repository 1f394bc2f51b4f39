"""Frozen records of runs: what the store keeps and what subscribers receive."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields, replace
from typing import Any


class Status(str, enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    TERMINATED = "terminated"

    def is_finished(self) -> bool:
        return self in (Status.COMPLETED, Status.FAILED, Status.TERMINATED)


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
        data["flags"] = dict(self.flags)
        data["scalars"] = dict(self.scalars)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        known = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["status"] = Status(kwargs.get("status", "pending"))
        kwargs["searched"] = tuple(kwargs.get("searched") or ())
        return cls(**kwargs)


_FIELDS = tuple(f.name for f in fields(RunRecord))
