"""Runs as a TensorBoard log directory, as ``guild tensorboard`` shows them: one folder per run
with its series as scalars and its flags and final scalars as an HParams session, and the
experiment (every flag and scalar of the runs) at the top."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence

from hpwidgets.core.records import RunRecord, Status
from hpwidgets.core.results.event_writer import (
    EventWriter,
    double,
    message,
    plugin_value,
    scalar_value,
    varint,
)

MARK = ".hpwidgets-tensorboard"  # a folder we wrote, that a new export may clear
_STATUS = {Status.COMPLETED: 1, Status.FAILED: 2, Status.RUNNING: 3}  # SessionEndInfo's status; others unknown (0)


def _proto_value(value: object) -> bytes:
    """A ``google.protobuf.Value``: a number, a bool or a string."""
    if isinstance(value, bool):
        return varint(4, int(value))
    if isinstance(value, (int, float)):
        return double(2, float(value))
    return message(3, str(value))


def _hparams(content: bytes) -> bytes:
    return varint(1, 0) + content  # HParamsPluginData: version 0, then one of its messages


def experiment(runs: Sequence[RunRecord]) -> bytes:
    flags = sorted({f for r in runs for f in r.flags})
    scalars = sorted({s for r in runs for s in r.scalars})
    infos = b""
    for name in flags:
        values = [r.flags[name] for r in runs if name in r.flags]
        kind = 2 if all(isinstance(v, bool) for v in values) else (
            3 if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values) else 1)
        infos += message(4, message(1, name) + varint(4, kind))
    metrics = b"".join(message(5, message(1, message(2, name))) for name in scalars)
    return _hparams(message(2, infos + metrics))


def session_start(run: RunRecord) -> bytes:
    entries = b"".join(message(1, message(1, k) + message(2, _proto_value(v))) for k, v in sorted(run.flags.items()))
    return _hparams(message(3, entries + message(4, run.id) + double(5, run.started or 0.0)))


def session_end(run: RunRecord) -> bytes:
    return _hparams(message(4, varint(1, _STATUS.get(run.status, 0)) + double(2, run.stopped or run.started or 0.0)))


def folder_name(run: RunRecord) -> str:
    return f"{run.short_id} {run.label}".replace(os.sep, "_")[:120] if run.label else run.short_id


def export(runs: Sequence[RunRecord], series_of, logdir: str) -> list[str]:
    """Write ``runs`` into ``logdir`` (cleared first if an earlier export made it); return the
    run folders. ``series_of(run_id)`` gives a run's stored series."""
    if os.path.isdir(logdir) and os.path.exists(os.path.join(logdir, MARK)):
        shutil.rmtree(logdir)
    os.makedirs(logdir, exist_ok=True)
    open(os.path.join(logdir, MARK), "w").close()
    with EventWriter(logdir) as top:
        top.event(0, [plugin_value("_hparams_/experiment", "hparams", experiment(runs))])
    folders = []
    for run in runs:
        folder = os.path.join(logdir, folder_name(run))
        with EventWriter(folder) as writer:
            writer.event(0, [plugin_value("_hparams_/session_start_info", "hparams", session_start(run))],
                         run.started)
            written = set()
            for name, points in sorted(series_of(run.id).items()):
                for count, (step, value) in enumerate(points):
                    writer.event(count if step is None else int(step), [scalar_value(name, float(value))])
                written.add(name)
            last_step = run.step or 0
            finals = [scalar_value(n, float(v)) for n, v in sorted(run.scalars.items())
                      if n not in written and isinstance(v, (int, float))]
            if finals:
                writer.event(last_step, finals)
            writer.event(last_step, [plugin_value("_hparams_/session_end_info", "hparams", session_end(run))],
                         run.stopped)
        folders.append(folder)
    return folders
