"""`hpw stop` reaches a batch that runs in a kernel or a plain `hpw run`, and only its own user's."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import pytest

from hpwidgets.core.processes import locks, stop_requests
from hpwidgets.core.records import Status
from hpwidgets.core.run.batch import prepare
from hpwidgets.core.search.plan import RunOptions
from hpwidgets.core.store.runstore import Store

from .helpers import group_alive, hpw
from .support.waiting import wait_for

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="abstract Unix sockets are Linux's")

# x < 3 ends at once; x >= 3 sleeps 60 s (long enough to be stopped)
SCRIPT = textwrap.dedent("""
    import time
    x = 0
    time.sleep(60 if x >= 3 else 0)
    print(f"loss: {x}")
""")


def _trial_group(store: Store, batch_id: str, x: int) -> int:
    def pid_file():
        run = next((r for r in store.runs(batch=batch_id) if r.flags["x"] == x), None)
        path = run and os.path.join(store.run_dir(run.id), "trial.pid")
        return path if path and os.path.exists(path) else None

    wait_for(pid_file, "the trial writing its pid", 30)
    with open(pid_file()) as fh:
        return int(fh.read().split(":")[0])


def _ask_as(user: tuple[int, int], address: str) -> bytes:
    """Connect to ``address`` from a child process running as ``user``, say stop; the answer."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no Python-level cleanup, only the socket and the pipe
        code = 1
        try:
            os.setgid(user[1])
            os.setuid(user[0])
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(5)
                sock.connect(address)
                try:
                    sock.sendall(b"stop\n")
                    answer = sock.recv(16)
                except (BrokenPipeError, ConnectionResetError):  # hung up on at once
                    answer = b""
                os.write(write, b"=" + answer)
            code = 0
        except BaseException as exc:
            os.write(write, f"!{type(exc).__name__}: {exc}".encode())
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        answer = fh.read()
    assert (os.waitpid(pid, 0)[1], answer[:1]) == (0, b"="), answer
    return answer[1:]


def test_hpw_stop_ends_a_batch_that_runs_in_a_plain_hpw_run(write_script, home):
    script = write_script(SCRIPT, "sleepy.py")
    runner = subprocess.Popen([sys.executable, "-m", "hpwidgets.cli", "run", script, "x=[0,3,1]", "-y"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        store = Store()
        wait_for(lambda: any(r.flags["x"] == 3 for r in store.runs()), "trial x=3 in the store", 30)
        batch_id = store.runs()[0].batch
        group = _trial_group(store, batch_id, 3)
        assert stop_requests.listening(batch_id)
        out = hpw("stop", batch_id[:6])
        assert (out.returncode, out.stderr) == (0, "")
        assert out.stdout == f"Stopped batch {batch_id[:8]}: 1 completed, 1 terminated runs kept\n"
        assert runner.wait(30) == 0
        wait_for(lambda: not group_alive(group), "the trial's process group ending", 10)  # no process left
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.stdout.read().splitlines()[-1].startswith(f"Batch {batch_id[:8]} stopped: 1 completed")
    runs = store.runs(batch=batch_id)
    assert sorted((r.flags["x"], r.status) for r in runs) == [(0, Status.COMPLETED), (3, Status.TERMINATED)]
    assert not stop_requests.listening(batch_id)  # the listener went with the batch


def test_a_batch_in_this_process_takes_a_stop_request_from_its_user_only(write_script, home, other_user):
    script = write_script(SCRIPT, "sleepy.py")
    batch = prepare(script, {"x": [3, 0]}, RunOptions()).start(background=True)
    store = Store()
    try:
        group = _trial_group(store, batch.id, 3)
        # Another local user connects to the same name and asks: no answer, nothing stops
        assert _ask_as(other_user, stop_requests._address(batch.id)) == b""
        assert not batch.done and group_alive(group)
        assert stop_requests.request_stop(batch.id) is True
        batch.wait(30)
    finally:
        batch.stop()
        batch.wait(30)
    assert batch.finished.status == "stopped"
    assert [(r.flags["x"], r.status) for r in store.runs(batch=batch.id)] == [(3, Status.TERMINATED)]
    assert not locks.is_running(store.batches_dir, batch.id)
    assert stop_requests.request_stop(batch.id) is False


def test_stopping_a_batch_that_listens_nowhere_is_one_line_and_changes_nothing(write_script, home):
    script = write_script(SCRIPT, "sleepy.py")
    batch = prepare(script, {"x": [3]}, RunOptions())
    batch.save_manifest()
    lock = locks.acquire(Store().batches_dir, batch.id)  # a process that runs it and does not listen
    try:
        out = hpw("stop", batch.id[:8])
        assert (out.returncode, out.stdout) == (1, "")
        assert out.stderr == (f"hpw stop: error: batch {batch.id[:8]} runs in a process that takes no stop "
                              "request from here (on another machine, or an older hpwidgets): stop it there "
                              "(the dashboard's Stop button, or Ctrl-C); nothing changed\n")
    finally:
        locks.release(lock)
