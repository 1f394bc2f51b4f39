"""Batches a user lists and inspects (`hpw batches`, `hpw runs info BATCH`), and the optimizer's
flags in the plan of a Bayesian batch: real subprocess trials, a real store."""

import os
import re

import pytest

from hpwidgets.core.store.runstore import Store
from tests.helpers import hpw
from tests.support.cli import hpw_here


@pytest.fixture
def env(home):
    return dict(os.environ)


def test_plan_lists_the_optimizer_flags(env, home, train_py):
    proc = hpw_here("run", train_py, "x=[-2.0:2.0]", "-o", "gp", "-m", "4", "-Fo", "kappa=2", "--preview")
    assert proc.stdout.splitlines()[:10] == [
        "You are about to run train.py with gp optimizer (4 trials, minimize loss)", "  noise: 0.1",
        "  x: uniform[-2.0:2.0]", "Optimizer flags:", "  acq-func: LCB", "  kappa: 2.0", "  noise: gaussian",
        "  prev-trials: batch", "  random-starts: auto", "  xi: 0.01"]
    forest = hpw_here("run", train_py, "x=[-2.0:2.0]", "-o", "forest", "-Fo", "prev-trials=batch", "--preview")
    assert forest.stdout.splitlines()[3:9] == ["Optimizer flags:", "  acq-func: EI", "  kappa: 1.96",
                                               "  prev-trials: batch", "  random-starts: 3", "  xi: 0.05"]
    grid = hpw_here("run", train_py, "x=[1,2]", "--preview")
    assert "Optimizer flags:" not in grid.stdout


def test_list_and_inspect_batches(env, home, train_py, write_script):
    assert hpw("run", train_py, "x=[-2,0,2]", "--random-seed", "4", "-y", env=env).returncode == 0
    flaky = write_script("x = 1\nif x == 2:\n    raise SystemExit(1)\nprint(f'loss: {-x}')\n", name="flaky.py")
    assert hpw("run", flaky, "x=[1,2,3]", "-y", env=env).returncode == 0
    assert hpw("run", train_py, "x=0.5", "-y", env=env).returncode == 0  # one run: not a batch
    lines = hpw_here("batches").stdout.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"\[1\] [0-9a-f]{8}  \S+ \S+  flaky\.py  grid  2 of 3 done · 1 failed  best loss -3 "
                        r"\([0-9a-f]{8}\)", lines[0])
    assert re.fullmatch(r"\[2\] [0-9a-f]{8}  \S+ \S+  train\.py  grid  3 of 3 done  best loss \S+ \([0-9a-f]{8}\)",
                        lines[1])
    flaky_batch = next(r.batch for r in Store().runs() if r.operation == "flaky.py")
    best = next(r for r in Store().runs() if r.operation == "flaky.py" and r.flags["x"] == 3)
    info = hpw_here("runs", "info", flaky_batch[:10])
    assert info.returncode == 0, info.stderr
    assert info.stdout.splitlines() == [
        f"batch: {flaky_batch}", "operation: flaky.py", f"script: {flaky}", "optimizer: grid",
        info.stdout.splitlines()[4], "flags:", "  x: [1,2,3]", "trials: 2 of 3 done · 1 failed",
        f"best: {best.short_id} loss -3.0 (x=3)", f"resume: hpw run --resume {flaky_batch[:8]}"]  # the failed one
    assert info.stdout.splitlines()[4].startswith("random_seed: ")
    assert hpw_here("batches", "info", "2").stdout.splitlines()[1] == "operation: train.py"
    assert hpw_here("batches", "-o", "flaky").stdout.count("\n") == 1
    cmp = hpw_here("compare", "-t", "--batch", flaky_batch[:6])
    assert len(cmp.stdout.splitlines()) == 4


def test_an_unfinished_batch_says_how_to_resume(env, home, write_script):
    from hpwidgets.core.results.batch_info import batches, info_lines

    hang = write_script("x = 1\nprint(f'loss: {x}')\n", name="short.py")
    assert hpw("run", hang, "x=[1,2,3]", "-y", env=env).returncode == 0
    store = Store()
    last = store.runs()[0]
    store.delete([last.id])  # a batch with a trial never run
    b = batches(store)[0]
    lines = info_lines(b)
    assert lines[-3] == "trials: 2 of 3 done"
    assert lines[-2].startswith("best: ") and lines[-1] == f"resume: hpw run --resume {b.short_id}"


def test_unknown_batch_is_one_line(env, home, train_py):
    assert hpw("run", train_py, "x=[1,2]", "-y", env=env).returncode == 0
    proc = hpw_here("batches", "info", "zz")
    assert proc.returncode == 2
    assert proc.stderr.startswith("hpw batches: error: No run matches 'zz'")


def test_a_start_waits_out_a_look_at_whether_the_batch_runs(home, train_py):
    import threading

    from hpwidgets.core.processes import locks
    from hpwidgets.core.run.batch import prepare
    from hpwidgets.core.search.plan import RunOptions

    batch = prepare(train_py, {"x": [0.5]}, RunOptions())
    looking = locks.acquire(Store().batches_dir, batch.id)  # what is_running holds for an instant
    threading.Timer(0.05, locks.release, (looking,)).start()
    batch.start()  # not refused as "already running"
    assert [r.status.value for r in batch.runs] == ["completed"]
