"""A running trial's printed lines, sent on in batches from a thread of their own.

Nothing is sent while the trial is silent; the first new line goes at once, and lines that come
within ``every`` seconds of the last send travel together in the next one. Once the trial has
ended nothing more is sent: the sender's caller passes the rest on by other means (a Dask trial's
result holds every line).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class LineBatches:
    """Collects lines (``add``) and calls ``send(start, lines)`` with each new batch, in order."""

    def __init__(self, send: Callable[[int, list[str]], None], every: float) -> None:
        self.lines: list[str] = []
        self.sent = 0  # how many of them went out (final once ``end`` returns)
        self._send, self._every = send, every
        self._changed = threading.Condition()
        self._ended = False
        self._thread = threading.Thread(target=self._run, name="hpw-line-batches", daemon=True)
        self._thread.start()

    def add(self, line: str) -> None:
        with self._changed:
            self.lines.append(line)
            self._changed.notify()

    def end(self) -> None:
        """Send nothing more (a send under way finishes first)."""
        with self._changed:
            self._ended = True
            self._changed.notify()
        self._thread.join()

    def _run(self) -> None:
        sent, last = 0, -float("inf")
        while True:
            with self._changed:
                while len(self.lines) == sent and not self._ended:
                    self._changed.wait()
                pause = last + self._every - time.monotonic()
                if pause > 0:  # coalesce: what arrives within the pause goes in this batch
                    self._changed.wait_for(lambda: self._ended, pause)
                if self._ended:
                    return
                batch = self.lines[sent:]
            self._send(sent, batch)
            sent, last = sent + len(batch), time.monotonic()
            self.sent = sent
