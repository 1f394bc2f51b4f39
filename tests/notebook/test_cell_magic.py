"""%%hprun: the cell's body is the trial, run as a script in a fresh interpreter."""

from __future__ import annotations

import os

import pytest
from IPython.core.error import UsageError

from hpwidgets.core.store.runstore import Store

BODY = """\
x = 0.5
y = 2
loss = (x - 1) ** 2 + y + offset + sum(data) + np.sign(1.0)
data.append(99)
print(f"loss: {loss}")
"""


def test_cell_finds_its_flags_runs_two_at_once_and_leaves_the_notebook_untouched(ip, shown):
    import numpy as np

    ip.user_ns.update(offset=10.0, data=[1, 2], np=np)
    result = ip.run_cell_magic("hprun", "x=[0.0,1.0,2.0] y=[0,1] --workers 2 --wait", BODY)
    assert result.finished.counts == {"completed": 6, "failed": 0, "terminated": 0, "pruned": 0}
    assert sorted((r.flags["x"], r.flags["y"]) for r in result.runs) == [
        (x, y) for x in (0.0, 1.0, 2.0) for y in (0, 1)]
    assert sorted(r.scalars["loss"] for r in result.runs) == [14.0, 15.0, 15.0, 15.0, 16.0, 16.0]
    assert result.finished.elapsed and result.engine.workers == 2
    assert ip.user_ns["data"] == [1, 2]  # the trial appended to its own copy
    assert ip.user_ns["offset"] == 10.0
    # the cell is a script like any other: its copy is kept in each run, its name is the operation
    run = result.runs[0]
    assert run.operation.startswith("cell-") and run.operation.endswith(".py")
    copy = os.path.join(Store().run_dir(run.id), "sourcecode", run.operation)
    with open(copy, encoding="utf-8") as fh:
        assert fh.read().splitlines()[1:] == BODY.splitlines()


def test_an_error_in_the_cell_names_the_cells_own_line(ip, shown):
    body = "x = 1.0\n\nraise ValueError('bad x')\n"  # the raise is the cell's line 4 (line 1: %%hprun)
    batch = ip.run_cell_magic("hprun", "x=[1.0] --wait", body)
    (run,) = batch.runs
    assert run.status.value == "failed"
    tail = batch.snapshot().details(run)
    assert ", line 4, in <module>" in tail
    assert tail.rstrip().endswith("ValueError: bad x")


def test_a_notebook_function_cannot_reach_the_trial_and_nothing_runs(ip, shown):
    ip.run_cell("def helper(v):\n    return v\n")
    before = len(Store().runs())
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("hprun", "x=[1.0] --wait", "x = 0.0\nprint(f'loss: {helper(x)}')\n")
    assert str(info.value).startswith(
        "%hprun: error: The cell uses the notebook's 'helper' (function), which cannot reach a trial: ")
    assert str(info.value).endswith("define or import it in the cell (accepted: modules and values that pickle)")
    assert len(Store().runs()) == before


def test_cell_flag_errors_read_as_hprun_and_resume_finds_the_cell(ip, shown):
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("hprun", "z=[1,2]", "x = 0.0\nprint(f'loss: {x}')\n")
    assert "%hprun: error: " in str(info.value) and "'z'" in str(info.value)
    first = ip.run_cell_magic("hprun", "x=[1.0,2.0] --wait", "x = 0.0\nprint(f'loss: {x}')\n")
    again = ip.run_line_magic("hprun", f"--resume {first.id[:8]} --wait")
    assert again.id == first.id
    assert again.finished.counts["completed"] == 2


def test_a_cell_that_is_not_python_names_its_line_and_runs_nothing(ip, shown):
    before = len(Store().runs())
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("hprun", "x=[1.0]", "x = 0.0\nprint(f'loss: {x}'\n")
    assert str(info.value).startswith("%hprun: error: The cell is not valid Python: ")
    assert str(info.value).endswith(" at line 3")  # the unclosed call on the cell's line 3
    assert len(Store().runs()) == before
