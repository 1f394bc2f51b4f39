"""Scalars reach the read model while trials run; pruned trials are killed and kept as pruned."""

from __future__ import annotations

import csv
import io

from hpwidgets import api
from hpwidgets.core.records import Status
from hpwidgets.core.results.progress import progress_text
from hpwidgets.core.run.batch import prepare, resume
from hpwidgets.core.search.plan import RunOptions
from hpwidgets.core.store.runstore import Store
from tests.helpers import hpw, pid_alive
from tests.support.waiting import wait_for

# Each trial prints its first step, then waits until the test opens its gate: no timing involved.
GATED = """
import os, time
x = 1
gate = ""
print(f"loss: {x / 10} (step 1)")
while not os.path.exists(f"{gate}-{x}"):
    time.sleep(0.02)
print(f"loss: {x / 20} (step 2)")
"""


def test_scalars_reach_the_read_model_while_trials_run(home, write_script, tmp_path):
    path = write_script(GATED)
    gate = str(tmp_path / "gate")
    batch = prepare(path, {"x": [1, 2], "gate": gate}, RunOptions(workers=2)).start(background=True)
    try:
        wait_for(lambda: [r.step for r in batch.snapshot().running()] == [1, 1],
                 "both running trials at step 1")
        snap = batch.snapshot()
        assert [r.scalars for r in snap.running()] == [{"loss": 0.1}, {"loss": 0.2}]
        assert progress_text(snap).startswith("0 of 2 done · 2 running (#1 step 1 loss 0.1, #2 step 1 loss 0.2) ·")
        assert [list(snap.curve(r.id)) for r in snap.runs] == [[(1, 0.1)], [(1, 0.2)]]
        open(f"{gate}-2", "w").close()
        wait_for(lambda: batch.snapshot().done == 1, "one trial done")
        snap = batch.snapshot()
        assert [r.status for r in snap.runs] == [Status.RUNNING, Status.COMPLETED]
        assert progress_text(snap).startswith("1 of 2 done · 1 running (#1 step 1 loss 0.1) ·")
    finally:
        open(f"{gate}-1", "w").close()
        batch.wait(60)
    assert [(r.status, r.step, r.scalars) for r in batch.runs] == [
        (Status.COMPLETED, 2, {"loss": 0.05}), (Status.COMPLETED, 2, {"loss": 0.1})]
    assert batch.snapshot().curve(batch.runs[0].id) == [(1, 0.1), (2, 0.05)]


# The second trial starts a grandchild in its own process group, then reports a bad step 1.
PRUNED = """
import subprocess, sys, time
x = 1
pidfile = ""
if x > 1:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    with open(pidfile, "w") as fh:
        fh.write(str(child.pid))
for step in range(1, 4):
    print(f"loss: {x} (step {step})", flush=True)
    if x > 1:
        time.sleep(300)
"""


def test_a_pruned_trial_is_killed_with_its_group_and_kept_as_pruned(home, write_script, tmp_path):
    path = write_script(PRUNED)
    pidfile = tmp_path / "child.pid"
    run = hpw("run", path, "x=[1,5]", f"pidfile={pidfile}", "--prune", "median", "-Fp", "min-trials=1", "-y")
    assert run.returncode == 0, run.stderr
    out = run.stdout.splitlines()
    assert any(line.startswith("Trial ") and line.endswith(" pruned: pruned at step 1") for line in out)
    assert out[-1].endswith(": 2 of 2 done · 1 pruned; best loss 1 (pidfile="
                            f"{pidfile} x=1)")
    child = int(pidfile.read_text())
    wait_for(lambda: not pid_alive(child), "the pruned trial's grandchild exiting", 10)
    store = Store()
    first, second = sorted(store.runs(), key=lambda r: r.trial)
    assert (second.status, second.reason, second.scalars, second.step) == (Status.PRUNED, "pruned at step 1",
                                                                           {"loss": 5.0}, 1)
    assert store.series(second.id) == {"loss": [[1, 5.0]]}
    assert (first.status, first.step) == (Status.COMPLETED, 3)
    table = hpw("compare", "--csv", "-")
    rows = {r["x"]: r for r in csv.DictReader(io.StringIO(table.stdout))}
    assert (rows["5"]["status"], rows["5"]["loss"], rows["5"]["step"]) == ("pruned", "5.0", "1")
    listing = hpw("runs")
    assert sum(" pruned " in line for line in listing.stdout.splitlines()) == 1
    again = resume(first.batch, store)  # pruned trials count as finished: nothing is run again
    assert sorted(r.status.value for r in again.engine.resumed) == ["completed", "pruned"]
    again.start()
    assert len(store.runs()) == 2


def test_a_generator_objective_streams_and_is_closed_when_pruned(home):
    closed: list[float] = []

    def objective(x: float = 1.0):
        try:
            for step in range(1, 4):
                yield {"loss": x * 10 / step, "acc": step / 10}
        finally:
            closed.append(x)

    batch = api.run(objective, flags={"x": [1.0, 3.0, 0.5]}, prune="median", prune_flags={"min-trials": 1})
    assert [(r.status, r.step, r.scalars) for r in batch.runs] == [
        (Status.COMPLETED, 3, {"loss": 10 / 3, "acc": 0.3}),
        (Status.PRUNED, 1, {"loss": 30.0, "acc": 0.1}),
        (Status.COMPLETED, 3, {"loss": 5 / 3, "acc": 0.3}),
    ]
    assert closed == [1.0, 3.0, 0.5]  # the pruned generator's finally ran when it was closed
    snap = batch.snapshot()
    assert snap.curve(batch.runs[1].id) == [(1, 30.0)]
    assert snap.objective.told(batch.runs[1]) == 30.0  # the optimizer learns its last value
    assert snap.best.flags == {"x": 0.5}


def test_a_generator_that_raises_fails_with_its_traceback(home):
    def objective(x: float = 1.0):
        yield x
        raise RuntimeError("diverged")

    batch = api.run(objective, flags={"x": 1.0})
    (run,) = batch.runs
    assert (run.status, run.reason, run.scalars) == (Status.FAILED, "exit code 1: RuntimeError: diverged", {"loss": 1.0})


def test_the_optimizer_learns_from_pruned_trials_by_their_last_value(home):
    def objective(x: float = 0.0):
        for step in range(1, 4):
            yield (x - 0.3) ** 2 + 1 / step

    batch = api.run(objective, flags={"x": "[-2.0:2.0]"}, optimizer="gp", max_trials=8, random_seed=1,
                    opt_flags={"random-starts": 3}, prune="median", prune_flags={"min-trials": 1})
    statuses = [r.status for r in batch.runs]
    assert Status.PRUNED in statuses and Status.COMPLETED in statuses
    assert batch.engine.optimizer._n_obs == 8  # every trial, pruned ones by their last value


# x=2 fails while the file `broken` names exists, and --fail-fast ends the batch before x=9;
# every trial reports its x at steps 1 and 2.
FAILS_AT_2 = """
import os
x = 1
broken = ""
if x == 2 and os.path.exists(broken):
    raise SystemExit("no")
for step in (1, 2):
    print(f"loss: {x} (step {step})")
"""


def test_resume_tells_the_pruner_what_the_earlier_trials_reported(home, write_script, tmp_path):
    path = write_script(FAILS_AT_2)
    broken = tmp_path / "broken"
    broken.write_text("")
    first = hpw("run", path, "x=[1,2,9]", f"broken={broken}", "--prune", "median", "-Fp", "min-trials=2",
                "--fail-fast", "-y")
    assert first.returncode != 0
    store = Store()
    assert sorted((r.flags["x"], r.status.value) for r in store.runs()) == [(1, "completed"), (2, "failed")]
    broken.unlink()  # fixed outside the script, which a resume runs unchanged
    again = resume(store.runs()[0].batch, store)
    again.start()
    # --resume runs the failed x=2 again; x=9 meets min-trials=2 only with x=1, which completed
    # before the resume: it is judged against both (median 1.5) from its first step
    trials = sorted((r.flags["x"], r.status.value, r.reason) for r in again.runs)
    assert trials == [(1, "completed", None), (2, "completed", None), (9, "pruned", "pruned at step 1")]
