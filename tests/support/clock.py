"""Time that moves only when a test advances it, for code that pauses between actions."""

from __future__ import annotations

import threading


class ManualClock:
    """Stands in for ``threading.Event.wait``: ``clock.wait(event, seconds)`` returns True as soon
    as ``event`` is set, and False once the test has advanced the clock by ``seconds``."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waiting = 0  # threads paused on this clock now
        self._changed = threading.Condition()

    def monotonic(self) -> float:
        return self.now

    def wait(self, event: threading.Event, seconds: float) -> bool:
        with self._changed:
            deadline = self.now + seconds
            self.waiting += 1
            try:
                while not event.is_set() and self.now < deadline:
                    self._changed.wait(0.005)  # setting the event does not notify us: look again soon
                return event.is_set()
            finally:
                self.waiting -= 1

    def advance(self, seconds: float) -> None:
        with self._changed:
            self.now += seconds
            self._changed.notify_all()
