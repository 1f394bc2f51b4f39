"""The run store: directories are the truth, the index is rebuildable, files are private."""

import json
import os
import stat

import pytest

from hpwidgets.core.errors import StoreError
from hpwidgets.core.records import Status
from hpwidgets.core.store.runstore import Store
from tests.support.records import run_id, stored


def test_modes_private_whatever_the_umask(tmp_path):
    old = os.umask(0o000)
    try:
        store = Store(str(tmp_path / "s"))
        store.create(stored(1), "train.py", "x = 1\n")
        with store.open_output(stored(1).id) as fh:
            fh.write("hello\n")
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)  # noqa: E731
    assert mode(store.root) == 0o700
    run_dir = store.run_dir(stored(1).id)
    assert mode(run_dir) == 0o700
    for name in ("run.json", "output.log", "sourcecode/train.py"):
        assert mode(os.path.join(run_dir, name)) == 0o600, name
    assert mode(store.index_path) == 0o600


def test_runs_newest_first_and_get_by_prefix(tmp_path):
    store = Store(str(tmp_path))
    for i in range(3):
        store.create(stored(i))
    assert [r.trial for r in store.runs()] == [2, 1, 0]
    assert store.get(run_id(1)[:8]).flags == {"x": 1.0}
    with pytest.raises(StoreError, match="ambiguous"):
        store.get("0")
    with pytest.raises(StoreError, match="No run matches 'zz'"):
        store.get("zz")


def test_index_rebuilds_identically(tmp_path):
    store = Store(str(tmp_path))
    for i in range(5):
        store.create(stored(i))
    before = [r.to_json() for r in store.runs()]
    store.close()
    os.remove(store.index_path)
    again = Store(str(tmp_path))
    assert [r.to_json() for r in again.runs()] == before


def test_reap_orphans_terminates_runs_of_a_dead_owner(tmp_path):
    store = Store(str(tmp_path))
    store.create(stored(1, status=Status.RUNNING, owner="thishost-not:1:1"))
    import socket
    store.create(stored(2, status=Status.RUNNING, owner=f"{socket.gethostname()}:999999:1"))
    assert {r.trial: r.status for r in store.runs()} == {1: Status.RUNNING, 2: Status.RUNNING}  # reading changes nothing
    assert [r.trial for r in store.reap_orphans()] == [2]  # a run on another host may still be alive
    got = {r.trial: r.status for r in store.runs()}
    assert got == {1: Status.RUNNING, 2: Status.TERMINATED}
    assert store.reap_orphans() == []
    with open(os.path.join(store.run_dir(stored(2).id), "run.json")) as fh:
        assert json.load(fh)["status"] == "terminated"


def test_delete_refuses_running_and_removes_dirs(tmp_path):
    store = Store(str(tmp_path))
    from hpwidgets.core.processes import owners
    store.create(stored(1, status=Status.RUNNING, owner=owners.current_token()))
    store.create(stored(2))
    with pytest.raises(StoreError, match="is running: stop it before deleting it"):
        store.delete([run_id(1)[:8]])
    store.delete([run_id(2)[:8]])
    assert [r.trial for r in store.runs()] == [1]
    assert not os.path.exists(store.run_dir(stored(2).id))
