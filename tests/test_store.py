"""The run store: directories are the truth, the index is rebuildable, files are private."""

import json
import os
import stat

import pytest

from hpwidgets.core.errors import StoreError
from hpwidgets.core.records import RunRecord, Status
from hpwidgets.core.store.runstore import Store


def _rec(i: int, **kw) -> RunRecord:
    base = dict(id=f"{i:02d}" + "ab" * 15, batch="b1", operation="train.py", flags={"x": float(i)},
                status=Status.COMPLETED, started=1000.0 + i, stopped=1001.0 + i, scalars={"loss": -i / 10})
    base.update(kw)
    return RunRecord(**base)


def test_modes_private_whatever_the_umask(tmp_path):
    old = os.umask(0o000)
    try:
        store = Store(str(tmp_path / "s"))
        store.create(_rec(1), "train.py", "x = 1\n")
        with store.open_output(_rec(1).id) as fh:
            fh.write("hello\n")
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)  # noqa: E731
    assert mode(store.root) == 0o700
    run_dir = store.run_dir(_rec(1).id)
    assert mode(run_dir) == 0o700
    for name in ("run.json", "output.log", "sourcecode/train.py"):
        assert mode(os.path.join(run_dir, name)) == 0o600, name
    assert mode(store.index_path) == 0o600


def test_runs_newest_first_and_get_by_prefix(tmp_path):
    store = Store(str(tmp_path))
    for i in range(3):
        store.create(_rec(i))
    assert [r.id[:2] for r in store.runs()] == ["02", "01", "00"]
    assert store.get("01").flags == {"x": 1.0}
    with pytest.raises(StoreError, match="ambiguous"):
        store.get("0")
    with pytest.raises(StoreError, match="No run matches 'zz'"):
        store.get("zz")


def test_index_rebuilds_identically(tmp_path):
    store = Store(str(tmp_path))
    for i in range(5):
        store.create(_rec(i))
    before = [r.to_json() for r in store.runs()]
    store.close()
    os.remove(store.index_path)
    again = Store(str(tmp_path))
    assert [r.to_json() for r in again.runs()] == before


def test_reap_orphans_terminates_runs_of_a_dead_owner(tmp_path):
    store = Store(str(tmp_path))
    store.create(_rec(1, status=Status.RUNNING, owner="thishost-not:1:1"))
    import socket
    store.create(_rec(2, status=Status.RUNNING, owner=f"{socket.gethostname()}:999999:1"))
    assert {r.id[:2]: r.status for r in store.runs()} == {"01": Status.RUNNING, "02": Status.RUNNING}  # reading changes nothing
    assert [r.id[:2] for r in store.reap_orphans()] == ["02"]  # a run on another host may still be alive
    got = {r.id[:2]: r.status for r in store.runs()}
    assert got == {"01": Status.RUNNING, "02": Status.TERMINATED}
    assert store.reap_orphans() == []
    with open(os.path.join(store.run_dir(_rec(2).id), "run.json")) as fh:
        assert json.load(fh)["status"] == "terminated"


def test_delete_refuses_running_and_removes_dirs(tmp_path):
    store = Store(str(tmp_path))
    from hpwidgets.core.processes import owners
    store.create(_rec(1, status=Status.RUNNING, owner=owners.current_token()))
    store.create(_rec(2))
    with pytest.raises(StoreError, match="is running: stop it before deleting it"):
        store.delete(["01"])
    store.delete(["02"])
    assert [r.id[:2] for r in store.runs()] == ["01"]
    assert not os.path.exists(store.run_dir(_rec(2).id))
