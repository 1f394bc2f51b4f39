"""Detached batches: a supervisor process of its own runs the batch, outliving the kernel.

``launch`` saves the batch's manifest (what ``--resume`` reads), starts ``python -m
hpwidgets.supervise`` in a new session (a kernel restart's SIGKILL or an interrupt's SIGINT to
the kernel's group never reaches it) and waits until the supervisor holds the batch's lock or
says in one line why it cannot run it. The supervisor writes its owner token to
``batches/<id>.owner``; ``stop`` signals it only when that token still names a live process of
ours (never a pid read blindly: a reused pid has another start time).
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time

from hpwidgets.core.errors import HpwError, OptionError, StoreError
from hpwidgets.core.processes import locks, owners, stop_requests
from hpwidgets.core.results.counts import BatchCounts
from hpwidgets.core.store import manifests, safety
from hpwidgets.core.store.runstore import Store

READY_TIMEOUT = 120.0  # seconds for the supervisor to import, check and start the batch (a busy machine)
STOP_TIMEOUT = 60.0  # seconds for a stopped supervisor to kill its trials and record them


class DetachError(HpwError):
    """The supervisor could not start the batch, or could not be stopped."""


def owner_path(store: Store, batch_id: str) -> str:
    return os.path.join(store.batches_dir, f"{batch_id}.owner")


def log_path(store: Store, batch_id: str) -> str:
    return os.path.join(store.batches_dir, f"{batch_id}.log")


def check_detachable(batch) -> None:
    """Refuse a batch a process of its own cannot run: a function's trials need this process."""
    if batch.info is None:
        raise OptionError("detach", True, "a batch of a script or a %%hprun cell; a function's trials run in "
                                          "this process (pass a script, or leave out detach)")


def launch(batch) -> str:
    """Start a supervisor for the prepared ``batch``; returns its id once the batch runs."""
    check_detachable(batch)
    store: Store = batch.store
    if not batch.engine.resumed:
        batch.save_manifest()
    batch.release()  # a --resume's lock: the supervisor takes it and lists the finished runs again
    if locks.is_running(store.batches_dir, batch.id):
        raise OptionError("detach", batch.id[:8], f"a batch that no process runs; batch {batch.id[:8]} already "
                                                  "has a supervisor (hpw watch or hpw stop it)")
    try:
        log = safety.open_private(log_path(store, batch.id), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    except OSError as exc:
        raise StoreError.writing(exc, log_path(store, batch.id)) from None
    read_end, write_end = os.pipe()
    # the store and the batch travel in the environment, which only its user reads: `ps` shows neither
    env = {**os.environ, "HPWIDGETS_HOME": store.root, BATCH_ENV: batch.id, "PYTHONUNBUFFERED": "1"}
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hpwidgets.supervise", "-", str(write_end)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(write_end,), env=env,
            start_new_session=True,  # its own session: the kernel's signals never reach it
        )
    finally:
        os.close(write_end)
        os.close(log)
    # reap it when it ends, or it stays a zombie of this process (a kernel) that looks alive
    threading.Thread(target=proc.wait, name=f"hpw-reap-{batch.id[:8]}", daemon=True).start()
    try:
        answer = _read_answer(read_end, proc)
    finally:
        os.close(read_end)
    if answer != "ok":
        raise DetachError(answer.removeprefix("error: ") or
                          f"the supervisor of batch {batch.id[:8]} ended before starting it "
                          f"(see {log_path(store, batch.id)})")
    return batch.id


BATCH_ENV = "HPWIDGETS_SUPERVISE_BATCH"  # the batch a supervisor started with ``-`` runs


def _read_answer(fd: int, proc: subprocess.Popen) -> str:
    deadline = time.monotonic() + READY_TIMEOUT
    data = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:  # closed: the supervisor said all it says
                break
            data += chunk
            if b"\n" in data:
                break
    else:
        return f"the supervisor gave no answer within {READY_TIMEOUT:.0f}s (it keeps starting; see hpw watch)"
    return data.decode("utf-8", "replace").strip()


def write_owner(store: Store, batch_id: str) -> None:
    """The supervisor's token: host, pid and the pid's start time."""
    try:
        fd = safety.open_private(owner_path(store, batch_id), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(owners.current_token())
    except OSError as exc:
        raise StoreError.writing(exc, owner_path(store, batch_id)) from None


def supervisor_pid(store: Store, batch_id: str) -> int | None:
    """The pid of the batch's live supervisor, verified by its token; None when there is none."""
    try:
        token = safety.read_private(owner_path(store, batch_id)).decode("ascii")
        host, pid_text, start = token.rsplit(":", 2)
        pid = int(pid_text)
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return None
    if host != socket.gethostname():
        raise DetachError(f"batch {batch_id[:8]} is supervised on host {host}: stop it there")
    if (pid <= 1 or start == "?" or owners.start_time(pid) != start or owners.is_zombie(pid)
            or owners.real_uid(pid) != os.geteuid()):
        return None  # gone, or the pid now names another process
    return pid


def stop(store: Store, ref: str) -> str:
    """Stop a running batch and wait until its process has recorded the end; one line. A detached
    batch's supervisor gets SIGTERM; a kernel's or an `hpw run`'s batch a stop request
    (core/processes/stop_requests.py)."""
    batch_id = store.resolve_batch(ref, option="BATCH")
    short = batch_id[:8]
    if not locks.is_running(store.batches_dir, batch_id):
        if any(r.batch == batch_id for r in store.reap_orphans()):  # its process died: its trials end now
            return (f"Stopped batch {short}: {_counts(store, batch_id)} (its process had ended; the trials it "
                    "left running are ended now)")
        raise DetachError(f"batch {short} is not running (it ended: {_counts(store, batch_id)}); nothing changed")
    pid = supervisor_pid(store, batch_id)
    if pid is not None:
        try:
            os.kill(pid, signal.SIGTERM)  # the supervisor stops the batch as Ctrl-C stops `hpw run`
        except ProcessLookupError:
            pass
    elif not stop_requests.request_stop(batch_id):  # a kernel's or an `hpw run`'s batch
        raise DetachError(f"batch {short} runs in a process that takes no stop request from here (on another "
                          "machine, or an older hpwidgets): stop it there (the dashboard's Stop button, or "
                          "Ctrl-C); nothing changed")
    runner = f"supervisor (pid {pid})" if pid is not None else "process"
    deadline = time.monotonic() + STOP_TIMEOUT
    while locks.is_running(store.batches_dir, batch_id):
        if time.monotonic() > deadline:
            raise DetachError(f"batch {short}'s {runner} has not ended within {STOP_TIMEOUT:.0f}s")
        time.sleep(0.05)
    return f"Stopped batch {short}: {_counts(store, batch_id)}"


def _counts(store: Store, batch_id: str) -> str:
    """``1 of 4 done · 3 terminated``: its runs against the total its manifest planned."""
    runs = store.runs(batch=batch_id)
    try:
        manifest = manifests.load(store, batch_id, option="BATCH")
    except (OptionError, StoreError):  # no manifest (a function's batch in an old store): its runs
        manifest = {}
    return BatchCounts.of(runs, manifests.planned_total(manifest, runs)).text()
