"""Run a refresh on its own thread when poked, at most once per interval.

Events arrive on the batch thread, maybe hundreds a second; poking costs nothing, so the batch
never waits for a redraw, and the widgets get at most a few updates a second.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable


class Throttle:
    """``pause(event, seconds)`` waits between refreshes until ``event`` is set or ``seconds`` pass,
    returning whether it was set; tests give one driven by a clock they advance."""

    def __init__(self, refresh: Callable[[], None], interval: float = 0.25, name: str = "hpw-refresh",
                 pause: Callable[[threading.Event, float], bool] = threading.Event.wait) -> None:
        self._refresh, self._interval, self._name, self._pause = refresh, interval, name, pause
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def poke(self) -> None:
        """Ask for a refresh soon; the thread starts on the first poke."""
        with self._lock:
            if self._closed.is_set():
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
        self._wake.set()

    def close(self) -> None:
        """Stop the thread after the refresh in progress, if any; later pokes do nothing."""
        with self._lock:
            self._closed.set()
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            if self._closed.is_set():
                return
            self._wake.clear()
            try:
                self._refresh()
            except Exception:  # a broken redraw must not end live updates
                traceback.print_exc()
            if self._pause(self._closed, self._interval):
                return
