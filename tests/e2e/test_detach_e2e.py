"""A detached batch in a real JupyterLab and Chromium: started by `%hprun --detach` in one
notebook, it runs on through that kernel's restart and shutdown, and `%hpwatch` in a second
notebook follows it live to its end with every trial."""

from __future__ import annotations

import pytest

from hpwidgets.core.processes import detach, locks
from hpwidgets.core.records import Status
from hpwidgets.core.store.runstore import Store
from tests.helpers import pid_alive

from .test_notebook_e2e import LOAD, done_count, progress

pytestmark = pytest.mark.e2e

# x = 1 waits while the file MARK exists; the others take half a second
SCRIPT = (
    "import os, time\n"
    "x = 0\n"
    "while x == 1 and os.path.exists(MARK):\n"
    "    time.sleep(0.05)\n"
    "time.sleep(0.5)\n"
    "print('loss:', x)\n"
)


def test_a_detached_batch_outlives_its_kernel_and_is_followed_live_from_another_notebook(open_notebook, lab,
                                                                                        tmp_path):
    mark = tmp_path / "wait-on"
    mark.write_text("")
    (lab.root / "waiting.py").write_text(SCRIPT.replace("MARK", repr(str(mark))))
    store = Store(str(lab.home))
    first = open_notebook("starts.ipynb", [LOAD, "%hprun waiting.py x=[0,1,2,3] --detach"],
                          allow=((r"widget model not found|Comm not found|Kernel is dead|Kernel does not exist",
                                  "the test restarts and shuts down the kernel under live widgets on purpose"),))
    first.run_cell(0)
    first.run_cell(1)
    first.wait_until(lambda: store.runs(), "the batch's first run")
    batch_id = store.runs()[0].batch
    supervisor = detach.supervisor_pid(store, batch_id)
    assert supervisor is not None
    first.wait_until(lambda: any(r.flags["x"] == 1 and r.status is Status.RUNNING
                                 for r in store.runs(batch=batch_id)), "the waiting trial to start")
    dash = first.cell(1).locator(".hpw-dashboard:visible")
    first.wait_until(lambda: done_count(progress(first, dash)) == 1, "the first notebook's dashboard at 1 done")

    (session,) = [s for s in lab.api("sessions") if s["path"].endswith("starts.ipynb")]
    lab.api(f"kernels/{session['kernel']['id']}/restart", method="POST")
    first.wait_until(lambda: lab.api(f"kernels/{session['kernel']['id']}")["execution_state"] == "idle",
                     "the restarted kernel", timeout=60)
    assert pid_alive(supervisor) and locks.is_running(store.batches_dir, batch_id)
    # the cell's record says the batch outlives the kernel and how to follow it, never that it ended
    note = first.cell(1).locator(".hpw-record .hpw-note").text_content()
    assert (f"while the batch ran in a process of its own, which a kernel restart does not stop: "
            f"%hpwatch {batch_id[:8]} (or hpw watch {batch_id[:8]}) follows it.") in note, note
    assert "ended here" not in note
    first.page.close()
    lab.end_sessions()  # the kernel shut down, as a culler or the next day does
    assert lab.api("sessions") == []
    assert pid_alive(supervisor) and locks.is_running(store.batches_dir, batch_id)

    second = open_notebook("watches.ipynb", [LOAD, "%hpwatch"])  # no id: the newest running batch
    second.run_cell(0)
    second.run_cell(1)
    live = second.cell(1).locator(".hpw-dashboard:visible")
    second.wait_until(lambda: progress(second, live).startswith("1 of 4 done"), "the watch at 1 done")
    mark.unlink()  # the waiting trial ends: the batch goes on in its supervisor
    view = second.cell(1).locator(".hpw-dashboard:visible, .hpw-record:visible")
    seen = [1]

    def moved() -> bool:
        count = done_count(progress(second, view))
        if count != seen[-1] and count >= 0:
            seen.append(count)
        return seen[-1] == 4

    second.wait_until(moved, "the watch to follow the batch to 4 done", timeout=60, poll=0.05)
    assert seen == sorted(seen) and len(seen) >= 3, seen  # it moved while the trials ran, not only at the end
    second.wait_until(lambda: progress(second, view).startswith("Completed: 4 of 4 done"), "the completed record")
    assert second.text(view.locator(".hpw-plan")).startswith(f"Batch {batch_id[:8]}: waiting.py as a batch (4 trials)")
    second.screenshot("8-watched-detached", second.cell(1))
    runs = store.runs(batch=batch_id)
    assert sorted((r.flags["x"], r.status) for r in runs) == [(x, Status.COMPLETED) for x in range(4)]
    second.wait_until(lambda: not pid_alive(supervisor), "the supervisor to end", timeout=15)
