"""The store as a subscriber of the engine: each run's directory follows the events of its trial."""

from __future__ import annotations

import os
import threading
from typing import Any

from hpwidgets.core.errors import StoreError
from hpwidgets.core.run.events import TrialFinished, TrialOutput, TrialStarted


class StoreRecorder:
    """Subscribes the store to the engine: the run directories follow every event."""

    def __init__(self, store, script_name: str | None = None, source: str | None = None,
                 record_start: bool = True) -> None:
        self.store, self.script_name, self.source = store, script_name, source
        # In-process trials last microseconds: they are written once, when they finish.
        self.record_start = record_start
        self._outputs: dict[str, Any] = {}  # run id -> open log file, or a list of lines held back
        self._lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        if isinstance(event, TrialStarted):
            if self.record_start:
                self.store.create(event.record, self.script_name, self.source)
                with self._lock:
                    self._outputs[event.record.id] = None
        elif isinstance(event, TrialOutput):
            with self._lock:
                sink = self._outputs.get(event.run_id)
                if sink is None and event.run_id in self._outputs:
                    sink = self._outputs[event.run_id] = self._open_output(event.run_id)
                elif sink is None:
                    sink = self._outputs[event.run_id] = []
            if isinstance(sink, list):
                sink.append(event.line)
            else:
                sink.write(event.line + "\n")
        elif isinstance(event, TrialFinished):
            with self._lock:
                sink = self._outputs.pop(event.record.id, None)
            if not self.record_start:
                self.store.create(event.record, self.script_name, self.source)
                if sink:
                    with self.store.open_output(event.record.id) as fh:
                        fh.write("\n".join(sink) + "\n")
                if event.series:
                    self.store.save(event.record, event.series)
                return
            if sink is not None:
                sink.close()
            if not os.path.isdir(self.store.run_dir(event.record.id)):  # the trial deleted it
                self.store.create(event.record)
            self.store.save(event.record, event.series)

    def _open_output(self, run_id: str) -> Any:
        try:
            return self.store.open_output(run_id)
        except (OSError, StoreError):
            if os.path.isdir(self.store.run_dir(run_id)):
                raise
            return open(os.devnull, "w", encoding="utf-8")  # the trial deleted its run directory
