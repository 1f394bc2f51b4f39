"""--workers N: real subprocess trials overlap, finish out of order, and Stop kills them all.

No assertion here depends on timing: trials wait on files the others write (a barrier), so a
batch that does not run them at once would fail by its trials' own timeouts, not by a clock.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

import hpwidgets.api as hp
from hpwidgets.core.records import Status
from hpwidgets.core.run.batch import prepare
from hpwidgets.core.run.events import TrialFinished
from hpwidgets.core.search.plan import RunOptions
from hpwidgets.core.store.runstore import Store
from tests.helpers import pid_alive
from tests.support.waiting import wait_for

# x is the trial; it writes <x>.start, waits until `need` trials have started and until the
# engine has recorded the trial named by `after` (the test writes <after>.told), then writes
# <x>.end and prints its loss.
BARRIER = """
import glob, os, time
x = 0
need = 1
after = -1
folder = ""
def stamp(kind):
    with open(os.path.join(folder, f"{x}.{kind}.tmp"), "w") as fh:
        fh.write(repr(time.time()))
    os.replace(os.path.join(folder, f"{x}.{kind}.tmp"), os.path.join(folder, f"{x}.{kind}"))
def wait_for(ok):
    deadline = time.time() + 20
    while not ok():
        if time.time() > deadline:
            raise SystemExit("gave up waiting")
        time.sleep(0.02)
stamp("start")
print(f"started: {x}")
wait_for(lambda: len(glob.glob(os.path.join(folder, "*.start"))) >= need)
wait_for(lambda: after < 0 or os.path.exists(os.path.join(folder, f"{after}.told")))
stamp("end")
print(f"loss: {x * 10}")
"""


def _stamps(folder, kind: str) -> dict[int, float]:
    out = {}
    for name in os.listdir(folder):
        if name.endswith(f".{kind}"):
            with open(os.path.join(folder, name)) as fh:
                out[int(name.split(".")[0])] = float(fh.read())
    return out


def _max_overlap(starts: dict[int, float], ends: dict[int, float]) -> int:
    edges = sorted([(t, 1) for t in starts.values()] + [(t, -1) for t in ends.values()])
    depth = best = 0
    for _, step in edges:
        depth += step
        best = max(best, depth)
    return best


def test_workers_run_trials_at_once(home, write_script, tmp_path):
    script, folder = write_script(BARRIER), tmp_path / "stamps"
    folder.mkdir()
    batch = hp.run(script, {"x": [0, 1, 2, 3], "need": 4, "folder": str(folder)}, workers=4)
    assert [r.status for r in batch.runs] == [Status.COMPLETED] * 4
    starts, ends = _stamps(folder, "start"), _stamps(folder, "end")
    assert max(starts.values()) < min(ends.values())  # every trial started before any ended
    assert _max_overlap(starts, ends) == 4


def test_no_more_than_n_at_once(home, write_script, tmp_path):
    script, folder = write_script(BARRIER), tmp_path / "stamps"
    folder.mkdir()
    batch = hp.run(script, {"x": [0, 1, 2, 3, 4, 5], "need": 2, "folder": str(folder)}, workers=2)
    assert [r.status for r in batch.runs] == [Status.COMPLETED] * 6
    assert _max_overlap(_stamps(folder, "start"), _stamps(folder, "end")) == 2


def test_out_of_order_results_are_recorded_with_their_trials(home, write_script, tmp_path):
    # x=2 ends first; x=1 waits until the engine has recorded x=2, and x=0 until it has x=1
    script = write_script(BARRIER.replace("after = -1", "after = {0: 1, 1: 2}.get(x, -1)"))
    folder = tmp_path / "stamps"
    folder.mkdir()
    store = Store()
    batch = prepare(script, {"x": [0, 1, 2], "need": 3, "folder": str(folder)}, RunOptions(workers=3), store)
    finished: list[int] = []

    def told(event) -> None:
        if isinstance(event, TrialFinished):
            finished.append(event.record.flags["x"])
            (folder / f"{event.record.flags['x']}.told").write_text("")

    batch.events.subscribe(told)
    batch.start()
    assert finished == [2, 1, 0]
    assert [(r.trial, r.flags["x"]) for r in batch.runs] == [(0, 0), (1, 1), (2, 2)]
    for rec in batch.runs:
        x = rec.flags["x"]
        assert rec.status is Status.COMPLETED and rec.scalars["loss"] == x * 10
        saved = store.get(rec.id)
        assert saved.status is Status.COMPLETED and saved.scalars["loss"] == x * 10
        assert store.output(rec.id).splitlines() == [f"started: {x}", f"loss: {x * 10}"]
    assert batch.best.flags["x"] == 0


SLEEPER = """
import os, subprocess, sys, time
x = 0
folder = ""
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
with open(os.path.join(folder, f"{x}.pids.tmp"), "w") as fh:
    fh.write(f"{os.getpid()} {child.pid}")
os.replace(os.path.join(folder, f"{x}.pids.tmp"), os.path.join(folder, f"{x}.pids"))
time.sleep(60)
print("loss: 1")
"""


def test_stop_kills_every_running_trial_and_starts_no_more(home, write_script, tmp_path):
    script, folder = write_script(SLEEPER), tmp_path / "pids"
    folder.mkdir()
    batch = hp.run(script, {"x": [0, 1, 2, 3, 4], "folder": str(folder)}, workers=3, background=True)
    wait_for(lambda: len([n for n in os.listdir(folder) if n.endswith(".pids")]) == 3,
             "three trials writing their pids")
    pids = [
        int(p) for n in os.listdir(folder) if n.endswith(".pids") for p in (folder / n).read_text().split()
    ]
    batch.stop()
    batch.wait(60)
    assert batch.done
    assert [r.status for r in batch.runs] == [Status.TERMINATED] * 3
    assert batch.finished.status == "stopped"
    wait_for(lambda: not any(pid_alive(p) for p in pids), "every trial and its children exiting", 10)


@pytest.mark.parametrize("kind", ["gp", "forest", "gbrt"])
def test_bayesian_never_has_two_identical_trials_in_flight(home, kind):
    lock, flight, clashes, most = threading.Lock(), [], [], [0]
    gate = threading.Barrier(4, timeout=5)

    def objective(depth: int = 0, opt: str = "a") -> float:
        key = (depth, opt)
        with lock:
            if key in flight:
                clashes.append(key)
            flight.append(key)
            most[0] = max(most[0], len(flight))
        try:
            gate.wait()  # hold four trials in flight together (the barrier breaks when fewer)
        except threading.BrokenBarrierError:
            pass
        time.sleep(0.01)
        with lock:
            flight.remove(key)
        return (depth - 1) ** 2 + (opt == "b")

    # 3 x 2 = 6 points, 4 in flight: the optimizer must find distinct ones or wait
    batch = hp.run(
        objective,
        {"depth": "[0:2]", "opt": ["a", "b"]},
        optimizer=kind,
        max_trials=12,
        workers=4,
        random_seed=3,
        opt_flags={"random-starts": 2},
    )
    assert clashes == []
    assert most[0] >= 2
    assert all(r.status is Status.COMPLETED for r in batch.runs)
