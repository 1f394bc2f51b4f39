"""The trial loop with real subprocess trials and a real store on disk."""

import math
import os

import pytest

import hpwidgets as hp
from hpwidgets.core.records import Status
from hpwidgets.core.run.events import TrialStarted
from hpwidgets.core.store.runstore import Store


def test_grid_of_three(home, train_py):
    batch = hp.run(train_py, flags={"x": "[-2,0,2]"})
    runs = batch.runs
    assert [r.flags for r in runs] == [{"noise": 0.1, "x": v} for v in (-2.0, 0.0, 2.0)]
    assert [r.status for r in runs] == [Status.COMPLETED] * 3
    assert all(math.isfinite(r.scalars["loss"]) for r in runs)
    assert [r.label for r in runs] == ["noise=0.1 x=-2", "noise=0.1 x=0", "noise=0.1 x=2"]
    df = batch.df
    assert list(df.columns) == ["run", "operation", "started", "time", "status", "label", "noise", "x", "step", "loss"]
    assert list(df["x"]) == [-2.0, 0.0, 2.0]
    store = Store()
    for r in runs:
        out = store.output(r.id)
        assert out.startswith("loss: ") and float(out.split()[1]) == r.scalars["loss"]  # full precision
        assert os.path.isfile(os.path.join(store.run_dir(r.id), "sourcecode", "train.py"))


def test_random_search_is_reproducible(home, train_py):
    a = hp.run(train_py, flags={"x": "[-2.0:2.0]", "noise": 0.0}, max_trials=4, random_seed=7)
    b = hp.run(train_py, flags={"x": "[-2.0:2.0]", "noise": 0.0}, max_trials=4, random_seed=7)
    xs = [r.flags["x"] for r in a.runs]
    assert xs == [r.flags["x"] for r in b.runs]
    assert len(set(xs)) == 4 and all(-2 <= x <= 2 for x in xs)
    # noise 0: the loss is the noiseless objective at each x
    for r in a.runs:
        x = r.flags["x"]
        assert r.scalars["loss"] == pytest.approx(math.sin(5 * x) * (1 - math.tanh(x * x)), abs=1e-12)


def test_a_crashing_script_fails_with_its_traceback_kept(home, write_script):
    """The real-process half of test_engine_outcomes.py's failures: stderr reaches output.log."""
    batch = hp.run(write_script("x = 1\nraise RuntimeError('crash at one')\n"), flags={"x": 1})
    assert [(r.status.value, r.reason) for r in batch.runs] == [("failed", "exit code 1: RuntimeError: crash at one")]
    out = Store().output(batch.runs[0].id)
    assert out.startswith("Traceback (most recent call last):") and out.endswith("RuntimeError: crash at one\n")


def test_function_trials_in_process(home):
    def objective(x=0.1, noise=0.0):
        return {"loss": (x - 1) ** 2, "other": 3}

    batch = hp.run(objective, flags={"x": [0.0, 1.0, 3.0]})
    assert [r.scalars for r in batch.runs] == [{"loss": 1.0, "other": 3.0}, {"loss": 0.0, "other": 3.0},
                                               {"loss": 4.0, "other": 3.0}]
    assert batch.runs[0].operation == "objective"


def test_function_errors_and_bad_returns(home):
    def objective(x=1):
        if x == 1:
            raise ValueError("nope")
        return "text"

    batch = hp.run(objective, flags={"x": [1, 2]})
    assert [(r.status.value, r.reason) for r in batch.runs] == [
        ("failed", "exit code 1: ValueError: nope"),
        ("failed", "the function returned str, not a number or a dict of numbers"),
    ]
    assert "ValueError: nope" in Store().output(batch.runs[0].id)


def test_stop_kills_running_trials_and_keeps_finished(home, write_script):
    path = write_script("import time\nx = 0\nif x > 0: time.sleep(30)\nprint('loss:', x)\n")
    from hpwidgets.core.run.batch import prepare

    batch = prepare(path, {"x": [0, 1, 2]})

    def stop_when_second_starts(event):
        if isinstance(event, TrialStarted) and event.record.trial == 1:
            import threading
            threading.Timer(0.5, batch.stop).start()

    batch.events.subscribe(stop_when_second_starts)
    batch.start()
    assert [(r.status.value, r.reason) for r in batch.runs] == [
        ("completed", None), ("terminated", "stopped before it finished")]
    assert batch.finished.status == "stopped"
    assert [r.status.value for r in Store().runs()] == ["terminated", "completed"]
