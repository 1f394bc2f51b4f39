"""Faults in a real kernel: an interrupt during `%hprun --wait`, a restart in the middle of a
batch, then `%hprun --resume`. Real subprocess trials, a real store on disk."""

from __future__ import annotations

import os
import queue

import pytest
from jupyter_client.manager import start_new_kernel

from hpwidgets.core.records import Status
from hpwidgets.core.store.runstore import Store
from tests.helpers import group_alive as _group_alive
from tests.support.waiting import wait_for

# x = 1 hangs (and records its process group) while the file MARK exists; the others print at once.
SCRIPT = (
    "import os, time\n"
    "x = 0\n"
    "if x == 1 and os.path.exists(MARK):\n"
    "    open('pgid', 'w').write(str(os.getpgid(0)))\n"
    "    time.sleep(60)\n"
    "print('loss:', x)\n"
)






def _pgid_of_hanging_trial(store: Store) -> int | None:
    for rec in store.runs():
        path = os.path.join(store.run_dir(rec.id), "pgid")
        if rec.flags.get("x") == 1 and os.path.exists(path) and os.path.getsize(path):
            return int(open(path).read())
    return None


@pytest.fixture
def kernel(tmp_path, home):
    (tmp_path / "hang-on").write_text("")
    (tmp_path / "hang.py").write_text(SCRIPT.replace("MARK", repr(str(tmp_path / "hang-on"))))
    env = dict(os.environ, HPWIDGETS_HOME=str(home))
    km, kc = start_new_kernel(cwd=str(tmp_path), env=env)
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def _execute(kc, code: str, timeout: float = 60) -> tuple[str, str]:
    """Run code; return (status, all text it printed or raised)."""
    msg_id = kc.execute(code)
    reply = kc.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=timeout)
    text = []
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=5)
        except queue.Empty:
            break
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            text.append(content["text"])
        elif kind == "error":
            text.append(f"{content['ename']}: {content['evalue']}")
        elif kind == "status" and content["execution_state"] == "idle":
            break
    return reply["content"]["status"], "".join(text)


def test_interrupt_during_wait_stops_the_batch(kernel, home):
    km, kc = kernel
    assert _execute(kc, "%load_ext hpwidgets")[0] == "ok"
    msg_id = kc.execute("%hprun hang.py x=[0,1,2] --wait")
    store = Store(str(home))
    wait_for(lambda: _pgid_of_hanging_trial(store) is not None, "the hanging trial writing its process group")
    pgid = _pgid_of_hanging_trial(store)
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=60)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=60)
    runs = sorted(store.runs(), key=lambda r: r.trial)
    assert [(r.flags["x"], r.status) for r in runs] == [(0, Status.COMPLETED), (1, Status.TERMINATED)]
    wait_for(lambda: not _group_alive(pgid), "the hanging trial's process group ending", 10)
    # the kernel lives on and answers
    assert _execute(kc, "print('still here')") == ("ok", "still here\n")


def test_restart_mid_batch_then_resume(kernel, home):
    km, kc = kernel
    assert _execute(kc, "%load_ext hpwidgets")[0] == "ok"
    assert _execute(kc, "b = %hprun hang.py x=[0,1,2,3]")[0] == "ok"  # background: returns at once
    store = Store(str(home))
    wait_for(lambda: _pgid_of_hanging_trial(store) is not None, "the hanging trial writing its process group")
    pgid = _pgid_of_hanging_trial(store)
    km.restart_kernel(now=True)  # SIGKILL: the batch thread dies with the kernel
    kc.wait_for_ready(timeout=60)
    store.reap_orphans()  # what `hpw runs`, `%hpruns` and a batch's start do first
    runs = sorted(store.runs(), key=lambda r: r.trial)
    assert [(r.flags["x"], r.status.value) for r in runs] == [(0, "completed"), (1, "terminated")]
    wait_for(lambda: not _group_alive(pgid), "the hanging trial's process group ending", 10)

    # the hang is fixed outside the script (resume runs only the script the batch ran); finish it
    os.remove(os.path.join(os.path.dirname(store.root), "hang-on"))
    batch = runs[0].batch
    assert _execute(kc, "%load_ext hpwidgets")[0] == "ok"
    status, text = _execute(kc, f"r = %hprun --resume {batch[:8]} --wait\nprint(r.finished.counts)")
    assert status == "ok", text
    assert text.endswith("{'completed': 4, 'failed': 0, 'terminated': 0, 'pruned': 0}\n")
    final = sorted(store.runs(batch=batch), key=lambda r: (r.trial, r.status.value))
    assert [(r.flags["x"], r.status.value) for r in final] == [
        (0, "completed"), (1, "completed"), (1, "terminated"), (2, "completed"), (3, "completed")]
