"""One watcher of the store per server: it notices changes cheaply and pushes the listing.

Every POLL seconds it stats the runs and batches folders (a new run, manifest or lock), the
index (its WAL grows with every run a kernel saves) and the files of the batches the last
listing showed running (a detached batch's ``.events`` record, its lock), a few stat calls
however big the store; every REFRESH seconds it looks whether those batches still hold their
locks (a kernel that died drops its lock without writing anything). Only when one of these
changed does it read the listing (a query: core/results/batch_info.overview), and it pushes it
to the open streams only when the listing changed. Polling stat rather than inotify:
home folders on JupyterHub are often NFS, where inotify misses other hosts' writes. It runs
while at least one browser listens.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from typing import Any

from hpwidgets.core.store.runstore import Store
from hpwidgets.labserver.payloads import ListingEvent

POLL = 0.25  # seconds between stats of the store
REFRESH = 5.0  # seconds between listings read without a change seen
HEARTBEAT = 15.0  # seconds between keep-alive comments on an idle stream (proxies close silent ones)
CLOSED = object()  # put on a stream's queue when its browser went away
log = logging.getLogger(__name__)


class StoreWatcher:
    def __init__(self) -> None:
        self._store: Store | None = None
        self._queues: set[asyncio.Queue] = set()
        self._task: asyncio.Task | None = None
        self._last = ""  # the last listing pushed, as sent
        self._new: set[asyncio.Queue] = set()  # streams opened since the last read
        self._forced = True
        self._running: list[str] = []  # the batches the last listing showed running

    def store(self) -> Store:
        """The store of the user running the server (one object: a Store is thread-safe)."""
        if self._store is None:
            self._store = Store()
        return self._store

    def reaped_store(self) -> Store:
        """The store after the CLI's explicit step: runs whose process died (a supervisor's SIGKILL)
        are terminated and their trials killed, so no answer shows a dead batch's trial running.
        Blocking: called off the event loop."""
        store = self.store()
        store.reap_orphans()
        return store

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue()
        self._queues.add(queue)
        self._new.add(queue)  # it gets the listing read at the next tick, changed or not
        self._forced = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._queues.discard(queue)
        self._new.discard(queue)

    def poke(self) -> None:
        """Read the listing at the next tick (a Stop just changed it)."""
        self._forced = True

    def _signature(self) -> tuple:
        store = self.store()
        seen: list[Any] = []
        paths = [store.runs_dir, store.batches_dir, store.index_path, store.index_path + "-wal"]
        for batch_id in self._running:
            paths += [os.path.join(store.batches_dir, f"{batch_id}{end}") for end in (".events", ".lock")]
        for path in paths:
            try:
                st = os.stat(path)
                seen.append((st.st_mtime_ns, st.st_size))
            except OSError:
                seen.append(None)
        return tuple(seen)

    def _ended(self) -> bool:
        """Whether a batch the last listing showed running no longer holds its lock."""
        from hpwidgets.core.processes import locks

        return any(not locks.is_running(self.store().batches_dir, b) for b in self._running)

    def _listing(self) -> str:
        from hpwidgets.core.results.batch_info import overview

        rows = overview(self.reaped_store())
        self._running = [row["id"] for row in rows if row["running"]]
        return json.dumps(ListingEvent(batches=rows, at=time.time()))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        signature: tuple = ()
        looked_at = 0.0
        failed_at: float | None = None  # a listing that could not be read is tried again after REFRESH
        while self._queues:
            now = time.monotonic()
            try:
                current = await loop.run_in_executor(None, self._signature)
                ended = False
                if now - looked_at > REFRESH:
                    looked_at = now
                    ended = bool(self._running) and await loop.run_in_executor(None, self._ended)
                retry = failed_at is not None and now - failed_at > REFRESH
                if current != signature or self._forced or ended or retry:
                    signature, self._forced, failed_at = current, False, None
                    new, self._new = self._new, set()
                    message = await loop.run_in_executor(None, self._listing)
                    changed = _without_clock(message) != _without_clock(self._last)
                    self._last = message
                    for queue in list(self._queues):
                        if changed or queue in new:
                            queue.put_nowait(message)
            except Exception as exc:  # a store that cannot be read now (removed, unsafe): say so, go on
                log.warning("hpwidgets: the Runs sidebar cannot read the store: %s", exc)
                self._store, failed_at = None, now  # opened again at the next read
            await asyncio.sleep(POLL)


def _without_clock(message: str) -> Any:
    """A listing without what only the clock changes (the browser counts elapsed time itself)."""
    if not message:
        return None
    data = json.loads(message)
    return [{k: v for k, v in row.items() if k != "elapsed"} for row in data["batches"]]
