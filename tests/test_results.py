"""The read model: Objective, BatchState snapshots, the progress line, and one cell format."""

from __future__ import annotations

import pytest

from hpwidgets.core.records import Status
from hpwidgets.core.results import formats
from hpwidgets.core.results.progress import progress_text
from hpwidgets.core.results.read_model import BatchState
from hpwidgets.core.run.events import BatchFinished, BatchStarted, ModelUpdated, TrialFinished, TrialStarted
from hpwidgets.core.search.objective import Objective
from hpwidgets.core.search.plan import RunOptions, build_plan
from tests.support.records import record, run_id


def test_objective_ranks_by_direction_and_skips_what_cannot_rank():
    runs = [record(0, 0.5), record(1, None, Status.FAILED), record(2, -1.0), record(3, float("nan")),
            record(4, 0.2, Status.TERMINATED), record(5, -1.0)]
    low, high = Objective("loss", "min"), Objective("loss", "max")
    assert low.best(runs).trial == 2  # the earliest wins a tie
    assert high.best(runs).trial == 0
    # completed runs by value, then the terminated one at its last value, then what has none
    assert [r.trial for r in low.rank(runs)] == [2, 5, 0, 4, 1, 3]
    assert [r.trial for r in high.rank(runs)] == [0, 2, 5, 4, 1, 3]
    assert (low.minimized(2.0), high.minimized(2.0)) == (2.0, -2.0)
    assert high.best_so_far([1.0, 3.0, 2.0, 4.0]).tolist() == [1.0, 3.0, 3.0, 4.0]
    assert low.best_so_far([1.0, 3.0, 0.5]).tolist() == [1.0, 1.0, 0.5]
    assert (low.order, high.order, high.verb) == ("lowest first", "highest first", "maximize")
    with pytest.raises(ValueError, match="direction"):
        Objective("loss", "down")


def test_snapshots_are_frozen_and_fold_every_event():
    plan = build_plan("train.py", {"x": (0.1, float)}, {"x": "[1,2,3,4]"}, RunOptions(maximize="acc"))
    state = BatchState(plan, clock=lambda: 5.0)
    acc = {"objective": "acc", "direction": "max"}
    prior = record(9, 0.7, flags={"x": 9.0}, **acc)
    state.apply(BatchStarted("b", plan, (prior,)))
    state.apply(TrialStarted(record(0, None, Status.RUNNING, flags={"x": 1.0}, **acc)))
    before = state.snapshot()
    state.apply(TrialFinished(record(0, 0.5, flags={"x": 1.0}, **acc), {"acc": [[1, 0.5]]}))
    state.apply(TrialFinished(record(1, 0.8, flags={"x": 2.0}, **acc)))
    state.apply(ModelUpdated("x", (1.0,), (0.5,), (0.1,)))
    after = state.snapshot()
    assert [r.status for r in before.runs] == [Status.RUNNING]  # an old snapshot does not change
    assert before.best is None and before.version == 2
    assert after.best.trial == 1 and after.done == 2 and after.version == 5
    assert after.priors == (prior,)
    assert after.model.mean == (0.5,)
    assert after.series == {run_id(0): {"acc": [[1, 0.5]]}}
    assert after.finished_counts() == {"completed": 2, "failed": 0, "terminated": 0, "pruned": 0}
    assert [r.trial for r in after.completed()] == [0, 1]


def test_progress_text_counts_best_and_eta():
    now = [100.0]
    plan = build_plan("train.py", {"x": (0.1, float)}, {"x": "[1,2,3,4]"}, RunOptions())
    state = BatchState(plan, clock=lambda: now[0])
    state.apply(BatchStarted("b", plan, workers=2))
    state.apply(TrialFinished(record(0, 0.5, flags={"x": 1.0}).evolve(started=0.0, stopped=4.0)))
    failed = record(1, None, Status.FAILED, flags={"x": 2.0}, started=4.0, stopped=6.0,
                    reason="exit code 1: ValueError: no")
    state.apply(TrialFinished(failed))
    state.apply(TrialStarted(record(2, None, Status.RUNNING, flags={"x": 3.0})))
    now[0] = 110.0
    assert progress_text(state.snapshot()) == ("1 of 4 done · 1 running · 1 failed (last: exit code 1: ValueError: no) · "
                                               "best loss 0.5 (x=1) · 10.0s elapsed · ETA 3.0s")  # 2 left, 3 s each, 2 at once
    state.apply(TrialFinished(record(2, 0.25, flags={"x": 3.0})))
    state.apply(BatchFinished("b", "stopped", {}, None, 72.0))
    snap = state.snapshot()
    assert progress_text(snap) == ("Stopped: 2 of 4 done · 0 running · 1 failed (last: exit code 1: ValueError: no) · "
                                   "best loss 0.25 (x=3) · 0:01:12 elapsed")
    assert snap.details(failed) == "exit code 1: ValueError: no"
    assert snap.details(snap.runs[0]) == ""
    assert [r.trial for r in snap.top(2)] == [2, 0]
    assert [r.trial for r in snap.top(5)] == [2, 0, 1]


def test_one_cell_format():
    assert [formats.text(v) for v in (None, True, 0.1 + 0.2, -0.5, 1e-7, 123456789.0, 3, "adam")] == [
        "", "yes", "0.3", "-0.5", "1e-07", "1.23457e+08", "3", "adam"]
    assert [formats.format_duration(s) for s in (0.043, 0.21, 12.34, 65, 3725)] == [
        "0.04s", "0.21s", "12.3s", "0:01:05", "1:02:05"]
