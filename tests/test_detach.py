"""Detached batches with real processes: a supervisor of its own, `hpw watch`, `hpw stop`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from hpwidgets.core.errors import OptionError
from hpwidgets.core.processes import detach, event_log, locks
from hpwidgets.core.processes.watch import WatchedBatch
from hpwidgets.core.records import Status
from hpwidgets.core.store.runstore import Store

from .helpers import group_alive, hpw, pid_alive
from .support.waiting import wait_for

# x < 3 ends after `pause` seconds; x >= 3 sleeps 60 s (long enough to be stopped)
SCRIPT = textwrap.dedent("""
    import time
    x = 0
    pause = 0.3
    time.sleep(pause if x < 3 else 60)
    print(f"loss: {x}")
""")


@pytest.fixture
def script(write_script, home):
    return write_script(SCRIPT, "sleepy.py")


def _detached(script: str, *flags: str) -> str:
    """Start a detached batch with `hpw run --detach`; its full id."""
    out = hpw("run", script, *flags, "-y", "--detach")
    assert out.returncode == 0, out.stderr
    short = out.stdout.split()[1]
    assert out.stdout == (f"Batch {short} runs detached: `hpw watch {short}` follows it, "
                          f"`hpw stop {short}` stops it\n")
    return Store().resolve_batch(short)


def _supervisor(store: Store, batch_id: str) -> int:
    pid = detach.supervisor_pid(store, batch_id)
    assert pid is not None
    return pid


def _records(store: Store, batch_id: str) -> list[dict]:
    with open(event_log.path_of(store.batches_dir, batch_id), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_a_detached_batch_outlives_the_killed_process_that_started_it(script):
    starter = subprocess.Popen(
        [sys.executable, "-c", "import sys, time, hpwidgets as hp\n"
                               f"b = hp.run({script!r}, {{'x': [0, 1, 2]}}, detach=True, background=True)\n"
                               "print(b.id, flush=True)\ntime.sleep(120)\n"],
        stdout=subprocess.PIPE, text=True, start_new_session=True)
    batch_id = starter.stdout.readline().strip()
    store = Store()
    supervisor = _supervisor(store, batch_id)
    os.killpg(starter.pid, signal.SIGKILL)  # a kernel restart: the kernel's whole group dies
    starter.wait()
    assert pid_alive(supervisor)
    wait_for(lambda: not locks.is_running(store.batches_dir, batch_id), "the batch's lock being let go", 60)
    wait_for(lambda: not pid_alive(supervisor), "the supervisor exiting", 10)
    runs = store.runs(batch=batch_id)
    assert sorted((r.flags["x"], r.status) for r in runs) == [(0, Status.COMPLETED), (1, Status.COMPLETED),
                                                              (2, Status.COMPLETED)]
    last = _records(store, batch_id)[-1]
    assert (last["type"], last["status"], last["counts"]["completed"]) == ("finished", "completed", 3)
    watched = WatchedBatch(batch_id[:6], store)  # a finished batch: its whole record at once
    assert watched.done and watched.finished.status == "completed"
    assert [r.flags["x"] for r in watched.runs] == [0, 1, 2]
    for name in (".events", ".json", ".log", ".owner", ".lock"):
        assert os.stat(os.path.join(store.batches_dir, batch_id + name)).st_mode & 0o777 == 0o600


def test_hpw_stop_ends_a_detached_batch_and_keeps_its_runs(script):
    batch_id = _detached(script, "x=[0,3,1]")  # the second trial sleeps 60 s
    store = Store()
    supervisor = _supervisor(store, batch_id)
    wait_for(lambda: any(r["type"] == "trial" and r["record"]["flags"]["x"] == 3
                                for r in _records(store, batch_id)), "trial x=3 in the batch's event log", 30)
    sleeper = next(r for r in store.runs(batch=batch_id) if r.flags["x"] == 3)
    wait_for(lambda: os.path.exists(os.path.join(store.run_dir(sleeper.id), "trial.pid")),
             "trial x=3 writing its pid", 30)
    with open(os.path.join(store.run_dir(sleeper.id), "trial.pid")) as fh:
        trial_group = int(fh.read().split(":")[0])
    out = hpw("stop", batch_id[:5])
    assert (out.returncode, out.stderr) == (0, "")
    assert out.stdout == f"Stopped batch {batch_id[:8]}: 1 of 3 done · 1 terminated\n"
    wait_for(lambda: not pid_alive(supervisor), "the supervisor exiting", 10)
    wait_for(lambda: not group_alive(trial_group), "the trial's process group ending", 10)  # no process left
    runs = store.runs(batch=batch_id)
    assert sorted((r.flags["x"], r.status) for r in runs) == [(0, Status.COMPLETED), (3, Status.TERMINATED)]
    last = _records(store, batch_id)[-1]
    assert (last["type"], last["status"]) == ("finished", "stopped")
    again = hpw("stop", batch_id[:8])  # a finished batch: one line, nothing changed
    assert (again.returncode, again.stdout) == (1, "")
    assert again.stderr == (f"hpw stop: error: batch {batch_id[:8]} is not running (it ended: 1 of 3 done "
                            "· 1 terminated); nothing changed\n")
    assert sorted((r.id, r.status) for r in store.runs(batch=batch_id)) == sorted((r.id, r.status) for r in runs)


def test_a_second_supervisor_for_the_same_batch_is_refused(script):
    batch_id = _detached(script, "x=[3,0]")
    store = Store()
    supervisor = _supervisor(store, batch_id)
    again = hpw("run", "--resume", batch_id[:8], "-y", "--detach")
    assert (again.returncode, again.stdout) == (1, "")
    assert again.stderr == (f"hpw run: error: Invalid value for --resume: '{batch_id[:8]}' (accepted: a batch that "
                            f"no process is running; batch {batch_id[:8]} is still running: stop it first)\n")
    direct = subprocess.run([sys.executable, "-m", "hpwidgets.supervise", store.root, batch_id],
                            capture_output=True, text=True, timeout=60)
    assert direct.returncode == 1
    assert direct.stderr.count("\n") == 1 and "is still running: stop it first" in direct.stderr
    assert _supervisor(store, batch_id) == supervisor  # the first one runs on, untouched
    assert hpw("stop", batch_id[:8]).returncode == 0


def test_hpw_watch_prints_a_progress_line_at_each_result_until_the_end(script):
    batch_id = _detached(script, "x=[0,1,2]", "pause=0.6")
    out = hpw("watch", batch_id[:6])
    assert (out.returncode, out.stderr) == (0, "")
    lines = out.stdout.splitlines()
    assert lines[:4] == [f"Batch {batch_id[:8]}: sleepy.py as a batch (3 trials)", "  pause: 0.6",
                         "  x: [0, 1, 2]", lines[3]]
    progress = lines[3:]
    assert progress[-1].startswith("Completed: 3 of 3 done · 0 running · 0 failed · best loss 0 (x=0) · ")
    done = [int(line.removeprefix("Completed: ").split(" of ")[0]) for line in progress]
    assert done == sorted(done) and {2, 3} <= set(done)  # a line at each result, in order


def test_hpw_watch_without_an_id_follows_the_newest_running_batch_or_says_none_runs(script, home):
    idle = hpw("watch")
    assert (idle.returncode, idle.stdout, idle.stderr) == (
        2, "", "hpw watch: error: no batch is running now: hpw watch BATCH follows a finished one "
               "(hpw batches lists them)\n")
    batch_id = _detached(script, "x=[0,1]", "pause=0.5")
    out = hpw("watch")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == f"Batch {batch_id[:8]}: sleepy.py as a batch (2 trials)"


def test_watch_and_stop_of_unknown_or_ambiguous_batches_are_one_line(script, home):
    store = Store()
    for batch_id in ("abc" + "0" * 29, "abd" + "0" * 29):  # two manifests that share "ab"
        os.makedirs(store.batches_dir, mode=0o700, exist_ok=True)
        fd = os.open(os.path.join(store.batches_dir, f"{batch_id}.json"), os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, json.dumps({"id": batch_id, "options": {}, "script": script, "flags": {}}).encode())
        os.close(fd)
    for command in ("watch", "stop"):
        out = hpw(command, "ff")
        assert (out.returncode, out.stdout) == (1, "")
        assert out.stderr == (f"hpw {command}: error: Invalid value for BATCH: 'ff' (accepted: a batch id or its "
                              "first characters (no batch has that id))\n")
        out = hpw(command, "ab")
        assert out.stderr == (f"hpw {command}: error: Invalid value for BATCH: 'ab' (accepted: a batch id or its "
                              "first characters (ambiguous: 2 batches start so (abc000000000, abd000000000); give "
                              "more characters))\n")
    assert hpw("stop").stderr == "hpw stop: error: the following arguments are required: BATCH\n"


def test_a_function_cannot_be_detached(home):
    import hpwidgets as hp

    def objective(x=0.0):
        return x

    with pytest.raises(OptionError) as caught:
        hp.run(objective, {"x": [1, 2]}, detach=True)
    assert str(caught.value) == ("Invalid value for detach: True (accepted: a batch of a script or a %%hprun cell; "
                                 "a function's trials run in this process (pass a script, or leave out detach))")
    assert Store().runs() == []


def test_watching_a_batch_that_ran_in_a_kernel_shows_its_stored_runs(script):
    import hpwidgets as hp

    batch = hp.run(script, {"x": [0, 1]})
    watched = hp.watch(batch.id[:7], show=False)
    assert watched.done and watched.lost is None
    assert watched.finished.status == "completed"
    assert [(r.flags["x"], r.status) for r in watched.runs] == [(0, Status.COMPLETED), (1, Status.COMPLETED)]
    first, last = sorted(batch.runs, key=lambda r: r.started)[0], max(batch.runs, key=lambda r: r.stopped)
    assert watched.finished.elapsed == last.stopped - first.started  # from the stored runs, not 0
    assert watched.snapshot().elapsed == watched.finished.elapsed


def test_the_record_skips_bad_lines_with_one_note_each_and_waits_for_a_partial_one(tmp_path, capsys):
    path = str(tmp_path / "b.events")
    started = {"type": "started", "at": 1.0, "batch": "b", "priors": [], "resumed": 0, "prev_trials": "batch",
               "workers": 2}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"".join(line + b"\n" for line in (
        json.dumps(started).encode(), b"not json", b"[1, 2]", json.dumps({"type": "nope"}).encode(),
        json.dumps({"type": "progress", "run": "r"}).encode(), b"\xff\xfe",
        json.dumps({"type": "output", "run": "r", "line": "hello"}).encode())) + b'{"type": "out')
    reader = event_log.Reader(path)
    events = reader.read()
    assert [type(e).__name__ for e in events] == ["RecordedStart", "TrialOutput"]
    assert (events[0].workers, events[0].at, events[1].line) == (2, 1.0, "hello")
    notes = capsys.readouterr().err.splitlines()
    assert [n.split(": line ")[1].split(" is not")[0] for n in notes] == ["2", "3", "4", "5", "6"]
    assert notes[2] == (f"hpwidgets: skipped {path}: line 4 is not an event (unknown event type 'nope' (accepted: "
                        "started, trial, output, progress, ended, model, finished))")
    assert notes[3].endswith("line 5 is not an event (a 'progress' event lacks 'step')")
    os.write(fd, b'put", "run": "r", "line": "end"}\n')  # the partial line, finished
    os.close(fd)
    assert [e.line for e in reader.read()] == ["end"]
    reader.close()


def test_a_killed_supervisor_is_detected_and_resume_detach_takes_over(script):
    batch_id = _detached(script, "x=[0,3]")
    store = Store()
    supervisor = _supervisor(store, batch_id)
    wait_for(lambda: any(r["type"] == "trial" and r["record"]["flags"]["x"] == 3
                                for r in _records(store, batch_id)), "trial x=3 in the batch's event log", 30)
    os.kill(supervisor, signal.SIGKILL)
    wait_for(lambda: not locks.is_running(store.batches_dir, batch_id), "the batch's lock being let go", 10)
    out = hpw("watch", batch_id[:8])
    assert out.returncode == 1
    assert out.stdout.splitlines()[-1].startswith("Stopped: 1 of 2 done · 0 running · 0 failed · 1 terminated · ")
    assert out.stderr == (f"hpw watch: batch {batch_id[:8]} ended without recording its end (its supervisor was "
                          f"killed); `hpw run --resume {batch_id[:8]}` finishes it\n")
    again = hpw("run", "--resume", batch_id[:8], "-y", "--detach")
    assert again.returncode == 0, again.stderr
    assert locks.is_running(store.batches_dir, batch_id)
    assert _supervisor(store, batch_id) != supervisor
    stopped = hpw("stop", batch_id[:8])
    assert stopped.stdout == f"Stopped batch {batch_id[:8]}: 1 of 2 done · 2 terminated\n"


def test_a_supervisors_command_line_shows_neither_its_store_nor_its_batch(script):
    batch_id = _detached(script, "x=[3]")
    store = Store()
    supervisor = _supervisor(store, batch_id)
    with open(f"/proc/{supervisor}/cmdline", "rb") as fh:  # what `ps` shows every local user
        argv = fh.read().split(b"\0")
    assert argv[1:4] == [b"-m", b"hpwidgets.supervise", b"-"]
    assert not any(batch_id[:8].encode() in arg or store.root.encode() in arg for arg in argv)
    assert os.stat(f"/proc/{supervisor}/environ").st_mode & 0o077 == 0  # where they travel: its user's
    assert hpw("stop", batch_id[:8]).returncode == 0

