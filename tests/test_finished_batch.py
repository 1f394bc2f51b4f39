"""A batch of one completed and one pruned trial is finished, and every view says so: one count
(core/results/counts.py) behind `hpw batches`, `hpw batches info`, --resume, the Runs sidebar,
the reprs, the progress line, the CLI echo and `hpw stop`. The batch is written through the
store's own API (its manifest, its two run records: the `finished` fixture of conftest.py): no
trial runs."""

import io

import pytest

from hpwidgets.core.records import RunRecord, Status
from hpwidgets.core.results.counts import BatchCounts


def test_the_counts_call_it_finished_and_not_resumable(finished):
    store, batch_id, _ = finished
    counts = BatchCounts.of(store.runs(batch=batch_id), 2)
    assert (counts.done, counts.finished, counts.resumable) == (2, True, False)
    assert counts.text() == "2 of 2 done · 1 pruned"


def test_batches_info_says_finished_and_offers_no_resume(finished):
    from hpwidgets.runcmds import batches_command

    store, batch_id, best = finished
    out = io.StringIO()
    assert batches_command(["info", batch_id[:8]], "hpw batches", out) == 0
    assert out.getvalue().splitlines()[-3:] == ["trials: 2 of 2 done · 1 pruned",
                                                f"best: {best.short_id} loss 1.0 (x=1)",
                                                "finished: nothing left for --resume to run"]
    assert "resume:" not in out.getvalue()


def test_the_batches_listing_line_counts_it_done(finished):
    from hpwidgets.runcmds import batches_command

    store, batch_id, best = finished
    out = io.StringIO()
    assert batches_command([], "hpw batches", out) == 0
    line = out.getvalue().splitlines()[0]
    assert line.startswith(f"[1] {batch_id[:8]}  ")
    assert line.endswith(f"  train.py  grid  2 of 2 done · 1 pruned  best loss 1 ({best.short_id})")


def test_resume_runs_nothing_and_the_batch_repr_says_finished(finished):
    from hpwidgets.console import echo_to
    from hpwidgets.core.run.batch import resume

    store, batch_id, _ = finished
    again = resume(batch_id[:8], store)
    assert sorted(r.status.value for r in again.engine.resumed) == ["completed", "pruned"]
    assert repr(again) == f"<Batch {batch_id[:8]}: train.py, grid, 2 trials>"
    echoed = io.StringIO()
    echo_to(again, echoed)
    again.start()
    assert len(store.runs(batch=batch_id)) == 2  # no trial ran again
    assert repr(again) == f"<Batch {batch_id[:8]}: train.py, grid, 2 trials: completed, 2 of 2 done · 1 pruned>"
    assert echoed.getvalue().splitlines() == [
        f"Resuming batch {batch_id[:8]}: 2 of 2 trials already finished",
        f"Batch {batch_id[:8]} completed: 2 of 2 done · 1 pruned; best loss 1 (x=1)"]


def test_the_watched_batch_repr_keeps_the_pruned_count(finished):
    from hpwidgets.core.processes.watch import WatchedBatch

    store, batch_id, _ = finished
    watched = WatchedBatch(batch_id[:8], store)
    assert watched.done
    assert repr(watched) == f"<Batch {batch_id[:8]}: train.py, grid, 2 trials: completed, 2 of 2 done · 1 pruned>"


def test_the_progress_line_counts_the_pruned_trial_done(finished):
    from hpwidgets.core.processes.watch import WatchedBatch
    from hpwidgets.core.results.progress import progress_text
    from hpwidgets.core.results.stored_batch import stored_snapshot

    store, batch_id, _ = finished
    assert progress_text(stored_snapshot(store, batch_id[:8])) == (
        "2 of 2 done · 0 running · 0 failed · 1 pruned · best loss 1 (x=1) · 0.00s elapsed")
    assert progress_text(WatchedBatch(batch_id, store).snapshot()) == (
        "Completed: 2 of 2 done · 0 running · 0 failed · 1 pruned · best loss 1 (x=1) · 2.0s elapsed")


def test_the_sidebar_row_and_view_say_finished(finished):
    from hpwidgets.core.results.batch_info import overview
    from hpwidgets.labserver.view import batch_view

    store, batch_id, best = finished
    row, = overview(store)
    assert (row["id"], row["running"], row["state"], row["progress"]) == (
        batch_id, False, "finished", f"2 of 2 done · 1 pruned · best loss 1 ({best.short_id})")
    view = batch_view(store, batch_id)
    assert (view["running"], view["progress"]) == (
        False, "Completed: 2 of 2 done · 0 running · 0 failed · 1 pruned · best loss 1 (x=1) · 2.0s elapsed")


def test_stopping_it_says_it_ended_finished(finished):
    from hpwidgets.core.processes import detach

    store, batch_id, _ = finished
    with pytest.raises(detach.DetachError) as info:
        detach.stop(store, batch_id[:8])
    assert str(info.value) == f"batch {batch_id[:8]} is not running (it ended: 2 of 2 done · 1 pruned); nothing changed"


@pytest.mark.parametrize("statuses, total, done, finished, resumable, text", [
    ((), 3, 0, False, True, "0 of 3 done"),
    (("completed", "failed"), 2, 1, False, True, "1 of 2 done · 1 failed"),  # --resume runs the failed one
    (("completed", "terminated", "completed"), 2, 2, True, False, "2 of 2 done · 1 terminated"),  # resumed
    (("completed", "running"), 3, 1, False, False, "1 of 3 done · 1 running"),  # it runs: nothing to resume now
    (("pruned", "pruned"), 2, 2, True, False, "2 of 2 done · 2 pruned"),
])
def test_finished_means_every_planned_trial_completed_or_pruned(statuses, total, done, finished, resumable, text):
    runs = [RunRecord(id=f"r{i}", batch="b", operation="train.py", flags={}, status=Status(s))
            for i, s in enumerate(statuses)]
    counts = BatchCounts.of(runs, total)
    assert (counts.done, counts.finished, counts.resumable, counts.text()) == (done, finished, resumable, text)


def test_a_watched_batch_is_a_batch_to_plot_not_a_reference(finished):
    from hpwidgets.core.processes.watch import WatchedBatch
    from hpwidgets.pictures.batchplot import snapshot_of

    store, batch_id, _ = finished
    watched = WatchedBatch(batch_id, store)
    assert snapshot_of(watched).finished is watched.finished
