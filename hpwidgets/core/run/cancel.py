"""A cancel token: Stop, Ctrl-C and timeouts kill what registered with it."""

from __future__ import annotations

import threading
from collections.abc import Callable


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._killers: dict[int, Callable[[], None]] = {}
        self._next = 0

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._event.wait(timeout)

    def register(self, kill: Callable[[], None]) -> int:
        """Call ``kill`` on cancel (at once if already cancelled); returns a key to unregister."""
        with self._lock:
            key = self._next
            self._next += 1
            self._killers[key] = kill
            cancelled = self._event.is_set()
        if cancelled:
            kill()
        return key

    def unregister(self, key: int) -> None:
        with self._lock:
            self._killers.pop(key, None)

    def cancel(self) -> None:
        with self._lock:
            self._event.set()
            killers = list(self._killers.values())
        for kill in killers:
            kill()
