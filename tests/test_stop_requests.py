"""`hpw stop` reaches a batch that runs in a kernel or a plain `hpw run`, and only its own user's."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading

import pytest

from hpwidgets.core.processes import locks, stop_requests
from hpwidgets.core.records import Status
from hpwidgets.core.run.batch import prepare
from hpwidgets.core.search.plan import RunOptions
from hpwidgets.core.store.runstore import Store

from .helpers import group_alive, hpw
from .support.waiting import wait_for

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="SO_PEERCRED and /proc are Linux's")


@pytest.fixture(autouse=True)
def places(monkeypatch):
    """Short private places for the stop sockets (a socket's path holds at most 107 bytes)."""
    root = tempfile.mkdtemp(prefix="hs")
    os.chmod(root, 0o755)
    for name in ("run", "home"):
        os.mkdir(os.path.join(root, name), 0o700)
    shared = os.path.join(root, "tmp")
    os.mkdir(shared)
    os.chmod(shared, 0o1777)  # a shared /tmp
    monkeypatch.setenv("XDG_RUNTIME_DIR", os.path.join(root, "run"))
    monkeypatch.setenv("HOME", os.path.join(root, "home"))
    yield root
    shutil.rmtree(root, ignore_errors=True)

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


def _as_user(user: tuple[int, int], address: str) -> str:
    """Connect to ``address`` from a child process running as ``user`` and say stop: what came
    back (``=`` and the answer) or what was raised (``!`` and the error)."""
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
    os.waitpid(pid, 0)
    return answer.decode()


def _stop_socket(places: str) -> str:
    """The one stop socket listening in the private place of this test's user."""
    folder = os.path.join(places, "run", "hpwidgets")
    sockets = [os.path.join(folder, name) for name in os.listdir(folder) if name != "key"]
    assert len(sockets) == 1, sockets
    with open("/proc/net/unix") as fh:
        assert sockets[0] in fh.read()
    return sockets[0]


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
        assert out.stdout == f"Stopped batch {batch_id[:8]}: 1 of 3 done · 1 terminated\n"
        assert runner.wait(30) == 0
        wait_for(lambda: not group_alive(group), "the trial's process group ending", 10)  # no process left
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.stdout.read().splitlines()[-1].startswith(f"Batch {batch_id[:8]} stopped: 1 of 3 done · 1 terminated; ")
    runs = store.runs(batch=batch_id)
    assert sorted((r.flags["x"], r.status) for r in runs) == [(0, Status.COMPLETED), (3, Status.TERMINATED)]
    assert not stop_requests.listening(batch_id)  # the listener went with the batch


def test_a_batch_in_this_process_takes_a_stop_request_from_its_user_only(write_script, home, other_user, places):
    script = write_script(SCRIPT, "sleepy.py")
    batch = prepare(script, {"x": [3, 0]}, RunOptions()).start(background=True)
    store = Store()
    try:
        group = _trial_group(store, batch.id, 3)
        address = _stop_socket(places)
        # Another local user cannot even reach it: the socket is in a private directory of ours
        assert _as_user(other_user, address) == "!PermissionError: [Errno 13] Permission denied"
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


def test_the_stop_socket_shows_no_batch_id_and_no_other_user_can_reach_or_flood_it(write_script, home,
                                                                                  other_user, places):
    script = write_script(SCRIPT, "sleepy.py")
    batch = prepare(script, {"x": [3]}, RunOptions()).start(background=True)
    try:
        _trial_group(Store(), batch.id, 3)
        address = _stop_socket(places)
        with open("/proc/net/unix") as fh:  # what every local user reads
            listed = fh.read()
        assert [line for line in listed.splitlines() if batch.id[:8] in line] == []
        assert os.path.dirname(address) == os.path.join(places, "run", "hpwidgets")
        st = os.stat(os.path.dirname(address))
        assert (st.st_uid, st.st_mode & 0o777) == (os.getuid(), 0o700)
        # a flood of connections from another user: each refused, and every probe of ours answered
        assert {_as_user(other_user, address) for _ in range(60)} == {
            "!PermissionError: [Errno 13] Permission denied"}
        assert all(stop_requests.listening(batch.id) for _ in range(60))
        assert stop_requests.request_stop(batch.id) is True
        batch.wait(30)
    finally:
        batch.stop()
        batch.wait(30)
    assert batch.finished.status == "stopped"
    assert os.listdir(os.path.dirname(address)) == ["key"]  # the socket went with the batch


def test_a_stop_place_another_user_made_first_is_said_and_the_batch_stays_stoppable(write_script, home,
                                                                                    other_user, places,
                                                                                    monkeypatch):
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("TMPDIR", os.path.join(places, "tmp"))  # for `hpw run` and `hpw stop`
    squatted = os.path.join(places, "tmp", f"hpwidgets-{os.geteuid()}")
    made = subprocess.run(["setpriv", f"--reuid={other_user[0]}", f"--regid={other_user[1]}", "--clear-groups",
                           "mkdir", "-m", "777", squatted], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    script = write_script(SCRIPT, "sleepy.py")
    runner = subprocess.Popen([sys.executable, "-m", "hpwidgets.cli", "run", script, "x=[3]", "-y"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        store = Store()
        assert wait_for(lambda: store.runs(), "the batch's first run", 30)
        batch_id = store.runs()[0].batch
        _trial_group(store, batch_id, 3)
        out = hpw("stop", batch_id[:8])
        assert (out.returncode, out.stderr) == (0, "")
        assert runner.wait(30) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
    assert os.listdir(squatted) == []  # nothing of ours went into it
    assert runner.stderr.read().splitlines() == [
        f"hpwidgets: skipped {squatted}/stop: Refusing {squatted}: it is owned by uid {other_user[0]}, not by "
        f"you (uid {os.geteuid()}) (fix: use a store of your own, e.g. set HPWIDGETS_HOME, or have its owner "
        "remove it); stop requests are taken in the next place"]


def test_a_socket_left_by_a_killed_process_is_replaced_when_the_batch_resumes(write_script, home, places):
    script = write_script(SCRIPT, "sleepy.py")
    first = subprocess.Popen([sys.executable, "-m", "hpwidgets.cli", "run", script, "x=[3,4]", "-y"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = Store()
    assert wait_for(lambda: store.runs(), "the batch's first run", 30)
    batch_id = store.runs()[0].batch
    group = _trial_group(store, batch_id, 3)
    first.send_signal(signal.SIGKILL)
    first.wait()
    os.killpg(group, signal.SIGKILL)
    sockets = [name for name in os.listdir(os.path.join(places, "run", "hpwidgets")) if name != "key"]
    assert len(sockets) == 1  # left behind by the killed process
    again = subprocess.Popen([sys.executable, "-m", "hpwidgets.cli", "run", "--resume", batch_id, "-y"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: stop_requests.listening(batch_id), "the batch listening for stop requests", 30)
        out = hpw("stop", batch_id[:8])
        assert (out.returncode, out.stderr) == (0, "")
        assert again.wait(30) == 0
    finally:
        if again.poll() is None:
            again.kill()
    assert "stop request" not in again.stderr.read()


def test_a_stop_request_left_unanswered_says_which_process_and_how_long(write_script, home, places):
    script = write_script(SCRIPT, "sleepy.py")
    batch = prepare(script, {"x": [3]}, RunOptions())
    batch.save_manifest()
    lock = locks.acquire(Store().batches_dir, batch.id)
    answered = threading.Event()  # set once `hpw stop` has given up: then the late answer comes
    busy = stop_requests.StopListener.open(batch.id, lambda: answered.wait(30))  # takes it, answers late
    try:
        address = _stop_socket(places)
        out = hpw("stop", batch.id[:8])
    finally:
        answered.set()
        busy.close()
        locks.release(lock)
    assert (out.returncode, out.stdout) == (1, "")
    assert out.stderr == (f"hpw stop: error: batch {batch.id[:8]}'s process (listening at {address}) took the "
                          "stop request but did not answer within 5s: try again, or stop it where it runs (the "
                          "dashboard's Stop button, or Ctrl-C)\n")
