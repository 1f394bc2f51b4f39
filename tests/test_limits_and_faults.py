"""Other faults: resuming a live batch, a script that deletes its run directory, sizes that
would exhaust memory, and option values of the wrong type. Each gets one clear error or a
documented behaviour, and loses nothing."""

import math
import os
import resource
import subprocess
import sys

import pytest

import hpwidgets as hp
from hpwidgets.core.errors import OptionError, UnknownFlagError
from hpwidgets.core.records import RunRecord, Status
from hpwidgets.core.results import compare
from hpwidgets.core.run.scripts import inspect_script
from hpwidgets.core.store.runstore import Store
from tests.helpers import hpw
from tests.support.waiting import wait_for


def test_resume_is_refused_while_its_owner_runs_the_batch(home, write_script):
    path = write_script("import time\nx = 0\nif x == 1: open('started', 'w').close(); time.sleep(60)\n"
                        "print('loss:', x)\n")
    owner = subprocess.Popen([sys.executable, "-m", "hpwidgets.cli", "run", path, "x=[0,1,2]", "-y"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        runs = home / "runs"
        wait_for(lambda: runs.exists() and any(runs.glob("*/started")), "the first trial starting", 30)
        batch_id = Store().runs()[0].batch
        second = subprocess.run([sys.executable, "-m", "hpwidgets.cli", "run", "--resume", batch_id[:8], "-y"],
                                capture_output=True, text=True, timeout=20)
        assert second.returncode == 1
        assert second.stderr == (f"hpw run: error: Invalid value for --resume: '{batch_id[:8]}' (accepted: a batch "
                                 f"that no process is running; batch {batch_id[:8]} is still running: stop it first)\n")
        assert sorted((r.flags["x"], r.status.value) for r in Store().runs()) == [(0, "completed"), (1, "running")]
    finally:
        owner.kill()
        owner.wait()
    Store().reap_orphans()  # kills the orphaned trial


def test_two_resumes_of_one_batch_never_run_a_trial_twice(home, write_script, tmp_path):
    broken = tmp_path / "broken"
    broken.write_text("")
    path = write_script(f"import os\nx = 0\nif x == 1 and os.path.exists({str(broken)!r}): raise SystemExit(3)\n"
                        "print('loss:', x)\n")
    assert hpw("run", path, "x=[0,1,2,3]", "-y").returncode == 0  # 3 of 4 done, 1 failed
    os.remove(broken)
    batch_id = Store().runs()[0].batch
    prompt = tmp_path / "prompt"
    with open(prompt, "w") as err:  # the first waits at its prompt while the second runs
        first = subprocess.Popen([sys.executable, "-m", "hpwidgets.cli", "run", "--resume", batch_id[:8]],
                                 stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err, text=True)
        try:
            wait_for(lambda: "Continue? (Y/n) " in prompt.read_text(), "the first resume at its prompt", 60)
            second = hpw("run", "--resume", batch_id[:8], "-y")
            first.communicate("y\n", timeout=60)
        finally:
            first.kill()
            first.wait()
    assert (second.returncode, second.stderr) == (1, (
        f"hpw run: error: Invalid value for --resume: '{batch_id[:8]}' (accepted: a batch that no process is "
        f"running; batch {batch_id[:8]} is still running: stop it first)\n"))
    assert first.returncode == 0
    final = sorted((r.flags["x"], r.status.value) for r in Store().runs(batch=batch_id))
    assert final == [(0, "completed"), (1, "completed"), (1, "failed"), (2, "completed"), (3, "completed")]


def test_a_script_that_deletes_its_run_directory_fails_that_trial_only(home, write_script):
    # the batch writes the trial's output into the same folder meanwhile: delete until it is gone
    path = write_script("import os, shutil\nx = 0\nhere = os.getcwd()\nwhile x == 1 and os.path.exists(here):\n"
                        "    shutil.rmtree(here, ignore_errors=True)\nprint('loss:', x)\n")
    batch = hp.run(path, flags={"x": [0, 1, 2]})
    assert [(r.status.value, r.reason) for r in batch.runs] == [
        ("completed", None), ("failed", "its run directory was deleted while it ran"), ("completed", None)]
    stored = sorted(Store().runs(), key=lambda r: r.trial)
    assert [(r.status.value, r.reason) for r in stored] == [(r.status.value, r.reason) for r in batch.runs]


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # so that the old code fails, not the machine


@pytest.mark.parametrize("args,message", [
    (["x=linspace[0:1:30000000]"],
     "Invalid value for flag 'x': 'linspace[0:1:30000000]': it gives 30000000 values "
     "(accepted: at most 1000000 values in a sequence)"),
    (["x=range[0:1e9]"],
     "Invalid value for flag 'x': 'range[0:1e9]': it gives 1000000001 values "
     "(accepted: at most 1000000 values in a sequence)"),
    (["x=range[1:2000]", "noise=range[1:1000]"],
     "Invalid value for --optimizer: 'grid' (accepted: a grid of at most 1000000 trials; this one has "
     "2000000: cut it with --max-trials N, or search the flags with random, gp, forest or gbrt)"),
])
def test_sizes_are_counted_before_they_are_expanded(home, train_py, args, message):
    proc = subprocess.run([sys.executable, "-m", "hpwidgets.cli", "run", train_py, *args, "--preview"],
                          capture_output=True, text=True, timeout=60, preexec_fn=_limit_memory)
    assert (proc.returncode, proc.stderr) == (1, f"hpw run: error: {message}\n")


def test_a_huge_grid_cut_by_max_trials_is_never_expanded(home, train_py):
    proc = subprocess.run([sys.executable, "-m", "hpwidgets.cli", "run", train_py, "x=range[1:2000]",
                           "noise=linspace[0:999:1000]", "--max-trials", "3", "--random-seed", "1", "--preview"],
                          capture_output=True, text=True, timeout=60, preexec_fn=_limit_memory)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines() == [
        "You are about to run train.py as a batch (3 trials)",
        "  noise: [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0 ... and 990 more]",
        "  x: [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0 ... and 1990 more]",
        "Trials:",
        "  [1] noise=140.0 x=1783.0",
        "  [2] noise=596.0 x=1708.0",
        "  [3] noise=888.0 x=1198.0",
    ]


def test_lists_in_errors_are_shortened(write_script):
    names = [f"c{i:04d}" for i in range(5000)]
    rows = [RunRecord(id="a" * 32, batch="b", operation="op", flags={}, status=Status.COMPLETED,
                      scalars=dict.fromkeys(names, 1.0))]
    with pytest.raises(OptionError) as err:
        compare.select(rows, min="nope")
    assert str(err.value) == ("Invalid value for min: 'nope' (accepted: a scalar or flag of the runs: "
                              "c0000, c0001, c0002, c0003, c0004, c0005, c0006, c0007, c0008, c0009 "
                              "... and 4990 more)")
    info = inspect_script(write_script("".join(f"{n} = 1\n" for n in names)))
    with pytest.raises(UnknownFlagError) as err:
        info.flag("nope")
    assert str(err.value) == ("Unknown flag 'nope' for script.py (its flags: c0000, c0001, c0002, c0003, c0004, "
                              "c0005, c0006, c0007, c0008, c0009 ... and 4990 more)")


@pytest.mark.parametrize("kwargs,message", [
    ({"max_trials": "3"}, "Invalid value for max_trials: '3' (accepted: a positive integer)"),
    ({"max_trials": 2.5}, "Invalid value for max_trials: 2.5 (accepted: a positive integer)"),
    ({"max_trials": True}, "Invalid value for max_trials: True (accepted: a positive integer)"),
    ({"random_seed": "a"}, "Invalid value for random_seed: 'a' (accepted: an integer from 0 to 4294967295)"),
    ({"random_seed": -1}, "Invalid value for random_seed: -1 (accepted: an integer from 0 to 4294967295)"),
    ({"timeout": math.inf}, "Invalid value for timeout: inf (accepted: a positive, finite number of seconds)"),
    ({"timeout": "5"}, "Invalid value for timeout: '5' (accepted: a positive, finite number of seconds)"),
    ({"workers": 1.5}, "Invalid value for workers: 1.5 (accepted: a positive integer)"),
])
def test_api_option_types(home, write_script, kwargs, message):
    path = write_script("x = 0\nprint('loss:', x)\n")
    with pytest.raises(OptionError) as err:
        hp.run(path, flags={"x": "[0:9]"}, **kwargs)
    assert str(err.value) == message
    assert not (home / "runs").exists() or not os.listdir(home / "runs")


def test_timeout_on_a_function_is_refused(home):
    def objective(x=0.0):
        return x

    with pytest.raises(OptionError) as err:
        hp.run(objective, flags={"x": [1.0, 2.0]}, timeout=5)
    assert str(err.value) == ("Invalid value for timeout: 5 (accepted: None for a function: it runs in this "
                              "process, which cannot kill it; run a script to time its trials out)")


@pytest.mark.parametrize("value", ["inf", "nan", "1e999"])
def test_cli_timeout_must_be_finite(home, train_py, value):
    proc = hpw("run", train_py, "x=[1,2]", "--timeout", value, "-y")
    assert (proc.returncode, proc.stderr) == (
        1, f"hpw run: error: Invalid value for --timeout: {float(value)!r} "
           "(accepted: a positive, finite number of seconds)\n")
    assert not (home / "runs").exists() or not os.listdir(home / "runs")



def test_a_functions_parameters_with_non_literal_defaults_are_no_flags_and_keep_their_defaults(home):
    import numpy as np

    def objective(x: float = 1.0, weights=np.arange(3.0), rng=np.random.default_rng(7), label="a",  # noqa: B008
                  n=None):
        return {"loss": x + float(weights.sum()) + rng.integers(0, 1)}

    batch = hp.run(objective, flags={"x": [1.0, 2.0]})
    runs = Store().runs()
    assert [(r.status.value, r.flags, r.scalars) for r in sorted(runs, key=lambda r: r.trial)] == [
        ("completed", {"x": 1.0, "label": "a", "n": None}, {"loss": 4.0}),
        ("completed", {"x": 2.0, "label": "a", "n": None}, {"loss": 5.0})]
    assert batch.finished.status == "completed"
