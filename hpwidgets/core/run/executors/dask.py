"""Trials of a script on a Dask distributed cluster; the one module of hpwidgets that imports dask.

Each trial is one task (``client.submit(..., pure=False)``) that owns the trial on its worker:
it writes the script's source, which travels with the task (no shared filesystem), into a
temporary directory, runs it there in its own process group with ``run_group`` (timeout and
kill included; ``sys.executable`` and the environment are the WORKER's) and returns the printed
lines and the exit code. Files the trial writes into its directory come back into its run directory (trial_files.py), in name order, up
to ``files_max`` bytes in all (``--dask-files-max``); what is left out is named in the trial's
output. Symbolic links and the names the store uses for itself never come back.

Streaming: while the trial runs, the task sends its new lines in batches (line_batches.py: on
change, at most one message every ``STREAM_EVERY`` seconds, none once the trial has ended), and
the new bytes of its TensorBoard event files every ``EVENT_FILES_EVERY`` seconds (the runner
appends them in the run directory), with ``worker.log_event`` on the batch's topic; the client's handler (on the client's event loop)
only queues them for the runner's thread, which hands them to ``on_line`` in order. When the
task ends, the lines the stream has not delivered are taken from its result; or, when the trial
brings no files back and what is left of its lines is short (``DONE_MAX``), from a ``TrialDone``
event sent just before the task returns, which the runner takes at once instead of fetching the
result through the scheduler (a round trip to the worker: 10-30 ms of each trial's slot).

The mark: each attempt claims a dataset on the scheduler (named ``hpw-<uuid>-<run>-<attempt>``,
removed afterwards off the runner's path, ``FORGET_EVERY`` marks at a time and the rest at the
batch's end) in one round trip, publishing it with ``override=False``. It normally holds the
address of the worker that began the attempt; Stop may have claimed it first with ``STOPPED``.
The claim travels while the trial's interpreter starts: the script waits at a gate
(``scripts.GATE_FD``) until the claim succeeds, and exits unrun when it fails.

Stop and pruning: Dask cannot cancel a running task. Stop or a pruner claims the attempt's mark
with ``STOPPED``: a queued task that starts afterwards finds it taken and returns at once without
running its trial. If the task had claimed it first, the runner has the attempts' cancel tokens
cancelled where they run (``client.run`` of ``_kill_trials`` on the workers, one call for a
Stop's attempts): each task registers its token in its worker process (``_RUNNING``) before it
claims its mark, so a claimed attempt is always found, and its trial's process group is killed.
Nothing on the scheduler waits for a kill that never comes (a kill event per trial, watched from
a thread, cost a long poll per trial). Kills wait until every attempt Stop asked for has been
claimed: a kill frees a slot, where a queued task would otherwise begin. A task that has not
returned ``CANCEL_WAIT`` seconds after Stop is dropped with ``client.cancel``.

A lost worker: when the worker that claimed the mark dies, the scheduler runs the task again
elsewhere; the new run finds the mark taken, with that worker's address, and reports the lost
worker instead of running the trial a second time (or the scheduler gives up with
``KilledWorker``). The runner fails the trial with a reason naming the worker, or submits a fresh
attempt while ``retries`` remain. A trial orphaned by its dead worker ends with its whole tree:
its subreaper is told to end with the worker (``process_tree.END_WITH_PARENT``).

What a trial costs beyond its script is measured part by part in bench/README.md ("Dask
trials"): per trial, one round trip on the worker while the script's interpreter starts, two
worker events (its lines, its end) and none on the runner's path after its result, which wakes
the runner at once (the end event, or a done callback).
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
from hpwidgets.core.run.executors.line_batches import LineBatches
from hpwidgets.core.run.executors.messages import EventFileBytes, NewLines, TaskEnded, TrialDone, WorkerLost
from hpwidgets.core.run.executors.subprocess_group import GRACE_SECONDS, run_group
from hpwidgets.core.run.executors.trial_files import (
    FILES_MAX,
    append_tail,
    collect,
    event_file_tails,
    write_back,
)
from hpwidgets.core.run.process_tree import END_WITH_PARENT
from hpwidgets.core.run.scripts import GATE_FD, SPEC_FILE, ScriptInfo, command
from hpwidgets.core.run.trial import TrialOutcome, TrialRunner, TrialSpec

__all__ = ["DaskRunner", "cluster_threads"]

CANCEL_WAIT = GRACE_SECONDS + 5.0  # after Stop, how long a task may take to return by itself
CONNECT_TIMEOUT = "10s"
STREAM_EVERY = 0.1  # seconds at least between two messages of a running trial's new lines
DONE_MAX = 1 << 16  # characters of unsent lines a TrialDone event may carry; more: the result brings them
EVENT_FILES_EVERY = 0.5  # seconds between two looks at a running trial's event files
STOPPED = "stopped"  # an attempt's mark claimed by Stop before its task began (never an address)
FORGET_EVERY = 64  # ended attempts' marks removed together (and all at the batch's end)
_WAKE = ("wake", ())  # in an attempt's inbox: its future is done, or Stop came

def _worker_env() -> dict[str, str]:
    """The worker's environment, unbuffered so that lines come as printed, as for local trials
    (local.trial_env, not imported here: with it a worker's first task would load the run store),
    and the worker's pid for the trial's subreaper: a lost worker takes its trials along."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", END_WITH_PARENT: str(os.getpid())}


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
        self._inboxes: dict[str, queue.Queue] = {}  # attempt mark -> its streamed lines, and _WAKE
        # Stop's claims and the marks' removal, in order, off the runners' threads: a Stop's claim
        # never lands after its mark's removal, where it would outlive the batch
        self._errands: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._stopping: list[str] = []  # the marks of Stop's attempts not yet claimed
        self._stopping_lock = threading.Lock()
        self._marks_done: list[str] = []  # ended attempts' marks, still on the scheduler (errands' own)
        self._errand_thread = threading.Thread(target=self._run_errands, name="hpw-dask-errands", daemon=True)
        self._errand_thread.start()
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
        future = self.client.submit(
            _trial_task, self.info, spec.flags, spec.timeout, mark, self._name, self.files_max,
            key=f"hpw-trial-{spec.run_id[:8]}-{attempt}-{uuid.uuid4().hex[:8]}", pure=False,
        )  # fmt: skip
        future.add_done_callback(lambda _: inbox.put(_WAKE))  # on the client's loop: wake the loop below

        def stop() -> None:  # Stop or a pruner, on their own thread (a widget's callback): never wait here
            with self._stopping_lock:
                self._stopping.append(mark)
            self._errands.put(self._stop_pending)
            inbox.put(_WAKE)

        key = cancel.register(stop)
        delivered, stopped_at = 0, None
        try:
            while True:
                try:
                    item = inbox.get(timeout=0.2 if cancel.is_set() else None)
                except queue.Empty:
                    item = _WAKE
                if item is not _WAKE and item[0] == "file":  # an event file grew: its new bytes, for the engine
                    append_tail(spec.run_dir, *item[1])
                elif item is not _WAKE and item[0] == "done":
                    done: TrialDone = item[1]
                    if done["start"] == delivered:  # else a gap: the result fills it
                        return TaskEnded(exit_code=done["exit_code"], killed=done["killed"], lines=tuple(done["lines"])), 0
                elif item is not _WAKE and item[0] == delivered:  # in order; a gap is filled from the result
                    for line in item[1]:
                        on_line(line)
                    delivered += len(item[1])
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
            self._errands.put(lambda: self._forget(mark))

    def _stop_pending(self) -> None:
        """Claim the marks of every attempt Stop asked for, so that queued tasks never begin, and
        only then tell the ones that had begun to kill: a kill frees a slot, and a queued task
        whose mark is still free would start there."""
        began = []
        while True:
            with self._stopping_lock:
                pending, self._stopping = self._stopping, []
            if not pending:
                break
            for mark in pending:
                try:
                    self.client.publish_dataset(**{mark: STOPPED})  # override=False: fails once claimed
                except KeyError:
                    began.append(mark)
        if began:  # on every worker: a mark's address may be a lost worker's
            self.client.run(_kill_trials, began, on_error="ignore")

    def _forget(self, mark: str) -> None:
        """Remove the attempt's mark from the scheduler with the next ``FORGET_EVERY`` or at the
        batch's end, in one round trip (one a trial cost 2 ms of the scheduler's and the client's
        CPU)."""
        self._marks_done.append(mark)
        if len(self._marks_done) >= FORGET_EVERY:
            self._remove_marks()

    def _remove_marks(self) -> None:
        marks, self._marks_done = self._marks_done, []
        if marks:
            self.client.unpublish_dataset(marks)

    def _run_errands(self) -> None:
        while (errand := self._errands.get()) is not None:
            try:
                errand()
            except Exception:  # the scheduler is gone or unreachable: the runner gives up waiting instead
                pass

    def _on_lines(self, event: tuple[float, Any]) -> None:
        """On the client's event loop: queue a running trial's new lines for its runner thread."""
        msg: NewLines | EventFileBytes | TrialDone = event[1]
        inbox = self._inboxes.get(msg["mark"])
        if inbox is not None and "exit_code" in msg:
            inbox.put(("done", msg))
        elif inbox is not None and "file" in msg:
            inbox.put(("file", (msg["file"], msg["at"], msg["data"])))
        elif inbox is not None:
            inbox.put((msg["start"], list(msg["lines"])))

    def on_event(self, event: Any) -> None:
        from hpwidgets.core.run.events import BatchFinished  # here: a worker never loads the events

        if isinstance(event, BatchFinished):
            self.close()

    def close(self) -> None:
        """Finish the errands, stop listening to the batch's lines; close the Client if made here."""
        if self._errand_thread.is_alive():
            self._errands.put(self._remove_marks)
            self._errands.put(None)
            self._errand_thread.join(CANCEL_WAIT)
        try:
            self.client.unsubscribe_topic(self._name)
        except Exception:
            pass
        if self._owns:
            self.client.close()


def _claim(client: Any, mark_name: str, address: str) -> TaskEnded | WorkerLost | None:
    """Claim the attempt's mark for this worker (one round trip); what to return instead if taken."""
    try:
        client.publish_dataset(**{mark_name: address})  # override=False: fails if the mark is taken
        return None
    except KeyError:  # Stop came first, or this attempt began on a worker that is gone: do not run it (twice)
        began = client.get_dataset(mark_name, default=None)
    if began == STOPPED:
        return TaskEnded(exit_code=None, killed="cancel", lines=())
    return WorkerLost(began or "(unknown)")


# On a worker process: its running attempts' cancel tokens by mark, for a Stop's ``_kill_trials``
_RUNNING: dict[str, CancelToken] = {}


def _kill_trials(marks: list[str]) -> None:
    """On a worker, through ``client.run``: cancel the attempts of ``marks`` that run here."""
    for mark in marks:
        token = _RUNNING.get(mark)
        if token is not None:
            token.cancel()


def _trial_task(
    info: ScriptInfo, flags: dict[str, Any], timeout: float | None, mark_name: str, topic: str,
    files_max: int = FILES_MAX,
) -> TaskEnded | WorkerLost:
    """Runs on a worker: one attempt at one trial."""
    token = _RUNNING[mark_name] = CancelToken()  # before the claim: a Stop that finds it claimed kills
    try:
        return _attempt_here(info, flags, timeout, mark_name, topic, files_max, token)
    finally:
        _RUNNING.pop(mark_name, None)


def _attempt_here(
    info: ScriptInfo, flags: dict[str, Any], timeout: float | None, mark_name: str, topic: str, files_max: int,
    token: CancelToken,
) -> TaskEnded | WorkerLost:
    """The claim travels while the trial's interpreter starts: the script waits at its gate
    (``scripts.GATE_FD``) for the claim's byte, and exits unrun on EOF."""
    distributed = _distributed()
    client, worker = distributed.get_client(), distributed.get_worker()
    claim: list[TaskEnded | WorkerLost | None] = []  # the claim's answer
    gate, opener = os.pipe()
    unclosed = {gate, opener}

    def claim_mark(_pid: int) -> None:  # run_group's on_spawn; an error (no scheduler) ends the trial
        try:
            claim.append(_claim(client, mark_name, worker.address))
            if claim[0] is None:
                os.write(opener, b"1")  # the trial may run
        finally:
            os.close(opener)
            unclosed.discard(opener)

    try:
        # in the worker's own directory, which Dask purges if the worker dies before we clean up
        with tempfile.TemporaryDirectory(prefix="hpw-trial-", dir=worker.local_directory) as cwd:
            ended, sent = _run_claimed(info, flags, timeout, mark_name, topic, files_max, token, cwd, gate,
                                       claim_mark, worker)  # fmt: skip
    finally:
        for fd in unclosed:
            os.close(fd)
    if claim[0] is not None:  # the script never ran
        return claim[0]
    rest = list(ended.lines[sent:])
    if not ended.files and not ended.left_out and sum(map(len, rest)) <= DONE_MAX:
        worker.log_event(topic, TrialDone(mark=mark_name, start=sent, lines=rest, exit_code=ended.exit_code,
                                          killed=ended.killed))  # fmt: skip
    return ended


def _run_claimed(
    info: ScriptInfo, flags: dict[str, Any], timeout: float | None, mark_name: str, topic: str, files_max: int,
    token: CancelToken, cwd: str, gate: int, on_spawn: Callable[[int], None], worker: Any,
) -> tuple[TaskEnded, int]:
    """The trial in ``cwd``, its script let through ``gate`` once the mark is claimed; and how many
    of its lines the stream sent."""
    copy = os.path.join(cwd, "sourcecode", info.name)
    os.makedirs(os.path.dirname(copy))
    with open(copy, "w", encoding="utf-8") as fh:
        fh.write(info.source)
    argv = command(dataclasses.replace(info, path=copy), flags, copy, os.path.join(cwd, SPEC_FILE))

    def send(start: int, lines: list[str]) -> None:
        worker.log_event(topic, NewLines(mark=mark_name, start=start, lines=lines))

    def send_event_files(sent: dict[str, int]) -> None:
        for rel, at, data in event_file_tails(cwd, sent, files_max):
            worker.log_event(topic, EventFileBytes(mark=mark_name, file=rel, at=at, data=data))

    code, killed, lines, sent = _run_watched(argv, cwd, timeout, token, send, send_event_files, gate, on_spawn)
    files, left = collect(cwd, files_max)
    return TaskEnded(exit_code=code, killed=killed, lines=lines, files=tuple(files), left_out=tuple(left)), sent


def _run_watched(argv: list[str], cwd: str, timeout: float | None, token: CancelToken,
                 send: Callable[[int, list[str]], None],
                 send_event_files: Callable[[dict[str, int]], None] | None = None, gate: int | None = None,
                 on_spawn: Callable[[int], None] | None = None,
                 ) -> tuple[int | None, str | None, tuple[str, ...], int]:
    """Run the trial, killed when ``token`` is cancelled, its lines sent in batches while it runs
    (and its event files' new bytes, with ``send_event_files``); its script waits at ``gate``,
    which ``on_spawn`` opens.
    Returns its exit code, why it was killed, its lines and how many of them were sent."""
    done = threading.Event()

    def follow_event_files() -> None:
        sent: dict[str, int] = {}  # event file -> bytes sent
        while not done.wait(EVENT_FILES_EVERY):
            send_event_files(sent)

    if send_event_files is not None:
        threading.Thread(target=follow_event_files, name="hpw-event-files", daemon=True).start()
    stream = LineBatches(send, STREAM_EVERY)
    try:
        env = _worker_env() if gate is None else {**_worker_env(), GATE_FD: str(gate)}
        code, killed = run_group(argv, cwd, env, stream.add, token, timeout, on_spawn,
                                 pass_fds=() if gate is None else (gate,))
    finally:
        done.set()
        stream.end()
    return code, killed, tuple(stream.lines), stream.sent
