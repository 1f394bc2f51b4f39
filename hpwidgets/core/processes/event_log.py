"""A batch's own record of events: ``<store>/batches/<id>.events``, one JSON object a line.

A detached batch's supervisor appends every event it emits; a watcher in any kernel or terminal
tails the file and folds the lines back into events, so it follows one batch without scanning
the store. The file is private (0600) and checked like every file of the store; a line that is
not an event is skipped with one note naming the file and the line, never guessed at.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from hpwidgets.core.errors import StoreError
from hpwidgets.core.records import RunRecord
from hpwidgets.core.run.events import (
    BatchFinished,
    BatchStarted,
    ModelUpdated,
    TrialFinished,
    TrialOutput,
    TrialProgress,
    TrialStarted,
)
from hpwidgets.core.store import safety


@dataclass(frozen=True)
class RecordedStart(BatchStarted):
    """A BatchStarted read back from the record, with the wall time the batch started."""

    at: float = 0.0


def path_of(batches_dir: str, batch_id: str) -> str:
    return os.path.join(batches_dir, f"{batch_id}.events")


def encode(event: Any) -> dict[str, Any] | None:
    """The JSON form of an event (None for an event the record does not keep)."""
    if isinstance(event, BatchStarted):
        return {"type": "started", "at": time.time(), "batch": event.batch_id, "priors": [p.to_json() for p in event.priors],
                "resumed": event.resumed, "prev_trials": event.prev_trials, "workers": event.workers}
    if isinstance(event, TrialStarted):
        return {"type": "trial", "record": event.record.to_json()}
    if isinstance(event, TrialOutput):
        return {"type": "output", "run": event.run_id, "line": event.line}
    if isinstance(event, TrialProgress):
        return {"type": "progress", "run": event.run_id, "name": event.name, "step": event.step, "value": event.value}
    if isinstance(event, TrialFinished):
        series = {name: [list(p) for p in points] for name, points in event.series.items()}
        return {"type": "ended", "record": event.record.to_json(), "series": series}
    if isinstance(event, ModelUpdated):
        return {"type": "model", "flag": event.flag, "xs": list(event.xs), "mean": list(event.mean),
                "std": list(event.std)}
    if isinstance(event, BatchFinished):
        return {"type": "finished", "batch": event.batch_id, "status": event.status, "counts": event.counts,
                "best": event.best.to_json() if event.best else None, "elapsed": event.elapsed}
    return None


def decode(data: Any, plan: Any = None) -> Any:
    """The event a line's object stands for; ValueError says what is wrong with it."""
    if not isinstance(data, dict):
        raise ValueError(f"an event is a JSON object, got {type(data).__name__}")
    kind = data.get("type")
    try:
        if kind == "started":
            return RecordedStart(str(data["batch"]), plan, tuple(RunRecord.checked(p) for p in data["priors"]),
                                 int(data["resumed"]), str(data["prev_trials"]), int(data["workers"]),
                                 float(data["at"]))
        if kind == "trial":
            return TrialStarted(RunRecord.checked(data["record"]))
        if kind == "output":
            return TrialOutput(str(data["run"]), str(data["line"]))
        if kind == "progress":
            step = data["step"]
            return TrialProgress(str(data["run"]), str(data["name"]), None if step is None else int(step),
                                 float(data["value"]))
        if kind == "ended":
            series = {str(n): tuple((s, float(v)) for s, v in points) for n, points in data["series"].items()}
            return TrialFinished(RunRecord.checked(data["record"]), series)
        if kind == "model":
            return ModelUpdated(str(data["flag"]), *(tuple(float(v) for v in data[k]) for k in ("xs", "mean", "std")))
        if kind == "finished":
            best = RunRecord.checked(data["best"]) if data["best"] is not None else None
            counts = {str(k): int(v) for k, v in data["counts"].items()}
            return BatchFinished(str(data["batch"]), str(data["status"]), counts, best, float(data["elapsed"]))
    except KeyError as exc:
        raise ValueError(f"a {kind!r} event lacks {exc.args[0]!r}") from None
    except (TypeError, AttributeError) as exc:
        raise ValueError(f"a {kind!r} event is malformed ({exc})") from None
    raise ValueError(f"unknown event type {kind!r} (accepted: started, trial, output, progress, ended, model, "
                     "finished)")


class EventLog:
    """A subscriber that appends each event to the batch's record (opened once, 0600)."""

    def __init__(self, batches_dir: str, batch_id: str) -> None:
        self.path = path_of(batches_dir, batch_id)
        try:
            safety.private_dir(batches_dir)
            self._fd = safety.open_private(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        except OSError as exc:
            raise StoreError.writing(exc, self.path) from None
        self._lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        data = encode(event)
        if data is None:
            return
        line = (json.dumps(data, separators=(",", ":")) + "\n").encode()
        with self._lock:
            try:
                os.write(self._fd, line)  # one write per line, O_APPEND: a reader never sees half of two
            except OSError as exc:  # a full disk: the supervisor's one line
                raise StoreError.writing(exc, self.path) from None

    def close(self) -> None:
        with self._lock:
            os.close(self._fd)


class Reader:
    """Reads the events appended since the last call; a partial last line waits for its end."""

    def __init__(self, path: str, plan: Any = None) -> None:
        self.path, self.plan = path, plan
        self._fh: Any = None
        self._rest = b""
        self._line = 0

    def read(self) -> list[Any]:
        if self._fh is None:
            try:
                self._fh = os.fdopen(safety.open_private(self.path), "rb")
            except FileNotFoundError:
                return []
        chunk = self._fh.read()
        if not chunk:
            return []
        *lines, self._rest = (self._rest + chunk).split(b"\n")
        events = []
        for raw in lines:
            self._line += 1
            try:
                events.append(decode(json.loads(raw), self.plan))
            except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                safety.report(self.path, f"line {self._line} is not an event ({exc})")
        return events

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
