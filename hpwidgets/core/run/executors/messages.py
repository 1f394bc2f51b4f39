"""What a Dask trial's task (on a worker) and its runner (here) tell each other.

The task returns a ``TaskEnded``, or a ``WorkerLost`` when the attempt had begun on a worker that
is gone; Dask pickles either on its way back. While the trial runs, the task streams
``NewLines`` as worker events, which Dask sends as msgpack: a plain dict, typed here. A trial
that brings no files back ends with a ``TrialDone`` event, which the runner takes instead of
fetching the task's result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict


@dataclass(frozen=True)
class TaskEnded:
    """The trial ran (or was stopped before it began: ``killed="cancel"``, no lines)."""

    exit_code: int | None
    killed: str | None  # "timeout", "cancel" or None (see subprocess_group.run_group)
    lines: tuple[str, ...]  # every line it printed; the runner passes on those the stream did not
    files: tuple[tuple[str, bytes], ...] = ()  # (path in the run directory, content), within files_max
    left_out: tuple[tuple[str, str], ...] = ()  # (path, why it stayed on the worker)


@dataclass(frozen=True)
class WorkerLost:
    """The attempt began on the worker at ``address``, which died: it is not run a second time."""

    address: str


class EventFileBytes(TypedDict):
    """New bytes of an event file a running trial of attempt ``mark`` writes: ``data`` from
    offset ``at`` of ``file`` (its path under the trial's directory), a worker event."""

    mark: str
    file: str
    at: int
    data: bytes


class TrialDone(TypedDict):
    """Attempt ``mark``'s trial ended (a worker event, sent just before its task returns
    the same as a ``TaskEnded`` without files): its lines from ``start`` on, those the stream did
    not send, and how it ended."""

    mark: str
    start: int
    lines: list[str]
    exit_code: int | None
    killed: str | None


class NewLines(TypedDict):
    """A running trial's lines ``start``, ``start + 1``, ... of attempt ``mark`` (a worker event)."""

    mark: str
    start: int
    lines: list[str]
