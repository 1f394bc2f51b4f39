"""One watcher of the store per server: it notices changes cheaply and pushes the listing.

Every POLL seconds it stats the batches folder (manifests, locks, each detached batch's
``.events`` record) and the index (its WAL grows with every run a kernel saves), a few stat
calls however big the store; only when that signature changed, or every REFRESH seconds (a
kernel that died drops its batch's lock without writing anything), it reads the listing, and it
pushes it to the open streams only when the listing changed. Polling stat rather than inotify:
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

    def store(self) -> Store:
        """The store of the user running the server (one object: a Store is thread-safe)."""
        if self._store is None:
            self._store = Store()
        return self._store

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
        for path in (store.runs_dir, store.index_path, store.index_path + "-wal"):
            try:
                st = os.stat(path)
                seen.append((st.st_mtime_ns, st.st_size))
            except OSError:
                seen.append(None)
        try:
            with os.scandir(store.batches_dir) as entries:
                for entry in entries:
                    st = entry.stat()
                    seen.append((entry.name, st.st_mtime_ns, st.st_size))
        except OSError:
            pass
        return tuple(sorted(seen, key=repr))

    def _listing(self) -> str:
        from hpwidgets.core.results.batch_info import overview

        rows = overview(self.store())
        return json.dumps(ListingEvent(batches=rows, at=time.time()))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        signature: tuple = ()
        read_at = 0.0
        while self._queues:
            now = time.monotonic()
            try:
                current = await loop.run_in_executor(None, self._signature)
                if current != signature or self._forced or now - read_at > REFRESH:
                    signature, self._forced, read_at = current, False, now
                    new, self._new = self._new, set()
                    message = await loop.run_in_executor(None, self._listing)
                    changed = _without_clock(message) != _without_clock(self._last)
                    self._last = message
                    for queue in list(self._queues):
                        if changed or queue in new:
                            queue.put_nowait(message)
            except Exception as exc:  # a store that cannot be read now (removed, unsafe): say so, go on
                log.warning("hpwidgets: the Runs sidebar cannot read the store: %s", exc)
                self._store, read_at = None, now  # opened again at the next read
            await asyncio.sleep(POLL)


def _without_clock(message: str) -> Any:
    """A listing without what only the clock changes (the browser counts elapsed time itself)."""
    if not message:
        return None
    data = json.loads(message)
    return [{k: v for k, v in row.items() if k != "elapsed"} for row in data["batches"]]
