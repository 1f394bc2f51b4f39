"""Faults: crashes, hangs, Ctrl-C, killed processes, concurrent writers, network file systems.

Every case runs real subprocess trials against a real store on disk. RELIABILITY.md lists them.
"""

import os
import signal
import subprocess
import sys

import pytest

import hpwidgets as hp
from hpwidgets.core.records import Status
from hpwidgets.core.store import paths as paths_mod
from hpwidgets.core.store.runstore import Store
from tests.helpers import group_alive as _group_alive
from tests.helpers import hpw
from tests.support.waiting import wait_for

SLEEPER = (
    "import os, subprocess, sys, time\n"
    "x = 0\n"
    "if x == 1:\n"
    "    child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "    open('pgid-%d' % x, 'w').write(str(os.getpgid(0)))\n"
    "    time.sleep(60)\n"
    "print('loss:', x)\n"
)


def test_crash_keeps_output_and_fail_fast_stops(home, write_script):
    path = write_script("x = 0\nif x == 1: raise RuntimeError('bad x')\nprint('loss:', x)\n")
    batch = hp.run(path, flags={"x": [1, 2]})
    assert [r.status.value for r in batch.runs] == ["failed", "completed"]
    batch = hp.run(path, flags={"x": [0, 1, 2]}, fail_fast=True)
    assert [r.status.value for r in batch.runs] == ["completed", "failed"]
    assert batch.finished.status == "failed"
    assert "RuntimeError: bad x" in Store().output(batch.runs[1].id)


def test_timeout_kills_the_whole_process_group(home, write_script, tmp_path):
    path = write_script(SLEEPER)
    batch = hp.run(path, flags={"x": [1, 2]}, timeout=1.5)
    assert [(r.status.value, r.reason) for r in batch.runs] == [("failed", "timed out after 1.5 s"), ("completed", None)]
    run_dir = Store().run_dir(batch.runs[0].id)
    pgid = int(open(os.path.join(run_dir, "pgid-1")).read())
    wait_for(lambda: not _group_alive(pgid),
             "the timed-out trial's process group ending", 10)  # the sleeping grandchild too


def test_ctrl_c_in_hpw_run(home, write_script):
    path = write_script(SLEEPER)
    proc = subprocess.Popen([sys.executable, "-m", "hpwidgets.cli", "run", path, "x=[0,1,2]", "-y"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    store = Store()
    def written(path: str) -> bool:  # created and filled: the trial may be killed right after
        return os.path.exists(path) and os.path.getsize(path) > 0

    wait_for(lambda: any(written(os.path.join(store.run_dir(r.id), "pgid-1")) for r in store.runs()),
             "trial x=1 writing its process group")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "hpw run: stopped; 1 finished runs kept, the running ones terminated" in err
    runs = sorted(store.runs(), key=lambda r: r.trial)
    assert [(r.flags["x"], r.status) for r in runs] == [(0, Status.COMPLETED), (1, Status.TERMINATED)]
    pgid = int(open(os.path.join(store.run_dir(runs[1].id), "pgid-1")).read())
    wait_for(lambda: not _group_alive(pgid), "the trial's process group ending", 10)


def test_killed_process_then_resume(home, write_script, tmp_path):
    hang = tmp_path / "hang-on"
    hang.write_text("")
    path = write_script(f"import os, time\nx = 0\nif x == 1 and os.path.exists({str(hang)!r}): "
                        "open('pgid', 'w').write(str(os.getpgid(0))); time.sleep(60)\nprint('loss:', x)\n")
    proc = subprocess.Popen([sys.executable, "-m", "hpwidgets.cli", "run", path, "x=[0,1,2,3]", "-y"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = Store()
    wait_for(lambda: len(store.runs()) == 2, "two runs in the store")
    sleeping = [r for r in store.runs() if r.flags["x"] == 1][0]
    pgid_file = os.path.join(store.run_dir(sleeping.id), "pgid")
    wait_for(lambda: os.path.exists(pgid_file) and os.path.getsize(pgid_file) > 0,
             "the trial writing its process group")
    pgid = int(open(pgid_file).read())
    proc.kill()
    proc.wait()
    assert _group_alive(pgid)  # the trial is in its own session: the kill did not reach it
    assert [r.status.value for r in store.runs()].count("running") == 1  # reading changes nothing
    store.reap_orphans()  # the explicit step (a batch's start, `runs` and `compare` take it)
    runs = sorted(store.runs(), key=lambda r: r.trial)
    wait_for(lambda: not _group_alive(pgid), "the trial's process group ending", 10)
    assert [(r.flags["x"], r.status.value) for r in runs] == [(0, "completed"), (1, "terminated")]
    assert runs[1].reason == "its process ended before the run finished"
    batch_id = runs[0].batch
    # finish it; resume runs only the script the batch ran, so the hang is fixed outside it
    os.remove(hang)
    done = hpw("run", "--resume", batch_id[:8], "-y")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"Resuming batch {batch_id[:8]}: 1 of 4 trials already finished"
    final = sorted(store.runs(batch=batch_id), key=lambda r: (r.trial, r.status.value))
    assert [(r.flags["x"], r.status.value) for r in final] == [
        (0, "completed"), (1, "completed"), (1, "terminated"), (2, "completed"), (3, "completed")]


def test_four_processes_one_store(home, write_script, tmp_path):
    path = write_script("x = 0\nprint('loss:', x * 0.5)\n")
    procs = [subprocess.Popen([sys.executable, "-m", "hpwidgets.cli", "run", path,
                               f"x=range[{k * 25}:{k * 25 + 24}]", "-y"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for k in range(4)]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    store = Store()
    runs = store.runs()
    assert len(runs) == 100 and sorted(r.flags["x"] for r in runs) == list(range(100))
    assert all(r.status is Status.COMPLETED for r in runs)
    before = hpw("compare", "--min", "loss", "--table").stdout
    assert len(before.splitlines()) == 101
    store.close()
    os.remove(store.index_path)
    assert hpw("compare", "--min", "loss", "--table").stdout == before


def test_network_store_keeps_index_on_local_disk(tmp_path, monkeypatch, capsys):
    root = tmp_path / "nfs-home"
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/vda / ext4 rw 0 0\nserver:/export {tmp_path} nfs4 rw,vers=4.2 0 0\n")
    monkeypatch.setattr(paths_mod, "MOUNTS", str(mounts))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "local-cache"))
    monkeypatch.setattr(paths_mod, "_warned_network", set())
    first = Store(str(root))
    Store(str(root))
    assert first.index_path.startswith(str(tmp_path / "local-cache"))
    err = capsys.readouterr().err
    assert err.count("is on nfs4; its index is kept on local disk") == 1


def test_flag_values_are_never_evaluated(home, write_script, tmp_path):
    path = write_script("name = 'a'\nprint('loss: 1')\nprint('name=' + name)\n")
    marker = tmp_path / "pwned"
    value = f"__import__('os').system('touch {marker}')"
    batch = hp.run(path, flags={"name": value})
    assert batch.runs[0].flags["name"] == value and not marker.exists()
    assert f"name={value}" in Store().output(batch.runs[0].id)


@pytest.mark.parametrize("args,expected", [
    (["--bogus"], "hpw run: error: unrecognized arguments: --bogus"),
    (["x=[1:2]", "--timeout", "0"], "hpw run: error: Invalid value for --timeout: 0.0 (accepted: a positive, finite number of seconds)"),
])
def test_bad_options(home, train_py, args, expected):
    proc = hpw("run", train_py, *args, "-y")
    assert proc.stderr.strip() == expected
    assert not (home / "runs").exists() or not os.listdir(home / "runs")
