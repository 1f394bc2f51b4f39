"""The batches this kernel started and that still run, so that Run All cannot silently compare
stale results: ``%hpcompare`` says when some still run, and ``%hpcompare --wait`` waits."""

from __future__ import annotations

import time
import weakref
from typing import Any

from hpwidgets.core.results.progress import progress_text

_batches: weakref.WeakSet = weakref.WeakSet()
_started: dict[str, None] = {}  # every batch id this kernel started or followed, in order


def track(batch: Any) -> None:
    _batches.add(batch)
    _started[batch.id] = None


def started_ids() -> list[str]:
    """The batches this kernel started (or followed with %hpwatch), running or not."""
    return list(_started)


def running() -> list[Any]:
    return sorted((b for b in list(_batches) if not b.done), key=lambda b: b.id)


def running_note() -> str:
    """One line naming the batches of this kernel that still run ("" when none)."""
    live = running()
    if not live:
        return ""
    which = "; ".join(f"batch {b.id[:8]}: {progress_text(b.snapshot())}" for b in live)
    count = f"{len(live)} batch{'es' if len(live) != 1 else ''} of this kernel still run{'s' if len(live) == 1 else ''}"
    return f"Note: {count} ({which}); these results may be incomplete (--wait waits for them)"


def wait_all(poll: float = 0.1) -> None:
    """Wait until every batch of this kernel has ended (an interrupt stops the waiting only)."""
    while running():
        time.sleep(poll)
