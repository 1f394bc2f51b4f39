"""The trial loop with real subprocess trials and a real store on disk."""

import math
import os

import pytest

import hpwidgets as hp
from hpwidgets.core.records import Status
from hpwidgets.core.run.events import BatchFinished, BatchStarted, TrialFinished, TrialStarted
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


def test_events_in_order_and_frozen(home, write_script):
    path = write_script("x = 1\nprint('loss:', x * 2)\n")
    seen = []
    from hpwidgets.core.run.batch import prepare
    from hpwidgets.core.search.plan import RunOptions

    batch = prepare(path, {"x": [1, 2]}, RunOptions())
    batch.events.subscribe(lambda e: seen.append(type(e).__name__))
    batch.start()
    assert seen == ["BatchStarted", "TrialStarted", "TrialOutput", "TrialProgress", "TrialFinished",
                    "TrialStarted", "TrialOutput", "TrialProgress", "TrialFinished", "BatchFinished"]
    assert batch.finished.counts == {"completed": 2, "failed": 0, "terminated": 0, "pruned": 0}
    assert batch.best.flags["x"] == 1


def test_failed_trials_do_not_stop_the_batch(home, write_script):
    path = write_script(
        "import math\nx = 0\n"
        "if x == 1: raise RuntimeError('crash at one')\n"
        "if x == 2: print('acc: 3')\n"
        "if x == 3: print('loss: nan')\n"
        "if x == 4: print('loss: inf')\n"
        "if x == 0: print('loss: 0.5')\n"
    )
    batch = hp.run(path, flags={"x": [0, 1, 2, 3, 4]})
    got = [(r.status.value, r.reason) for r in batch.runs]
    assert got == [
        ("completed", None),
        ("failed", "exit code 1: RuntimeError: crash at one"),  # the traceback's last line says why
        ("failed", "no 'loss' in its output"),
        ("failed", "loss is nan"),
        ("failed", "loss is inf"),
    ]
    out = Store().output(batch.runs[1].id)
    assert "RuntimeError: crash at one" in out


def test_step_and_series(home, write_script):
    path = write_script("x = 1\nfor i in range(3):\n    print(f'step: {i}')\n    print(f'loss: {x / (i + 1)}')\n"
                        "print('acc: 0.9 (step 7)')\n")
    batch = hp.run(path, flags={"x": 3})
    rec = batch.runs[0]
    assert rec.scalars == {"loss": 1.0, "acc": 0.9} and rec.step == 7
    assert Store().series(rec.id) == {"loss": [[0, 3.0], [1, 1.5], [2, 1.0]], "acc": [[7, 0.9]]}


def test_maximize(home, write_script):
    path = write_script("x = 1\nprint('acc:', -abs(x - 2))\n")
    batch = hp.run(path, flags={"x": [0, 2, 3]}, maximize="acc")
    assert batch.best.flags["x"] == 2


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


def test_subscriber_error_does_not_break_the_batch(home, write_script, capsys):
    path = write_script("x = 1\nprint('loss:', x)\n")
    from hpwidgets.core.run.batch import prepare

    batch = prepare(path, {"x": [1, 2]})
    batch.events.subscribe(lambda e: 1 / 0)
    got = []
    batch.events.subscribe(lambda e: got.append(e) if isinstance(e, (TrialFinished, BatchStarted,
                                                                     TrialStarted, BatchFinished)) else None)
    batch.start()
    assert len(got) == 6 and len(batch.events.errors) == 10  # 2 of them TrialProgress
    assert "ZeroDivisionError" in capsys.readouterr().err


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


def test_background_batch(home, write_script):
    path = write_script("x = 1\nprint('loss:', x)\n")
    batch = hp.run(path, flags={"x": [1, 2, 3]}, background=True)
    batch.wait(60)
    assert batch.done and len(batch.runs) == 3


def test_priors_only_when_asked_for_and_only_of_the_same_source(home, write_script):
    from hpwidgets.core.run.batch import prepare
    from hpwidgets.core.search.plan import RunOptions

    path = write_script("x = 0.5\nprint('loss:', (x - 0.3) ** 2)\n")
    hp.run(path, flags={"x": [-1.0, 0.0, 1.0, 5.0]})
    fresh = prepare(path, {"x": "[-2.0:2.0]"}, RunOptions(optimizer="gp"))
    assert fresh.priors == []  # Guild's default, prev-trials=batch: a new batch starts fresh
    asked = prepare(path, {"x": "[-2.0:2.0]"}, RunOptions(optimizer="gp", opt_flags={"prev-trials": "sourcecode"}))
    assert sorted(r.flags["x"] for r in asked.priors) == [-1.0, 0.0, 1.0]  # 5.0 is outside the space
    assert asked.describe().endswith("\nPriors: 3 earlier runs of script.py (prev-trials=sourcecode)")
    with open(path, "a") as fh:
        fh.write("# changed\n")
    assert prepare(path, {"x": "[-2.0:2.0]"}, RunOptions(optimizer="gp", opt_flags={"prev-trials": "sourcecode"})).priors == []
    by_name = prepare(path, {"x": "[-2.0:2.0]"}, RunOptions(optimizer="gp", opt_flags={"prev-trials": "operation"}))
    assert len(by_name.priors) == 3
