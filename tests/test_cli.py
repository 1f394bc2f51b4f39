"""The `hpw` command, run for real in a subprocess, against a real store."""

import csv
import io
import os
import subprocess
import sys

import pytest

from tests.helpers import hpw


@pytest.fixture
def env(home):
    return dict(os.environ)


def _count_runs(home) -> int:
    runs = home / "runs"
    return len(os.listdir(runs)) if runs.exists() else 0


def test_tutorial_grid_random_compare_csv(env, home, train_py, tmp_path):
    grid = hpw("run", train_py, "x=[-2,0,2]", "-y", env=env)
    assert grid.returncode == 0, grid.stderr
    assert grid.stdout.count("loss: ") == 3
    assert grid.stdout.splitlines()[-1].startswith("Batch ") and ": 3 of 3 done; best loss " in grid.stdout
    rand = hpw("run", train_py, "x=[-2.0:2.0]", "--max-trials", "5", "--random-seed", "1", "-y", env=env)
    assert rand.returncode == 0 and ": 5 of 5 done; best loss " in rand.stdout
    table = hpw("compare", "--top", "5", "--min", "loss", "--table", env=env)
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["run", "operation", "started", "time", "status", "label", "noise", "x", "step", "loss"]
    assert len(lines) == 6
    losses = [float(line.split()[-1]) for line in lines[1:]]
    assert losses == sorted(losses)
    out = tmp_path / "results.csv"
    assert hpw("compare", "--csv", str(out), env=env).returncode == 0
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0] == ["run", "operation", "started", "time", "status", "label", "noise", "x", "step", "loss"]
    assert len(rows) == 9
    assert all(float(r[-1]) == float(r[-1]) for r in rows[1:])  # numbers, not quoted text
    assert hpw("runs", env=env).stdout.count("train.py") == 8


def test_confirmation_prompt(env, home, train_py):
    no = hpw("run", train_py, "x=[-2,0,2]", env=env, input="n\n")
    assert no.returncode == 0
    assert no.stderr == ("You are about to run train.py as a batch (3 trials)\n  noise: 0.1\n  x: [-2.0, 0.0, 2.0]\n"
                         "Continue? (Y/n) ")
    assert _count_runs(home) == 0
    yes = hpw("run", train_py, "x=0.3", env=env, input="\n")
    assert yes.returncode == 0 and yes.stderr.startswith("You are about to run train.py\n  noise: 0.1\n  x: 0.3\n")
    assert _count_runs(home) == 1


def test_preview_runs_nothing(env, home, train_py):
    p = hpw("run", train_py, "x=[-2.0:2.0]", "--max-trials", "3", "--random-seed", "3", "--preview", env=env)
    lines = p.stdout.splitlines()
    assert lines[:4] == ["You are about to run train.py with random search (3 trials)", "  noise: 0.1",
                         "  x: uniform[-2.0:2.0]", "Trials:"]
    assert [line.split("] ")[0] for line in lines[4:]] == ["  [1", "  [2", "  [3"]
    assert _count_runs(home) == 0


ERRORS = [
    (["missing.py"], "hpw run: error: Script not found: 'missing.py' (accepted: a path to a Python script such as train.py)"),
    (["{train}", "y=1"], "hpw run: error: Unknown flag 'y' for train.py (its flags: noise, x)"),
    (["{train}", "x=[2:-2]"], "hpw run: error: Invalid value for flag 'x': '[2:-2]': the lower bound 2 has to be less than the upper bound -2 (accepted: [low:high] with low < high)"),
    (["{train}", "x=[1:2:3:4]"], "hpw run: error: Invalid value for flag 'x': '[1:2:3:4]': a range takes 2 or 3 values, got 4 (accepted: [low:high] or [low:high:first])"),
    (["{train}", "x=foo[1:2]"], "hpw run: error: Invalid value for flag 'x': 'foo[1:2]': unknown function 'foo' (accepted: uniform[...], loguniform[...], range[...], linspace[...], logspace[...])"),
    (["{train}", "x=loguniform[0:1]"], "hpw run: error: Invalid value for flag 'x': 'loguniform[0:1]': the lower bound 0 must be positive (accepted: loguniform[low:high] with 0 < low < high)"),
    (["{train}", "x=[a,b]"], "hpw run: error: Invalid value for flag 'x': '[a,b]': 'a' is not one (accepted: a number such as 0.1, -2 or 1e-3)"),
    (["{train}", "x=[-2:2]", "--max-trials", "0"], "hpw run: error: Invalid value for --max-trials: 0 (accepted: a positive integer)"),
    (["{train}", "x=[-2:2]", "--optimizer", "sa"], "hpw run: error: Invalid value for --optimizer: 'sa' (accepted: grid, random, gp (aliases: bayesian, gaussian), forest, gbrt)"),
    (["{train}", "x="], "hpw run: error: Invalid value for flag 'x': '': empty value (accepted: a value, a list [a,b,...], a range [low:high] or [low:high:first], uniform[low:high], loguniform[low:high], range[start:end:step], linspace[start:end:count] or logspace[start:end:count:base])"),
    (["{train}", "x"], "hpw run: error: Invalid value for flag: 'x' (accepted: NAME=VALUE, such as x=0.1 or x=[-2:2])"),
    (["{train}", "--dask-files-max", "-1"], "hpw run: error: Invalid value for --dask-files-max: -1.0 (accepted: 0 or a positive number of megabytes)"),
    (["{train}", "x=[-2:2]", "--optimizer", "grid"], "hpw run: error: Invalid value for --optimizer: 'grid' (accepted: random, gp, forest or gbrt to search the range x=uniform[-2.0:2.0])"),
]


@pytest.mark.parametrize("args,message", ERRORS)
def test_run_errors_one_line_and_no_run(env, home, train_py, args, message):
    args = [a.format(train=train_py) for a in args]
    proc = hpw("run", *args, "-y", env=env)
    assert proc.returncode == 1
    assert proc.stderr == message + "\n"
    assert proc.stdout == ""
    assert _count_runs(home) == 0


def test_usage_errors_exit_2(env, home, train_py):
    proc = hpw("run", train_py, "--max-trials", "many", env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith("argument -m/--max-trials: invalid int value: 'many'")
    assert hpw("frobnicate", env=env).stderr == ("hpw: error: unknown command 'frobnicate' (accepted: run, runs, "
                                                 "batches, compare, cat, label, tag, plot, watch, stop, tensorboard)\n")


def test_csv_into_missing_folder(env, home, train_py, tmp_path):
    assert hpw("run", train_py, "x=0.2", "-y", env=env).returncode == 0
    target = tmp_path / "nowhere" / "r.csv"
    proc = hpw("compare", "--csv", str(target), env=env)
    assert proc.returncode == 1
    assert proc.stderr == (f"hpw compare: error: Invalid value for --csv: '{target}' (accepted: a file path in an "
                           f"existing folder, or - for standard output (folder {target.parent} does not exist))\n")
    assert _count_runs(home) == 1  # nothing lost


def test_runs_rm(env, home, train_py):
    hpw("run", train_py, "x=[1,2]", "-y", env=env)
    first = hpw("runs", env=env).stdout.splitlines()[0].split()[1]
    full = next(name for name in os.listdir(home / "runs") if name.startswith(first))
    rm = hpw("runs", "rm", full, "-y", env=env)  # a whole id is always an id
    assert rm.stdout == "Deleted 1 run(s) (into the trash)\n"
    assert _count_runs(home) == 1
    assert hpw("runs", "rm", "zzzz", "-y", env=env).stderr == (
        "hpw runs: error: No run matches 'zzzz' (accepted: a list index such as 1, a range such as 2:5, "
        "or the first characters of a run id)\n")


def test_single_failing_run_exits_1(env, home, write_script):
    path = write_script("x = 1\nraise SystemExit(3)\n")
    proc = hpw("run", path, "-y", env=env)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[-1].endswith("failed: exit code 3")


def test_compare_and_runs_start_without_numpy(env, home):
    for command in (["compare", "--table"], ["runs"]):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "hpwidgets.cli", *command],
                              capture_output=True, text=True, env=env, timeout=60)
        assert proc.returncode == 0, proc.stderr
        imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time")}
        assert not {"numpy", "pandas", "skopt"} & imported, command
