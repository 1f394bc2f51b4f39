"""%hprun, %hpcompare and %hpruns through a real IPython shell (no kernel: widgets use a dummy comm)."""

from __future__ import annotations

import _thread
import os
import threading
import time

import pytest
from IPython.core.error import UsageError

import hpwidgets as hp
from hpwidgets.core.store.runstore import Store
from hpwidgets.notebook.dashboard import Dashboard

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
    assert batch.finished.counts == {"completed": 3, "failed": 0, "terminated": 0, "pruned": 0}
    assert [r.flags["x"] for r in batch.runs] == [-2.0, 0.0, 2.0]
    record, live = shown  # one dashboard: its static record, then its live view
    assert (record.part, live.part) == ("record", "live") and record.dashboard is live.dashboard
    assert isinstance(record.dashboard, Dashboard)
    assert record.dashboard.progress.value.count("Completed: 3 of 3 done") == 1
    assert "Completed: 3 of 3 done" in record._repr_mimebundle_()["text/html"]
    assert live._repr_mimebundle_() == {"text/plain": ""}  # the batch ended: the record shows
    assert result.result is None  # and no <Batch ...> line under the dashboard


def test_hprun_without_wait_returns_at_once_and_runs_in_the_background(ip, shown, workdir):
    batch = ip.run_line_magic("hprun", "gated.py x=[0,1] --top 1")
    assert not batch.done  # returned while its trials wait for the gate
    (workdir / "go").touch()
    batch.wait(30)
    assert batch.finished.counts == {"completed": 2, "failed": 0, "terminated": 0, "pruned": 0}
    dashboard = shown[0].dashboard
    assert dashboard.wait_drawn(5)
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


def test_hpcompare_table_prints_and_nothing_else(ip, shown, capsys):
    ip.run_line_magic("hprun", "sleepy.py x=[0,1] --wait")
    capsys.readouterr()
    shown.clear()
    result = ip.run_cell("%hpcompare --top 1 --max loss --table")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["run", "operation", "started", "time", "status", "label", "x", "step", "loss"]
    assert len(lines) == 2
    assert lines[1].split()[-1] == "1"
    assert result.result is None and shown == []  # one thing: the printed table


def test_hpcompare_shows_one_table_and_keeps_the_frame(ip, shown, capsys):
    ip.run_line_magic("hprun", "sleepy.py x=[0,1] --wait")
    capsys.readouterr()
    comparison = ip.run_line_magic("hpcompare", "--min loss")
    assert capsys.readouterr().out == ""
    assert comparison.df["x"].tolist() == [0, 1]
    assert list(comparison.df.columns) == ["run", "operation", "started", "time", "status", "label", "x", "step", "loss"]
    bundle = comparison._repr_mimebundle_()
    assert sorted(bundle) == ["text/html", "text/plain"]
    html = bundle["text/html"]
    head = html.split("<thead><tr>")[1].split("</tr></thead>")[0]
    assert head == "<th>run</th><th>status</th><th>loss</th><th>x</th><th>time</th>"  # the sort column first
    assert '<div class="hpw-caption">2 runs of sleepy.py, by loss (lowest first)</div>' in html
    assert 'class="hpw-scroll"' in html and 'download="hpw-compare.csv"' in html
    assert bundle["text/plain"].splitlines()[0].split()[:2] == ["run", "operation"]
    quiet = ip.run_cell("c = %hpcompare --min loss")
    assert quiet.result is None and len(ip.user_ns["c"]) == 2


def test_hpcompare_columns_are_kept_in_table_frame_and_csv(ip, shown, capsys):
    ip.run_line_magic("hprun", "sleepy.py x=[0,1] --wait")
    comparison = ip.run_line_magic("hpcompare", "--min loss -c 'x,min loss'")
    assert list(comparison.df.columns) == ["run", "x", "min loss"]
    bundle = comparison._repr_mimebundle_()
    head = bundle["text/html"].split("<thead><tr>")[1].split("</tr></thead>")[0]
    assert head == "<th>run</th><th>x</th><th>min loss</th>"
    assert bundle["text/plain"].splitlines()[0].split() == ["run", "x", "min", "loss"]
    skipped = ip.run_line_magic("hpcompare", "--skip-core")
    assert list(skipped.df.columns) == ["run", "x", "step", "loss"]


def test_hpcompare_csv_writes_the_file(ip, shown, capsys, workdir):
    ip.run_line_magic("hprun", "sleepy.py x=[0,1] --wait")
    capsys.readouterr()
    shown.clear()
    result = ip.run_line_magic("hpcompare", "--csv results.csv --min loss")
    assert capsys.readouterr().out == "wrote 2 runs to results.csv\n"
    lines = (workdir / "results.csv").read_text().splitlines()
    assert lines[0] == "run,operation,started,time,status,label,x,step,loss"
    assert [line.split(",")[-1] for line in lines[1:]] == ["0.0", "1.0"]
    assert result is None and shown == []
    assert oct(os.stat(workdir / "results.csv").st_mode & 0o777) == oct(0o666 & ~_umask())  # the user's umask


def test_hpcompare_says_when_this_kernels_batches_still_run(ip, shown, capsys, workdir):
    batch = ip.run_line_magic("hprun", "gated.py x=[0,1]")
    capsys.readouterr()
    ip.run_line_magic("hpcompare", "--table")
    err = capsys.readouterr().err
    assert err.startswith(f"Note: 1 batch of this kernel still runs (batch {batch.id[:8]}: ")
    assert err.endswith("; these results may be incomplete (--wait waits for them)\n")
    (workdir / "go").touch()
    ip.run_line_magic("hpcompare", "--table --wait")
    assert batch.done
    out, err = capsys.readouterr()
    assert err == "" and len(out.splitlines()) == 3


def test_hpcompare_names_its_scope_and_keeps_this_kernels_batches_with_kernel(ip, shown, capsys, workdir, home):
    other = workdir / "svc.py"
    other.write_text("c = 1.0\nprint(f'loss: {c / 10}')\n")
    hp.run(str(other), flags={"c": "[1.0,2.0,3.0]"}, store=str(home))  # another notebook's search
    batch = ip.run_line_magic("hprun", "sleepy.py x=[0,1] --wait")
    capsys.readouterr()
    everything = ip.run_line_magic("hpcompare", "--top 3 --min loss")
    assert everything.caption == ("3 of 5 runs of 2 scripts (svc.py 3, sleepy.py 2), by loss (lowest first) "
                                  "(every batch in the store: --kernel keeps this kernel's own)")
    assert capsys.readouterr().out == ("Note: loss comes from 2 scripts (sleepy.py, svc.py): their values may not "
                                       "compare\n")
    mine = ip.run_line_magic("hpcompare", "--kernel --min loss")
    assert {r.batch for r in mine.records} == {batch.id} and len(mine) == 2
    assert mine.caption == "2 runs of sleepy.py, by loss (lowest first) (this kernel's batches only)"
    assert capsys.readouterr().out == ""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("hpruns", "rm 1")
    assert str(info.value) == "%hpruns rm: error: pass -y to delete: a notebook does not ask"
    ip.run_line_magic("hpruns", "rm -y 1")
    assert capsys.readouterr().out == "Deleted 1 run(s) (into the trash)\n"
    assert len(Store(str(home)).runs()) == 1


def test_hpruns_subcommands(ip, shown, capsys, home):
    batch = ip.run_line_magic("hprun", "sleepy.py x=[0,1] --wait")
    capsys.readouterr()
    ip.run_line_magic("hpruns", "info 1")
    out = capsys.readouterr().out
    newest = Store(str(home)).runs()[0]
    assert out.startswith(f"id: {newest.id}\noperation: sleepy.py\nstatus: completed\n")
    assert out.endswith("output:\n" + Store(str(home)).output(newest.id))  # the output, in the cell
    ip.run_line_magic("hpruns", "cat 2 --tail 1")
    assert capsys.readouterr().out == Store(str(home)).output(Store(str(home)).runs()[1].id).splitlines(True)[-1]
    ip.run_line_magic("hpruns", "label 1 2 'best so far'")
    assert capsys.readouterr().out.startswith("Labeled 2 run(s)")
    ip.run_line_magic("hpruns", "tag 1 --add keep")
    ip.run_line_magic("hpruns", "--tag keep")
    assert capsys.readouterr().out.splitlines()[-1].endswith(f"best so far  [keep]  batch {batch.id[:8]}")
    ip.run_line_magic("hpruns", "rm --tag keep -y")
    ip.run_line_magic("hpruns", "restore 1")  # restoring loses nothing: no -y needed
    ip.run_line_magic("hpruns", "rm -y 1:2")
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("hpruns", "purge 1")
    assert str(info.value) == "%hpruns purge: error: pass -y to purge: a notebook does not ask"
    ip.run_line_magic("hpruns", "purge -y 1:2")
    assert capsys.readouterr().out.splitlines()[-3:] == ["Restored 1 run(s)", "Deleted 2 run(s) (into the trash)",
                                                        "Purged 2 run(s)"]
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("hpruns", "info 1")
    assert str(info.value) == "%hpruns: error: No runs to show"


def test_help_prints_usage_and_returns_nothing(ip, capsys):
    assert ip.run_line_magic("hprun", "-h") is None
    out = capsys.readouterr().out
    assert out.startswith("usage: %hprun [-h]")
    assert "--truth NAME" in out and "--wait" in out and "--top N" in out


def test_hprun_help_flags(ip, shown, capsys, home):
    assert ip.run_line_magic("hprun", "train.py --help-flags") is None
    assert capsys.readouterr().out == ("Flags of train.py (module-level assignments):\n"
                                       "  noise  float  (default is 0.1)\n  x      float  (default is 0.1)\n")
    assert shown == [] and Store(str(home)).runs() == []


def test_a_mistyped_objective_stops_after_one_trial_and_the_cell_says_so_once(ip, shown, capsys):
    result = ip.run_cell("b = %hprun train.py x=[-2,0,2] --minimize los --wait")
    assert result.error_in_exec is None
    batch = ip.user_ns["b"]
    assert (batch.finished.status, len(batch.runs)) == ("failed", 1)
    record, _ = shown
    html = record._repr_mimebundle_()["text/html"]
    assert html.count("did you mean loss?") == 1
    out = capsys.readouterr()
    assert "did you mean" not in out.out + out.err
