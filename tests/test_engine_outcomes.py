"""The trial loop's handling of outcomes, with scripted trials: no subprocess, a real store on disk.

What a real process adds (its output streamed, its group killed on Stop or timeout) is tested
with real subprocess trials in test_engine.py, test_trial_processes.py and test_reliability.py.
"""

from __future__ import annotations

from hpwidgets.core.run.batch import prepare
from hpwidgets.core.run.events import BatchFinished, BatchStarted, TrialFinished, TrialStarted
from hpwidgets.core.search.plan import RunOptions
from hpwidgets.core.store.runstore import Store
from tests.support.runners import Ending, ScriptedOptimizer, ScriptedRunner

CRASH = Ending(("Traceback (most recent call last):", '  File "script.py", line 3, in <module>',
                "RuntimeError: crash at one"), exit_code=1)


def scripted(write_script, flags, script, options=None, source="x = 0\n"):
    """A batch of script.py (``source`` defines its flags) whose trials print what ``script(flags)``
    says."""
    return prepare(write_script(source), flags, options or RunOptions(), runner=ScriptedRunner(script))


def test_events_in_order_and_frozen(home, write_script):
    seen = []
    batch = scripted(write_script, {"x": [1, 2]}, lambda f: f"loss: {f['x'] * 2}")
    batch.events.subscribe(lambda e: seen.append(type(e).__name__))
    batch.start()
    assert seen == ["BatchStarted", "TrialStarted", "TrialOutput", "TrialProgress", "TrialFinished",
                    "TrialStarted", "TrialOutput", "TrialProgress", "TrialFinished", "BatchFinished"]
    assert batch.finished.counts == {"completed": 2, "failed": 0, "terminated": 0, "pruned": 0}
    assert batch.best.flags["x"] == 1


def test_failed_trials_do_not_stop_the_batch(home, write_script):
    outputs = {0: "loss: 0.5", 1: CRASH, 2: "acc: 3", 3: "loss: nan", 4: "loss: inf"}
    batch = scripted(write_script, {"x": [0, 1, 2, 3, 4]}, lambda f: outputs[f["x"]]).start()
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
    printed = "\n".join(f"step: {i}\nloss: {3 / (i + 1)}" for i in range(3)) + "\nacc: 0.9 (step 7)"
    batch = scripted(write_script, {"x": 3}, lambda f: printed).start()
    rec = batch.runs[0]
    assert rec.scalars == {"loss": 1.0, "acc": 0.9} and rec.step == 7
    assert Store().series(rec.id) == {"loss": [[0, 3.0], [1, 1.5], [2, 1.0]], "acc": [[7, 0.9]]}


def test_maximize(home, write_script):
    batch = scripted(write_script, {"x": [0, 2, 3]}, lambda f: f"acc: {-abs(f['x'] - 2)}",
                     RunOptions(maximize="acc")).start()
    assert batch.best.flags["x"] == 2


def test_subscriber_error_does_not_break_the_batch(home, write_script, capsys):
    batch = scripted(write_script, {"x": [1, 2]}, lambda f: f"loss: {f['x']}")
    batch.events.subscribe(lambda e: 1 / 0)
    got = []
    batch.events.subscribe(lambda e: got.append(e) if isinstance(e, (TrialFinished, BatchStarted,
                                                                     TrialStarted, BatchFinished)) else None)
    batch.start()
    assert len(got) == 6 and len(batch.events.errors) == 10  # 2 of them TrialProgress
    assert "ZeroDivisionError" in capsys.readouterr().err


def test_background_batch(home, write_script):
    batch = scripted(write_script, {"x": [1, 2, 3]}, lambda f: f"loss: {f['x']}").start(background=True)
    batch.wait(60)
    assert batch.done and len(batch.runs) == 3


def test_priors_only_when_asked_for_and_only_of_the_same_source(home, write_script):
    path = write_script("x = 0.5\nprint('loss:', (x - 0.3) ** 2)\n")
    prepare(path, {"x": [-1.0, 0.0, 1.0, 5.0]}, RunOptions(),
            runner=ScriptedRunner(lambda f: f"loss: {(f['x'] - 0.3) ** 2}")).start()
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


def test_the_engine_asks_its_optimizer_and_tells_it_what_each_trial_gave(home, write_script):
    batch = scripted(write_script, {"x": "[-2.0:2.0]"}, lambda f: CRASH if f["x"] == 1.5 else f"loss: {f['x'] ** 2}",
                     RunOptions(max_trials=3), source="x = 0.0\n")
    batch.engine.optimizer = optimizer = ScriptedOptimizer([{"x": -1.0}, {"x": 1.5}, {"x": 0.5}])
    batch.start()
    assert [r.flags["x"] for r in batch.runs] == [-1.0, 1.5, 0.5]
    assert optimizer.told == [({"x": -1.0}, 1.0), ({"x": 1.5}, None), ({"x": 0.5}, 0.25)]  # a failure: None


def test_each_way_a_trial_ends_gets_its_status_and_reason(home, write_script):
    """The judgement behind the real timeout, signal and Stop tests, one ending each."""
    endings = {0: Ending(("loss: 1",), exit_code=None, killed="timeout"),
               1: Ending(("loss: 1",), exit_code=-9),
               2: Ending(("loss: 1", "KeyboardInterrupt"), exit_code=130),
               3: Ending(("step: 1", "loss: 2"), exit_code=0)}
    batch = scripted(write_script, {"x": [0, 1, 2, 3]}, lambda f: endings[f["x"]], RunOptions(timeout=2.5)).start()
    assert [(r.status.value, r.reason, r.scalars, r.step) for r in batch.runs] == [
        ("failed", "timed out after 2.5 s", {"loss": 1.0}, None),
        ("failed", "killed by signal 9", {"loss": 1.0}, None),
        ("failed", "exit code 130: KeyboardInterrupt", {"loss": 1.0}, None),
        ("completed", None, {"loss": 2.0}, 1),
    ]
