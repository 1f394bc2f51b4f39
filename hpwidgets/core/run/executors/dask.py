"""Trials of a script on a Dask distributed cluster; the one module of hpwidgets that imports dask.

Each trial is one task (``client.submit(..., pure=False)``) that owns the trial on its worker:
it writes the script's source, which travels with the task (no shared filesystem), into a
temporary directory, runs it there in its own process group with ``run_group`` (timeout and
kill included; ``sys.executable`` and the environment are the WORKER's) and returns the printed
lines and the exit code. Files the trial writes into its directory come back into its run directory (trial_files.py), in name order, up
to ``files_max`` bytes in all (``--dask-files-max``); what is left out is named in the trial's
output. Symbolic links and the names the store uses for itself never come back.

Streaming: while the trial runs, the task sends its new lines every ``STREAM_EVERY`` seconds
with ``worker.log_event`` on the batch's topic; the client's handler (on the client's event
loop) only queues them for the runner's thread, which hands them to ``on_line`` in order. When
the task ends, the lines the stream has not delivered are taken from its result.

Stop and pruning: Dask cannot cancel a running task, so each attempt has a ``distributed.Event``.
Stop or a pruner sets it; the running task watches it from a thread and kills its trial's process
group; a queued task that starts after it is set returns at once without running its trial. A
task that has not returned ``CANCEL_WAIT`` seconds after that is dropped with ``client.cancel``.

A lost worker: each attempt marks its start with a dataset published on the scheduler (named
``hpw-<uuid>-<run>-<attempt>``, removed afterwards) that holds the worker's address. When that
worker dies the scheduler runs the task again elsewhere; the new run finds the mark and
reports the lost worker instead of running the trial a second time (or the scheduler gives up
with ``KilledWorker``). The runner fails the trial with a reason naming the worker, or submits
a fresh attempt while ``retries`` remain. A trial orphaned by its dead worker ends with its whole
tree: its subreaper is told to end with the worker (``process_tree.END_WITH_PARENT``).
"""

from __future__ import annotations

import dataclasses
import os
import queue
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from hpwidgets.core.errors import OptionError
from hpwidgets.core.run.cancel import CancelToken
from hpwidgets.core.run.events import BatchFinished
from hpwidgets.core.run.executors.local import trial_env
from hpwidgets.core.run.executors.messages import NewLines, TaskEnded, WorkerLost
from hpwidgets.core.run.executors.subprocess_group import GRACE_SECONDS, run_group
from hpwidgets.core.run.executors.trial_files import FILES_MAX, collect, write_back
from hpwidgets.core.run.process_tree import END_WITH_PARENT
from hpwidgets.core.run.scripts import SPEC_FILE, ScriptInfo, command
from hpwidgets.core.run.trial import TrialOutcome, TrialRunner, TrialSpec

__all__ = ["DaskRunner", "cluster_threads"]

CANCEL_WAIT = GRACE_SECONDS + 5.0  # after Stop, how long a task may take to return by itself
CONNECT_TIMEOUT = "10s"
STREAM_EVERY = 0.1  # seconds between two messages of a running trial's new lines

def _distributed(cluster: Any = None) -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise OptionError("dask", cluster, "a Dask scheduler once dask and distributed are installed: "
                          "pip install 'hpwidgets[dask]'", reason=f"dask is not installed ({exc})") from None
    return distributed


def cluster_threads(client: Any) -> int:
    """Threads on the cluster's workers now: how many trials can run at once."""
    return max(1, sum(client.nthreads().values()))


class DaskRunner(TrialRunner):
    """Runs script trials on the cluster of ``cluster``: a scheduler address or a Client.

    A Client made here from an address is closed by ``close()``; a given Client is left open.
    """

    def __init__(self, info: ScriptInfo, cluster: Any, retries: int = 0, files_max: int = FILES_MAX) -> None:
        distributed = _distributed(cluster)
        self.info, self.retries, self.files_max = info, retries, files_max
        self._owns = not isinstance(cluster, distributed.Client)
        if self._owns:
            try:
                if isinstance(cluster, str):  # a malformed address fails here, before a Client exists
                    from distributed.comm.registry import get_backend

                    scheme = distributed.comm.parse_address(cluster)[0]
                    get_backend(scheme)
                    if scheme in ("tcp", "tls"):
                        distributed.comm.get_address_host_port(cluster)
                cluster = distributed.Client(cluster, timeout=CONNECT_TIMEOUT, set_as_default=False)
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                raise OptionError("dask", cluster, "the address of a running Dask scheduler, such as "
                                  "tcp://10.0.0.5:8786", reason=str(exc)) from None
        self.client = cluster
        self._name = f"hpw-{uuid.uuid4().hex}"
        self._inboxes: dict[str, queue.Queue] = {}  # attempt mark -> its streamed lines
        self.client.subscribe_topic(self._name, self._on_lines)

    @property
    def slots(self) -> int:  # type: ignore[override]
        return cluster_threads(self.client)

    def __call__(self, spec: TrialSpec, cancel: CancelToken, on_line: Callable[[str], None]) -> TrialOutcome:
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            result, delivered = self._attempt(spec, cancel, attempt, on_line)
            if isinstance(result, TaskEnded):
                for line in result.lines[delivered:]:  # what the stream did not bring
                    on_line(line)
                for line in write_back(spec.run_dir, list(result.files), list(result.left_out)):
                    on_line(line)
                return TrialOutcome(exit_code=result.exit_code, killed=result.killed)
            reason = f"its Dask worker {result.address} was lost"
            if cancel.is_set():
                return TrialOutcome(exit_code=None, killed="cancel", reason=reason)
            if attempt < attempts:
                on_line(f"hpw: {reason}; retrying (attempt {attempt + 1} of {attempts})")
        return TrialOutcome(exit_code=None, reason=reason)

    def _attempt(self, spec: TrialSpec, cancel: CancelToken, attempt: int,
                 on_line: Callable[[str], None]) -> tuple[TaskEnded | WorkerLost, int]:
        """The task's answer, and how many of its lines the stream delivered."""
        distributed = _distributed()
        mark = f"{self._name}-{spec.run_id}-{attempt}"
        inbox = self._inboxes[mark] = queue.Queue()
        kill = distributed.Event(f"{mark}-kill", client=self.client)
        future = self.client.submit(
            _trial_task, self.info, spec.flags, spec.timeout, kill.name, mark, self._name, self.files_max,
            key=f"hpw-trial-{spec.run_id[:8]}-{attempt}-{uuid.uuid4().hex[:8]}", pure=False,
        )  # fmt: skip
        key = cancel.register(lambda: _set_later(kill))
        delivered, stopped_at = 0, None
        try:
            while True:
                try:
                    start, lines = inbox.get(timeout=0.2)
                    if start == delivered:  # in order; a gap is filled from the result at the end
                        for line in lines:
                            on_line(line)
                        delivered += len(lines)
                except queue.Empty:
                    pass
                if future.done():  # lines still queued come from the result
                    try:
                        return future.result(), delivered
                    except distributed.KilledWorker as exc:
                        return WorkerLost(getattr(getattr(exc, "last_worker", None), "address", "(unknown)")), 0
                if cancel.is_set():
                    stopped_at = stopped_at or time.monotonic()
                    if time.monotonic() - stopped_at > CANCEL_WAIT:
                        self.client.cancel(future)
                        return TaskEnded(exit_code=None, killed="cancel", lines=()), 0
        finally:
            cancel.unregister(key)
            self._inboxes.pop(mark, None)
            for forget in (lambda: self.client.unpublish_dataset(mark), kill.clear):
                try:
                    forget()
                except Exception:  # the scheduler is gone: nothing left to clean
                    pass

    def _on_lines(self, event: tuple[float, Any]) -> None:
        """On the client's event loop: queue a running trial's new lines for its runner thread."""
        msg: NewLines = event[1]
        inbox = self._inboxes.get(msg["mark"])
        if inbox is not None:
            inbox.put((msg["start"], list(msg["lines"])))

    def on_event(self, event: Any) -> None:
        if isinstance(event, BatchFinished):
            self.close()

    def close(self) -> None:
        """Stop listening to the batch's lines; close the Client if made here."""
        try:
            self.client.unsubscribe_topic(self._name)
        except Exception:
            pass
        if self._owns:
            self.client.close()


def _set_later(kill: Any) -> None:
    """Called by Stop or a pruner: tell the task, off the caller's thread (a widget's callback)."""

    def tell() -> None:
        try:
            kill.set()
        except Exception:  # the scheduler is unreachable: the runner gives up waiting instead
            pass

    threading.Thread(target=tell, name="hpw-dask-kill", daemon=True).start()


def _trial_task(
    info: ScriptInfo, flags: dict[str, Any], timeout: float | None, stop_name: str, mark_name: str, topic: str,
    files_max: int = FILES_MAX,
) -> TaskEnded | WorkerLost:
    """Runs on a worker: one attempt at one trial."""
    distributed = _distributed()
    client, worker = distributed.get_client(), distributed.get_worker()
    here = worker.address
    lost_on = client.get_dataset(mark_name, default=None)
    if lost_on is not None:  # this attempt began on a worker that is gone: do not run it twice
        return WorkerLost(lost_on)
    client.publish_dataset(**{mark_name: here})
    stop = distributed.Event(stop_name, client=client)
    if stop.is_set():
        return TaskEnded(exit_code=None, killed="cancel", lines=())
    token, done = CancelToken(), threading.Event()

    lines: list[str] = []
    sent = 0

    def watch() -> None:
        while not done.is_set():
            try:
                if stop.wait(1.0):
                    token.cancel()
                    return
            except Exception:  # the worker is closing; the trial ends with it
                return

    def stream() -> None:
        nonlocal sent
        while not done.wait(STREAM_EVERY):
            count = len(lines)  # appends happen on the trial's thread: read the length once
            if count > sent:
                worker.log_event(topic, NewLines(mark=mark_name, start=sent, lines=lines[sent:count]))
                sent = count

    threading.Thread(target=watch, name="hpw-stop-watch", daemon=True).start()
    threading.Thread(target=stream, name="hpw-line-stream", daemon=True).start()
    try:
        # in the worker's own directory, which Dask purges if the worker dies before we clean up
        with tempfile.TemporaryDirectory(prefix="hpw-trial-", dir=worker.local_directory) as cwd:
            copy = os.path.join(cwd, "sourcecode", info.name)
            os.makedirs(os.path.dirname(copy))
            with open(copy, "w", encoding="utf-8") as fh:
                fh.write(info.source)
            argv = command(dataclasses.replace(info, path=copy), flags, copy, os.path.join(cwd, SPEC_FILE))
            env = {**trial_env(), END_WITH_PARENT: str(os.getpid())}  # a lost worker takes its trials along
            code, killed = run_group(argv, cwd, env, lines.append, token, timeout)
            files, left = collect(cwd, files_max)
    finally:
        done.set()
    return TaskEnded(exit_code=code, killed=killed, lines=tuple(lines), files=tuple(files), left_out=tuple(left))
