"""%hprun, %hpcompare and %hpruns through a real IPython shell (no kernel: widgets use a dummy comm)."""

from __future__ import annotations

import _thread
import threading
import time

import pytest
from IPython.core.error import UsageError

from hpwidgets.core.store import Store
from hpwidgets.notebook.dashboard import Dashboard
from hpwidgets.notebook.table import RunsTable

PREVIEW = """You are about to run train.py as a batch (3 trials)
  noise: 0.1
  x: [-2.0, 0.0, 2.0]
Trials:
  [1] x=-2.0
  [2] x=0.0
  [3] x=2.0
"""


def test_hprun_wait_runs_the_batch_and_returns_it(ip, shown):
    result = ip.run_cell("b = %hprun train.py x=[-2,0,2] --wait")
    assert result.error_in_exec is None
    batch = ip.user_ns["b"]
    assert batch.done
    assert batch.finished.counts == {"completed": 3, "failed": 0, "terminated": 0}
    assert [r.flags["x"] for r in batch.runs] == [-2.0, 0.0, 2.0]
    assert [type(o) for o in shown] == [Dashboard]
    assert shown[0].progress.value.count("Completed: 3 of 3 done") == 1


def test_hprun_without_wait_returns_at_once_and_runs_in_the_background(ip, shown):
    started = time.monotonic()
    batch = ip.run_line_magic("hprun", "slow.py x=[0,1] --top 1")
    returned = time.monotonic() - started
    assert not batch.done
    assert returned < 1.0  # less than one trial
    batch.wait(30)
    assert batch.finished.counts == {"completed": 2, "failed": 0, "terminated": 0}
    dashboard = shown[0]
    assert dashboard.top == 1
    assert len(dashboard.table.rows) == 1


def test_hprun_gets_the_raw_line(ip):
    ip.user_ns["x"] = 5
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("hprun", "train.py x=$x --preview")
    assert str(info.value) == ("%hprun: error: Invalid value for flag 'x': '$x' "
                               "(accepted: a number such as 0.1, -2 or 1e-3)")


def test_hprun_preview_prints_the_plan_and_runs_nothing(ip, capsys, home):
    assert ip.run_line_magic("hprun", "train.py x=[-2,0,2] --preview") is None
    assert capsys.readouterr().out == PREVIEW
    assert Store(str(home)).runs() == []


@pytest.mark.parametrize("line, message", [
    ("train.py --bogus", "%hprun: error: unrecognized arguments: --bogus"),
    ("train.py y=1", "%hprun: error: Unknown flag 'y' for train.py (its flags: noise, x)"),
    ("missing.py", "%hprun: error: Script not found: 'missing.py' (accepted: a path to a Python script such as train.py)"),
    ("train.py x=[-2.0:2.0] --truth nothere",
     "%hprun: error: Invalid value for --truth: 'nothere' (accepted: the name of a function defined in "
     "the notebook, such as truth (no such name))"),
    ("train.py x=[-2.0:2.0] --truth np_value",
     "%hprun: error: Invalid value for --truth: 'np_value' (accepted: the name of a function defined in "
     "the notebook, such as truth (it is a float))"),
    ("train.py x=[-2.0:2.0] noise=[0.1:0.2] --truth truth --max-trials 2",
     "%hprun: error: Invalid value for --truth: 'truth' (accepted: a batch that searches one numeric flag "
     "(this one searches: noise, x))"),
    ("train.py x=[-2,0,2] --top 0", "%hprun: error: Invalid value for --top: 0 (accepted: a positive integer)"),
])
def test_hprun_errors_are_one_line(ip, capsys, line, message):
    ip.user_ns["np_value"] = 1.5
    ip.user_ns["truth"] = lambda x: x
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("hprun", line)
    assert str(info.value) == message
    capsys.readouterr()
    ip.run_cell(f"%hprun {line}")  # as a cell shows it: one line, no traceback
    assert capsys.readouterr().err == f"UsageError: {message}\n"


def test_a_trailing_semicolon_silences_the_result(ip, shown, home):
    result = ip.run_cell("%hprun train.py x=[-2,0,2] --wait;")
    assert result.error_in_exec is None
    assert result.result is None
    assert len(Store(str(home)).runs()) == 3


def test_kernel_interrupt_during_wait_stops_the_batch(ip, shown, capsys, home):
    def interrupt_when_the_long_trial_runs():
        store = Store(str(home))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(r.status.value == "running" and r.flags["x"] == 2 for r in store.runs()):
                time.sleep(0.3)
                _thread.interrupt_main()  # what a kernel interrupt does to the busy cell
                return
            time.sleep(0.05)

    threading.Thread(target=interrupt_when_the_long_trial_runs, daemon=True).start()
    started = time.monotonic()
    batch = ip.run_line_magic("hprun", "sleepy.py x=[0,1,2,3] --wait")
    assert time.monotonic() - started < 20
    assert {r.flags["x"]: r.status.value for r in batch.runs} == {0: "completed", 1: "completed", 2: "terminated"}
    assert capsys.readouterr().err == "%hprun: stopped; 2 finished runs kept, the running ones terminated\n"


def test_hpcompare_table_prints_and_returns_the_frame(ip, shown, capsys):
    ip.run_line_magic("hprun", "sleepy.py x=[0,1] --wait")
    capsys.readouterr()
    frame = ip.run_line_magic("hpcompare", "--top 1 --max loss --table")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["run", "operation", "started", "time", "status", "label", "x", "step", "loss"]
    assert len(lines) == 2
    assert lines[1].split()[-1] == "1"
    assert list(frame.columns) == ["run", "operation", "started", "time", "status", "label", "x", "step", "loss"]
    assert frame["loss"].tolist() == [1.0]
    assert [type(o) for o in shown] == [Dashboard]  # the table is printed, no widget


def test_hpcompare_shows_the_table_widget(ip, shown):
    ip.run_line_magic("hprun", "sleepy.py x=[0,1] --wait")
    frame = ip.run_line_magic("hpcompare", "--min loss")
    table = shown[-1]
    assert isinstance(table, RunsTable)
    assert table.columns == ["run", "operation", "started", "time", "status", "label", "x", "step", "loss"]
    assert [row[-1] for row in table.rows] == ["0", "1"]
    assert frame["x"].tolist() == [0, 1]


def test_hpcompare_csv_writes_the_file(ip, shown, capsys, workdir):
    ip.run_line_magic("hprun", "sleepy.py x=[0,1] --wait")
    capsys.readouterr()
    frame = ip.run_line_magic("hpcompare", "--csv results.csv --min loss")
    assert capsys.readouterr().out == "wrote 2 runs to results.csv\n"
    lines = (workdir / "results.csv").read_text().splitlines()
    assert lines[0] == "run,operation,started,time,status,label,x,step,loss"
    assert [line.split(",")[-1] for line in lines[1:]] == ["0.0", "1.0"]
    assert len(frame) == 2
    assert not any(isinstance(o, RunsTable) for o in shown)


def test_hpcompare_errors_are_one_line(ip):
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("hpcompare", "--min loss --max loss")
    assert str(info.value) == "%hpcompare: error: argument --max: not allowed with argument --min"


def test_hpruns_lists_and_deletes_with_yes(ip, shown, capsys, home):
    ip.run_line_magic("hprun", "sleepy.py x=[0,1] --wait")
    capsys.readouterr()
    ip.run_line_magic("hpruns", "")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["[1]", "[2]"]
    assert all("sleepy.py" in line and "completed" in line for line in lines)
    first = lines[0].split()[1]
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("hpruns", f"rm {first}")
    assert str(info.value) == "%hpruns rm: error: pass -y to delete: a notebook does not ask"
    ip.run_line_magic("hpruns", f"rm {first} -y")
    assert capsys.readouterr().out == "Deleted 1 run(s)\n"
    assert len(Store(str(home)).runs()) == 1


def test_help_prints_usage_and_returns_nothing(ip, capsys):
    assert ip.run_line_magic("hprun", "-h") is None
    out = capsys.readouterr().out
    assert out.startswith("usage: %hprun [-h]")
    assert "--truth NAME" in out and "--wait" in out and "--top N" in out
