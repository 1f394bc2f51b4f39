"""Waiting for something another thread or process does, and saying what never happened."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 30.0, every: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something true, and return that; raise an
    AssertionError naming ``what`` when ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} never happened within {timeout:g} s")
        time.sleep(every)
