"""--dask: trials on a real Dask cluster (a `dask scheduler` and two `dask worker` processes).

The cluster starts once for the file; its last test shuts it down and checks that no process
of it (scheduler, nannies, workers, trials) is left.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import hpwidgets.api as hp
from hpwidgets.core.errors import HpwError, OptionError
from hpwidgets.core.records import Status
from hpwidgets.core.store.runstore import Store
from tests.helpers import hpw, pid_alive
from tests.support.waiting import wait_for

distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")

pytestmark = pytest.mark.dask

WORKERS, THREADS = 2, 2


@dataclass
class Cluster:
    address: str
    client: distributed.Client
    procs: list[subprocess.Popen]
    logs: str
    seen: set[int] = field(default_factory=set)  # every pid of the cluster we have met

    def worker_pids(self) -> set[int]:
        """The worker processes (children of the nannies) now."""
        pids = set(self.client.run(os.getpid).values())
        self.seen |= pids
        return pids

    def ready(self) -> None:
        self.client.wait_for_workers(WORKERS, timeout=30)
        self.worker_pids()

    def shutdown(self) -> list[int]:
        """Stop every process of the cluster; return those still alive afterwards."""
        for proc in self.procs:
            if proc.poll() is None:
                self.seen |= {c.pid for c in psutil.Process(proc.pid).children(recursive=True)}
        self.client.close()
        for proc in reversed(self.procs):  # workers first, then the scheduler
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and [p for p in self.seen if pid_alive(p)]:
            time.sleep(0.1)
        return [p for p in self.seen if pid_alive(p)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    address = f"tcp://127.0.0.1:{_free_port()}"
    logs = str(folder / "cluster.log")
    out = open(logs, "w")  # noqa: SIM115  (closed at teardown)
    common = dict(stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=str(folder))
    dask = [sys.executable, "-m", "dask"]
    port = address.rsplit(":", 1)[1]
    procs = [
        subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"], **common
        )
    ]
    for i in range(WORKERS):
        cmd = [*dask, "worker", address, "--nthreads", str(THREADS), "--no-dashboard", "--host", "127.0.0.1",
               "--local-directory", str(folder / f"w{i}"), "--name", f"w{i}"]  # fmt: skip
        procs.append(subprocess.Popen(cmd, **common))
    client = distributed.Client(address, timeout="30s", set_as_default=False)
    c = Cluster(address, client, procs, logs, {p.pid for p in procs})
    try:
        c.ready()
        yield c
    finally:
        c.shutdown()
        out.close()


@pytest.fixture
def dask_cluster(cluster, home):
    if cluster.client.status != "running":
        pytest.skip("the cluster was shut down by an earlier test")
    cluster.ready()
    return cluster


# A trial's parent is its bootstrap, a subreaper (core/run/process_tree.py); the worker is above it.
WORKER_PID = "int(open(f'/proc/{os.getppid()}/stat').read().rsplit(')', 1)[1].split()[1])"

PROBE = """
import os
x = 0.5
print(f"worker_pid: {WORKER_PID}")
print(f"loss: {(x - 0.3) ** 2}")
""".replace("WORKER_PID", WORKER_PID)


def test_grid_by_address(dask_cluster, write_script):
    script = write_script(PROBE)
    batch = hp.run(script, {"x": [0.0, 0.5, 1.0]}, dask=dask_cluster.address)
    store = Store()
    runs = store.runs(batch=batch.id)
    assert sorted(r.flags["x"] for r in runs) == [0.0, 0.5, 1.0]
    assert {r.status for r in runs} == {Status.COMPLETED}
    for r in runs:
        assert r.scalars["loss"] == pytest.approx((r.flags["x"] - 0.3) ** 2)
        assert int(r.scalars["worker_pid"]) in dask_cluster.worker_pids()  # not this process
        assert "loss:" in store.output(r.id)
    assert batch.engine.workers == WORKERS * THREADS  # as many at once as the cluster has threads
    assert batch.engine.runner.client.status == "closed"  # a client made from an address is closed
    assert _left_on_scheduler(dask_cluster)[0] == []  # the attempts' marks are removed before the batch ends


def test_random_with_a_client(dask_cluster, train_py):
    batch = hp.run(train_py, {"x": "[-2.0:2.0]"}, optimizer="random", max_trials=5, random_seed=4,
                   dask=dask_cluster.client)  # fmt: skip
    runs = Store().runs(batch=batch.id)
    assert len(runs) == 5 and {r.status for r in runs} == {Status.COMPLETED}
    assert all(-2.0 <= r.flags["x"] <= 2.0 and "loss" in r.scalars for r in runs)
    assert dask_cluster.client.status == "running"  # a given client stays open


def test_gp_on_dask(dask_cluster, train_py):
    batch = hp.run(train_py, {"x": "[-2.0:2.0]", "noise": 0.0}, optimizer="gp", max_trials=7, random_seed=1,
                   opt_flags={"random-starts": 3}, dask=dask_cluster.address)  # fmt: skip
    runs = Store().runs(batch=batch.id)
    assert [(r.status, r.reason) for r in runs] == [(Status.COMPLETED, None)] * 7
    assert batch.best.value < 0  # the minimum is about -0.9 near x = -0.29
    assert len({r.flags["x"] for r in runs}) == 7


WRITER = """
import os
x = 1
os.makedirs("out/deep", exist_ok=True)
with open("out/deep/model.txt", "w") as fh:
    fh.write("weights " * x)
with open("big.bin", "wb") as fh:
    fh.write(b"0" * 3000)
with open("run.json", "w") as fh:
    fh.write("not the store's")
os.symlink("/etc/passwd", "link")
print("loss: 1")
"""


def test_files_come_back_within_the_limit(dask_cluster, write_script):
    script = write_script(WRITER)
    batch = hp.run(script, {"x": [1, 2]}, dask=dask_cluster.address, dask_files_max=2000)
    store = Store()
    for r in store.runs(batch=batch.id):
        folder = Path(store.run_dir(r.id))
        assert r.status is Status.COMPLETED
        assert (folder / "out" / "deep" / "model.txt").read_text() == "weights " * r.flags["x"]
        assert (folder / "out" / "deep" / "model.txt").stat().st_mode & 0o777 == 0o600
        assert not (folder / "big.bin").exists() and not (folder / "link").exists()
        assert '"id": "' + r.id in (folder / "run.json").read_text()  # the store's own record is kept
        notes = [line for line in store.output(r.id).splitlines() if line.startswith("hpw: ")]
        assert notes == ["hpw: file big.bin was left on the worker (3000 bytes, over the limit of 2000 bytes in all)",
                         "hpw: file link was left on the worker (a symbolic link)",
                         "hpw: file run.json was left on the worker (a name the run store uses)"]


EVENTS = """
import os, time
x = 1
src = ""
gate = ""
cut = 0
data = open(src, "rb").read()
os.makedirs("logs")
with open("logs/events.out.tfevents.1.dask", "wb") as fh:
    fh.write(data[:cut])
    fh.flush()
    while not os.path.exists(gate):
        time.sleep(0.02)
    fh.write(data[cut:])
"""


def test_event_files_reach_the_curves_while_the_trial_runs_on_a_worker(dask_cluster, write_script, tmp_path):
    src = next(p for p in (Path(__file__).parent / "data" / "stacks" / "tensorboard").iterdir() if p.is_file())
    data, ends, pos = src.read_bytes(), [], 0
    while pos < len(data):
        pos += 16 + int.from_bytes(data[pos:pos + 8], "little")
        ends.append(pos)
    gate = tmp_path / "gate"
    batch = hp.run(write_script(EVENTS), {"src": str(src), "gate": str(gate), "cut": ends[1]},
                   minimize="logs/loss", dask=dask_cluster.address, background=True)  # fmt: skip
    try:
        wait_for(lambda: [list(batch.snapshot().curve(r.id)) for r in batch.snapshot().runs] == [[(1, 1.0)]],
                 "the event file's first value in the running trial's curve", 30)
    finally:
        gate.touch()
        batch.wait(60)
    run, = batch.runs
    assert (run.status, run.step, [s for s, _ in batch.snapshot().curve(run.id)]) == (Status.COMPLETED, 3, [1, 2, 3])
    assert (Path(Store().run_dir(run.id)) / "logs" / "events.out.tfevents.1.dask").read_bytes() == data


SLEEPER = """
import os, time
x = 0
folder = ""
seconds = 60.0
with open(os.path.join(folder, f"{x}.pid"), "w") as fh:
    fh.write(str(os.getpid()))
time.sleep(seconds)
print("loss: 1")
"""


def _left_on_scheduler(cluster: Cluster) -> tuple[list[str], list[str]]:
    """The batches' attempt marks (datasets) and kill events still held by the scheduler."""
    events = cluster.client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.extensions["events"]._events))
    datasets = [name for name in cluster.client.list_datasets() if name.startswith("hpw-")]
    return sorted(datasets), sorted(name for name in events if name.startswith("hpw-"))


def _pids(folder) -> list[int]:
    return [int((folder / n).read_text() or 0) for n in os.listdir(folder) if n.endswith(".pid")]


def test_stop_cancels_queued_and_kills_running(dask_cluster, write_script, tmp_path):
    script, folder = write_script(SLEEPER), tmp_path / "pids"
    folder.mkdir()
    slots = WORKERS * THREADS  # 4 run, 2 wait in the scheduler's queue, 2 are never asked for
    batch = hp.run(script, {"x": list(range(slots + 4)), "folder": str(folder)}, workers=slots + 2,
                   dask=dask_cluster.address, background=True)  # fmt: skip
    wait_for(lambda: len(_pids(folder)) == slots and all(_pids(folder)), "a trial running on every slot")
    running = _pids(folder)
    batch.stop()
    batch.wait(60)
    assert batch.finished.status == "stopped"
    assert [r.status for r in batch.runs] == [Status.TERMINATED] * (slots + 2)
    assert len(_pids(folder)) == slots  # the queued trials never started
    wait_for(lambda: not any(pid_alive(p) for p in running), "every running trial exiting", 10)
    wait_for(lambda: _left_on_scheduler(dask_cluster) == ([], []), "the marks removed and the kill events cleared", 10)


LOSABLE = """
import os, time
x = 0
folder = ""
first = not os.path.exists(os.path.join(folder, "attempted"))
if first:
    open(os.path.join(folder, "attempted"), "w").close()
    with open(os.path.join(folder, "first.tmp"), "w") as fh:
        fh.write(f"{os.getpid()} {WORKER_PID}")
    os.replace(os.path.join(folder, "first.tmp"), os.path.join(folder, "first"))
    time.sleep(60)
print(f"loss: {x}")
""".replace("WORKER_PID", WORKER_PID)


@pytest.mark.parametrize("retries", [0, 1])
def test_a_lost_worker_fails_the_trial_or_retries_it(dask_cluster, write_script, tmp_path, retries):
    script, folder = write_script(LOSABLE), tmp_path / "lost"
    folder.mkdir()
    batch = hp.run(script, {"x": 3, "folder": str(folder)}, dask=dask_cluster.address, retries=retries,
                   background=True)  # fmt: skip
    marker = folder / "first"
    wait_for(marker.exists, "the trial writing its marker")
    trial, worker = (int(p) for p in marker.read_text().split())
    assert worker in dask_cluster.worker_pids()
    os.kill(worker, signal.SIGKILL)
    batch.wait(60)
    (run,) = batch.runs
    if retries:
        assert run.status is Status.COMPLETED and run.scalars["loss"] == 3
        assert "was lost; retrying (attempt 2 of 2)" in Store().output(run.id)
    else:
        assert run.status is Status.FAILED
        assert run.reason.startswith("its Dask worker tcp://127.0.0.1:") and run.reason.endswith("was lost")
    wait_for(lambda: not pid_alive(trial), "the orphaned trial killing itself", 10)


def test_timeout_and_no_shared_filesystem(dask_cluster, write_script, tmp_path):
    from hpwidgets.core.run.batch import prepare
    from hpwidgets.core.search.plan import RunOptions

    script = write_script(SLEEPER.replace("time.sleep(seconds)", "time.sleep(seconds * x)"))
    folder = tmp_path / "pids"
    folder.mkdir()
    options = RunOptions(timeout=1.0, dask=dask_cluster.address)
    batch = prepare(script, {"x": [0, 1], "folder": str(folder)}, options, Store())
    os.remove(script)  # only its source travels with the tasks
    batch.start()
    fast, slow = batch.runs
    assert slow.status is Status.FAILED and slow.reason == "timed out after 1 s"
    assert fast.status is Status.COMPLETED and fast.scalars["loss"] == 1
    wait_for(lambda: not any(pid_alive(p) for p in _pids(folder)), "every trial exiting", 10)


GATED = """
import os, time
x = 1
gate = ""
print(f"loss: {x / 10} (step 1)")
while not os.path.exists(gate):
    time.sleep(0.02)
print(f"loss: {x / 20} (step 2)")
"""


def test_lines_stream_from_the_worker_while_the_trial_runs(dask_cluster, write_script, tmp_path):
    from hpwidgets.core.results.progress import progress_text

    gate = tmp_path / "gate"
    batch = hp.run(write_script(GATED), {"x": 1, "gate": str(gate)}, dask=dask_cluster.address, background=True)
    try:
        wait_for(lambda: [r.step for r in batch.snapshot().running()] == [1], "the running trial at step 1")
        snap = batch.snapshot()
        assert snap.running()[0].scalars == {"loss": 0.1}
        assert progress_text(snap).startswith("0 of 1 done · 1 running (#1 step 1 loss 0.1) ·")
        assert Store().output(snap.runs[0].id) == "loss: 0.1 (step 1)\n"  # in the store while it runs
    finally:
        gate.touch()
        batch.wait(60)
    (run,) = batch.runs
    assert (run.status, run.step, run.scalars) == (Status.COMPLETED, 2, {"loss": 0.05})
    assert Store().output(run.id) == "loss: 0.1 (step 1)\nloss: 0.05 (step 2)\n"  # each line once


# The x > 1 trial starts a grandchild, then waits for the test's gate (opened once the first
# trial has completed, so the median has a curve to judge by) before it reports a bad step 1.
PRUNABLE = """
import os, subprocess, sys, time
x = 1
pidfile = ""
if x > 1:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    with open(pidfile, "w") as fh:
        fh.write(f"{child.pid}")
    while not os.path.exists(pidfile + ".gate"):
        time.sleep(0.02)
for step in range(1, 4):
    print(f"loss: {x} (step {step})", flush=True)
    if x > 1:
        time.sleep(300)
"""


def test_a_pruned_trial_is_killed_on_its_worker(dask_cluster, write_script, tmp_path):
    pidfile = tmp_path / "child.pid"
    batch = hp.run(write_script(PRUNABLE), {"x": [1, 5], "pidfile": str(pidfile)}, workers=2,
                   prune="median", prune_flags={"min-trials": 1}, dask=dask_cluster.address, background=True)
    try:
        wait_for(lambda: batch.snapshot().done == 1, "one trial done")
    finally:
        (tmp_path / "child.pid.gate").touch()
    batch.wait(60)
    first, second = batch.runs
    assert (first.status, first.step) == (Status.COMPLETED, 3)
    assert (second.status, second.reason, second.scalars) == (Status.PRUNED, "pruned at step 1", {"loss": 5.0})
    assert Store().series(second.id) == {"loss": [[1, 5.0]]}
    child = int(pidfile.read_text())
    wait_for(lambda: not pid_alive(child),
             "the trial's grandchild exiting", 10)  # its grandchild too
    assert batch.finished.elapsed < 60  # not the 300 s the trial would have slept


def test_line_batches_send_the_first_line_at_once_and_nothing_after_the_end():
    from hpwidgets.core.run.executors.line_batches import LineBatches

    sent, first = [], threading.Event()

    def send(start: int, lines: list[str]) -> None:
        sent.append((start, lines))
        first.set()

    batches = LineBatches(send, every=600.0)  # after the first send, the next waits 600 s: past the end
    batches.add("loss: 1 (step 1)")
    assert first.wait(30), "the first line was never sent"
    batches.add("loss: 0.5 (step 2)")
    batches.add("loss: 0.2 (step 3)")
    batches.end()
    assert sent == [(0, ["loss: 1 (step 1)"])]  # the rest travels with the trial's result
    assert batches.lines == ["loss: 1 (step 1)", "loss: 0.5 (step 2)", "loss: 0.2 (step 3)"]


def test_line_batches_coalesce_lines_in_order_each_once():
    from hpwidgets.core.run.executors.line_batches import LineBatches

    sent: list[tuple[int, list[str]]] = []
    batches = LineBatches(lambda start, lines: sent.append((start, lines)), every=0.01)
    for i in range(2000):
        batches.add(f"step: {i}")
    wait_for(lambda: sum(len(lines) for _, lines in sent) == 2000, "every line sent", 30)
    batches.end()
    assert [start for start, _ in sent] == [sum(len(lines) for _, lines in sent[:k]) for k in range(len(sent))]
    assert [line for _, lines in sent for line in lines] == [f"step: {i}" for i in range(2000)]
    assert len(sent) < 2000  # lines that came together went together


def test_function_trials_cannot_go_to_dask(dask_cluster):
    with pytest.raises(HpwError, match="a function's trials run in this process"):
        hp.run(lambda x=0.0: x, {"x": [1.0]}, dask=dask_cluster.address)


def test_retries_need_dask(home, train_py):
    with pytest.raises(HpwError, match=r"Invalid value for retries: 1 \(accepted: 0, or a number of new attempts with dask"):
        hp.run(train_py, retries=1)


def test_missing_dask_is_a_clear_error(monkeypatch, train_py):
    from hpwidgets.core.run.executors.dask import DaskRunner
    from hpwidgets.core.run.scripts import inspect_script

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(OptionError) as info:
        DaskRunner(inspect_script(train_py), "tcp://127.0.0.1:8786")
    assert str(info.value.renamed({"dask": "--dask"})) == (
        "Invalid value for --dask: 'tcp://127.0.0.1:8786': dask is not installed "
        "(import of distributed halted; None in sys.modules) "
        "(accepted: a Dask scheduler once dask and distributed are installed: pip install 'hpwidgets[dask]')"
    )


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "missing port number in address '127.0.0.1'"),
        ("nonsense://x", "unknown address scheme 'nonsense'"),
    ],
)
def test_a_malformed_address_is_a_clear_error(home, train_py, address, why):
    accepted = "(accepted: the address of a running Dask scheduler, such as tcp://10.0.0.5:8786)"
    with pytest.raises(OptionError) as info:
        hp.run(train_py, {"x": [1.0]}, dask=address)
    cli = hpw("run", train_py, "x=1.0", "--dask", address, "-y", env=dict(os.environ))
    for said, lead in ((str(info.value), "Invalid value for dask"), (cli.stderr.strip(), "hpw run: error: Invalid value for --dask")):
        assert said.startswith(f"{lead}: {address!r}: {why}")  # then the scheme list of this distributed
        assert said.endswith(accepted)


def test_only_the_dask_executor_imports_dask():
    import hpwidgets

    root = Path(hpwidgets.__file__).parent
    importers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if re.search(r"^\s*(import|from)\s+(dask|distributed)\b", path.read_text(), re.MULTILINE)
    )
    assert importers == ["core/run/executors/dask.py"]
    code = (
        "import sys, hpwidgets.api, hpwidgets.cli, hpwidgets.core.run.batch; print('distributed' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"  # a batch without --dask never loads it


def test_a_setsid_grandchild_and_a_daemon_end_with_their_trial_on_the_worker(dask_cluster, write_script):
    from tests.test_trial_processes import ESCAPES, _escaped

    batch = hp.run(write_script(ESCAPES), {"x": [1, 5]}, workers=2, timeout=3, dask=dask_cluster.address)
    assert sorted((r.flags["x"], r.status, r.reason) for r in batch.runs) == [
        (1, Status.COMPLETED, None), (5, Status.FAILED, "timed out after 3 s")]
    escaped = [pid for run in batch.runs for pid in _escaped(Store().run_dir(run.id), run.flags["x"])]
    try:  # their pid files came back with the trial's files
        wait_for(lambda: not any(pid_alive(pid) for pid in escaped), "every escaped descendant ending", 10)
    finally:
        for pid in escaped:
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)



def test_teardown_leaves_no_process(cluster):
    assert cluster.shutdown() == []

