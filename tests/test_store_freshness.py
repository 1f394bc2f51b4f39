"""Freshness: a store read through two indexes (two nodes on one NFS store keep one each on local
disk) sees every run the other writes, and its final status, rereading only what changed."""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from hpwidgets.core.records import RunRecord, Status
from hpwidgets.core.store import runstore
from hpwidgets.core.store.runstore import Store


def _running(i: int, owner: str) -> RunRecord:
    return RunRecord(id=f"{i:032x}", batch="b" * 32, operation="train.py", flags={"x": i},
                     status=Status.RUNNING, started=100.0 + i, owner=owner)


def test_a_second_index_sees_runs_written_through_the_first_and_their_final_status(tmp_path):
    root = str(tmp_path / "store")
    node_a = Store(root, str(tmp_path / "a.db"))
    node_b = Store(root, str(tmp_path / "b.db"))
    other_host = "some-other-node:4242:99"  # alive as far as this host can tell
    for i in range(3):
        node_a.create(_running(i, other_host))
    assert [(r.id, r.status) for r in node_b.runs()] == [(f"{i:032x}", Status.RUNNING) for i in (2, 1, 0)]
    first = node_a.get(f"{0:032x}")
    node_a.save(first.evolve(status=Status.COMPLETED, scalars={"loss": 0.5}))
    node_a.save(node_a.get(f"{1:032x}").evolve(label="relabelled"))
    assert node_b.reap_orphans() == []  # its owner is on another host: never reaped from here
    seen = {r.id[-1]: r for r in node_b.runs()}
    assert (seen["0"].status, seen["0"].scalars) == (Status.COMPLETED, {"loss": 0.5})
    assert (seen["1"].status, seen["1"].label) == (Status.RUNNING, "relabelled")
    assert [r.id[-1] for r in node_b.listing()[:1]] == ["2"]
    assert [r.id[-1] for r in node_b.ranked(node_b.listing().query, "loss")] == ["0", "2", "1"]
    node_a.save(node_a.get(f"{2:032x}").evolve(status=Status.TERMINATED))
    node_a.delete([f"{2:032x}"])
    assert sorted(r.id[-1] for r in node_b.runs()) == ["0", "1"]


def test_only_runs_whose_file_changed_are_read_again(tmp_path, monkeypatch):
    root = str(tmp_path / "store")
    node_a = Store(root, str(tmp_path / "a.db"))
    node_b = Store(root, str(tmp_path / "b.db"))
    for i in range(4):
        node_a.create(_running(i, "some-other-node:4242:99"))
    node_b.runs()
    node_a.save(node_a.get(f"{3:032x}").evolve(status=Status.FAILED))
    read = []
    real_read = runstore.read_record  # the real reader, counted
    monkeypatch.setattr(runstore, "read_record", lambda folder, name, **kw: read.append(name) or real_read(folder, name, **kw))
    assert [r.status for r in node_b.runs()] == [Status.FAILED, *[Status.RUNNING] * 3]
    assert read == [f"{3:032x}"]
    read.clear()
    node_b.runs()
    assert read == []


NODE = textwrap.dedent("""
    import socket, sys
    from hpwidgets.core.store.runstore import Store
    import hpwidgets as hp
    root, index, script, gate = sys.argv[1:5]
    store = Store(root, index)
    if script == "-":  # a reader: every run's status, as this node sees it after reaping
        store.reap_orphans()
        print(socket.gethostname(), " ".join(sorted(f"{r.trial}:{r.status.value}" for r in store.runs())))
    else:
        hp.run(script, {"x": [1, 2]}, store=store)
""")


def _node(host: str, *args: str, wait: bool = True):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = ["unshare", "--uts", "sh", "-c", f'hostname {host} && exec "$@"', "-", sys.executable, "-c", NODE, *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if not wait:
        return proc
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out.strip()


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="two host names need a UTS namespace (unshare, as root)")
def test_two_host_names_two_indexes_one_store_see_every_final_status(tmp_path):
    root, gate = str(tmp_path / "store"), tmp_path / "gate"
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(f"""
        import os, time
        x = 1
        while x == 2 and not os.path.exists({str(gate)!r}):
            time.sleep(0.05)
        print("loss:", x)
    """))
    a_index, b_index = str(tmp_path / "node-a.db"), str(tmp_path / "node-b.db")
    writer = _node("node-a", root, a_index, str(script), str(gate), wait=False)
    deadline = 300
    while "1:running" not in _node("node-b", root, b_index, "-", str(gate)) and deadline:
        deadline -= 1  # the second trial runs on node-a, waiting at the gate
    assert _node("node-b", root, b_index, "-", str(gate)) == "node-b 0:completed 1:running"
    gate.write_text("open")
    assert writer.wait(timeout=60) == 0, writer.stderr.read()
    assert _node("node-b", root, b_index, "-", str(gate)) == "node-b 0:completed 1:completed"
    assert _node("node-a", root, a_index, "-", str(gate)) == "node-a 0:completed 1:completed"
