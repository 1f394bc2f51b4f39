"""The Runs sidebar's REST routes, under ``<base_url>/hpwidgets/``.

    GET  batches              a Listing: core/results/batch_info.overview, running ones first
    GET  batches/ID           one batch's BatchView (labserver/view.py)
    GET  batches/ID/csv       its runs as CSV
    POST batches/ID/stop      stop a detached batch (core/processes/detach.stop); a Message (one line)
    GET  events               a stream of ListingEvents (Server-Sent Events), pushed on change

Every handler is authenticated by the server (token or cookie; a POST with a cookie needs the
XSRF header); store work runs on a thread, never on the server's event loop. A bad request gets
a 4xx and a ``Message``: what was received and what is accepted. The JSON's types are in payloads.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import tornado.iostream
import tornado.web
from jupyter_server.base.handlers import APIHandler

from hpwidgets.core.errors import HpwError, OptionError
from hpwidgets.core.processes import detach
from hpwidgets.labserver.payloads import Listing, Message
from hpwidgets.labserver.watcher import CLOSED, HEARTBEAT, StoreWatcher


class _Handler(APIHandler):
    def initialize(self, watcher: StoreWatcher) -> None:
        self.watcher = watcher

    async def _off_loop(self, work: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, work, *args)

    async def _store(self) -> Any:
        return await self._off_loop(self.watcher.reaped_store)  # reaped first, as the CLI's commands do

    def _fail(self, status: int, message: str) -> None:
        self.set_status(status)
        self.finish(json.dumps(Message(message=message)))

    async def _answer(self, work: Callable[..., Any], *args: Any) -> Any:
        """The work's result, or None once a one-line 4xx has been sent for the user's error."""
        try:
            return await self._off_loop(work, *args)
        except OptionError as exc:  # an id that names no batch, or several
            self._fail(404, str(exc))
        except HpwError as exc:  # a state that forbids it: finished, not detached, another host
            self._fail(409, str(exc))
        return None


class BatchesHandler(_Handler):
    @tornado.web.authenticated
    async def get(self) -> None:
        from hpwidgets.core.results.batch_info import overview

        rows = await self._off_loop(overview, await self._store())
        self.finish(json.dumps(Listing(batches=rows)))


class BatchHandler(_Handler):
    @tornado.web.authenticated
    async def get(self, ref: str) -> None:
        from hpwidgets.labserver.view import batch_view

        store = await self._store()
        view = await self._answer(lambda: batch_view(store, store.resolve_batch(ref, option="batch")))
        if view is not None:
            self.finish(json.dumps(view))


class CsvHandler(_Handler):
    @tornado.web.authenticated
    async def get(self, ref: str) -> None:
        from hpwidgets.labserver.view import batch_csv

        store = await self._store()
        found = await self._answer(lambda: (store.resolve_batch(ref, option="batch"),))
        if found is None:
            return
        text = await self._off_loop(batch_csv, store, found[0])
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="hpw-{found[0][:8]}.csv"')
        self.finish(text)


class StopHandler(_Handler):
    @tornado.web.authenticated
    async def post(self, ref: str) -> None:
        # stop reaps the batch itself: a supervisor's SIGKILL left its trials running, and this ends them
        line = await self._answer(detach.stop, self.watcher.store(), ref)  # waits for the supervisor's end
        if line is not None:
            self.watcher.poke()
            self.finish(json.dumps(Message(message=line)))


class EventsHandler(_Handler):
    """Server-Sent Events over a plain authenticated GET: the browser reads it with fetch (its
    token header and all), so no second authentication path is needed as a WebSocket would."""

    _queue: asyncio.Queue | None = None

    @tornado.web.authenticated
    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")  # a proxy in front must not hold the stream
        queue = self._queue = self.watcher.subscribe()
        try:
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), HEARTBEAT)
                except asyncio.TimeoutError:
                    message = None
                if message is CLOSED:
                    break
                self.write(": keep-alive\n\n" if message is None else f"data: {message}\n\n")
                await self.flush()
        except tornado.iostream.StreamClosedError:
            pass
        finally:
            self.watcher.unsubscribe(queue)

    def on_connection_close(self) -> None:
        if self._queue is not None:
            self._queue.put_nowait(CLOSED)


def routes() -> list[tuple[str, type]]:
    ref = r"/([^/]+)"
    return [("batches", BatchesHandler), (f"batches{ref}", BatchHandler), (f"batches{ref}/csv", CsvHandler),
            (f"batches{ref}/stop", StopHandler), ("events", EventsHandler)]
