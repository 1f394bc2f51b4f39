"""%hprun --detach and %hpwatch in a real IPython shell, with a real supervisor process."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from hpwidgets.core.processes import detach, locks
from hpwidgets.core.processes.watch import WatchedBatch
from hpwidgets.core.store.runstore import Store
from hpwidgets.notebook.dashboard import Dashboard

from ..helpers import pid_alive
from ..support.waiting import wait_for


def test_hprun_detach_shows_the_dashboard_fed_from_the_store(ip, shown, home):
    watched = ip.run_line_magic("hprun", "sleepy.py x=[0,1] --detach --wait")
    assert isinstance(watched, WatchedBatch) and watched.done
    assert watched.finished.counts == {"completed": 2, "failed": 0, "terminated": 0, "pruned": 0}
    record = shown[0]
    assert isinstance(record.dashboard, Dashboard)
    assert record.dashboard.wait_drawn(10)
    assert "Completed: 2 of 2 done" in record.dashboard.progress.value
    assert [r.flags["x"] for r in Store(str(home)).runs(batch=watched.id)] == [1, 0]


def test_hpwatch_follows_a_detached_batch_and_its_stop_ends_it(ip, shown, home):
    started = ip.run_line_magic("hprun", "sleepy.py x=[0,2] --detach")  # x=2 sleeps 30 s
    store = Store(str(home))
    supervisor = detach.supervisor_pid(store, started.id)
    assert supervisor is not None
    shown.clear()
    watched = ip.run_line_magic("hpwatch", started.id[:6])  # as a second notebook would
    dashboard = shown[0].dashboard
    wait_for(lambda: any(r.flags["x"] == 2 for r in watched.snapshot().running()), "trial x=2 running", 30)
    dashboard._on_stop()  # the Stop button signals the supervisor
    assert watched.wait(30).done
    wait_for(lambda: not pid_alive(supervisor), "the supervisor exiting", 10)
    assert not locks.is_running(store.batches_dir, started.id)
    assert watched.finished.status == "stopped"
    assert {r.flags["x"]: r.status.value for r in store.runs(batch=started.id)} == {0: "completed", 2: "terminated"}
    assert {r.flags["x"]: r.status.value for r in watched.runs} == {0: "completed", 2: "terminated"}


def test_hpwatch_without_an_id_follows_the_newest_running_batch_and_says_it_outlives_the_kernel(ip, shown, home):
    older = ip.run_line_magic("hprun", "sleepy.py x=[2] --detach")  # x=2 sleeps 30 s
    newer = ip.run_line_magic("hprun", "sleepy.py x=[2,0] --detach")
    shown.clear()
    try:
        watched = ip.run_line_magic("hpwatch", "")
        assert watched.id == newer.id != older.id
        html = shown[0].dashboard.record_bundle()["text/html"]
        assert (f"while the batch ran in a process of its own, which a kernel restart does not stop: "
                f"%hpwatch {newer.id[:8]} (or hpw watch {newer.id[:8]}) follows it.") in html
    finally:
        for batch in (older, newer):
            detach.stop(Store(str(home)), batch.id)


@pytest.mark.parametrize("line, message", [
    ("zz", "%hpwatch: error: Invalid value for BATCH: 'zz' (accepted: a batch id or its first characters "
           "(no batch has that id))"),
    ("", "%hpwatch: error: no batch is running now: %hpwatch BATCH follows a finished one (hpw batches lists them)"),
    ("ab --top 0", "%hpwatch: error: Invalid value for --top: 0 (accepted: a positive integer)"),
])
def test_hpwatch_errors_are_one_line(ip, line, message):
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("hpwatch", line)
    assert str(info.value) == message
