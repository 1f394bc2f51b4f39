"""A trial's event files, looked at every ``POLL`` seconds while it runs and once when it ends, so
that curves and pruning see TensorBoard scalars live."""

from __future__ import annotations

import threading
from collections.abc import Callable

from hpwidgets.core.run.output.event_files import EventFiles

POLL = 0.5  # seconds between two looks at a running trial's event files


class EventWatch:
    """Hands each new (tag, step, value) to ``on_scalars`` from a thread of its own."""

    def __init__(self, run_dir: str, on_scalars: Callable[[list[tuple[str, int, float]]], None]) -> None:
        self.files = EventFiles(run_dir)
        self.on_scalars = on_scalars
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hpw-event-files", daemon=True)

    def __enter__(self) -> EventWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._look()  # what the trial wrote last (a Dask trial's files arrive only now)

    def _loop(self) -> None:
        while not self._stop.wait(POLL):
            self._look()

    def _look(self) -> None:
        found = self.files.read_new()
        if found:
            self.on_scalars(found)
