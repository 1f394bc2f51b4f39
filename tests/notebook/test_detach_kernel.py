"""A detached batch in real kernels: it runs on through a kernel restart and a shutdown, and
`%hpwatch` in another kernel follows it to its end. Real subprocess trials and supervisor."""

from __future__ import annotations

import os

from jupyter_client.manager import start_new_kernel

from hpwidgets.core.processes import detach, locks
from hpwidgets.core.store.runstore import Store
from tests.helpers import pid_alive
from tests.support.waiting import wait_for

from .test_kernel_faults import _execute

# x = 1 waits while the file MARK exists; the others print at once
SCRIPT = (
    "import os, time\n"
    "x = 0\n"
    "while x == 1 and os.path.exists(MARK):\n"
    "    time.sleep(0.05)\n"
    "print('loss:', x)\n"
)


def test_a_detached_batch_outlives_a_restart_and_a_shutdown_and_is_watched_from_another_kernel(tmp_path, home):
    mark = tmp_path / "wait-on"
    mark.write_text("")
    (tmp_path / "wait.py").write_text(SCRIPT.replace("MARK", repr(str(mark))))
    env = dict(os.environ, HPWIDGETS_HOME=str(home))
    store = Store(str(home))
    km, kc = start_new_kernel(cwd=str(tmp_path), env=env)
    try:
        assert _execute(kc, "%load_ext hpwidgets")[0] == "ok"
        status, text = _execute(kc, "b = %hprun wait.py x=[0,1,2] --detach\nprint(b.id)")
        assert status == "ok", text
        batch_id = text.strip().splitlines()[-1]
        supervisor = detach.supervisor_pid(store, batch_id)
        assert supervisor is not None
        wait_for(lambda: any(r.flags["x"] == 1 for r in store.runs(batch=batch_id)),
                 "trial x=1 in the store", 30)
        km.restart_kernel(now=True)  # SIGKILL to the kernel
        kc.wait_for_ready(timeout=60)
        assert pid_alive(supervisor) and locks.is_running(store.batches_dir, batch_id)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert pid_alive(supervisor) and locks.is_running(store.batches_dir, batch_id)
    km, kc = start_new_kernel(cwd=str(tmp_path), env=env)  # another notebook, later
    try:
        assert _execute(kc, "%load_ext hpwidgets")[0] == "ok"
        status, text = _execute(kc, f"w = %hpwatch {batch_id[:8]}\nprint(w.done, len(w.runs))")
        assert (status, text.splitlines()[-1]) == ("ok", "False 2"), text
        mark.unlink()  # the waiting trial ends; the batch finishes in its supervisor
        status, text = _execute(kc, "w.wait(60)\nprint(w.finished.status, w.finished.counts)")
        assert status == "ok", text
        assert text.splitlines()[-1] == "completed {'completed': 3, 'failed': 0, 'terminated': 0, 'pruned': 0}"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    wait_for(lambda: not pid_alive(supervisor), "the supervisor exiting", 10)
    assert sorted((r.flags["x"], r.status.value) for r in store.runs(batch=batch_id)) == [
        (0, "completed"), (1, "completed"), (2, "completed")]
