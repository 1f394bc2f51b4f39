"""A rebuild of the index (issue 30): read in id order, by worker processes when there are many
runs, decoding only what the index stores; the index it builds is the one writes build."""

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from hpwidgets.core.records import Status, checked_fields
from hpwidgets.core.store import safety, scan
from hpwidgets.core.store.index import Row, parts_of
from hpwidgets.core.store.query import EVERY_RUN
from hpwidgets.core.store.run_files import write_private
from hpwidgets.core.store.runstore import Store
from tests.support.records import record, run_id, stored

IDENTITY = (1_700_000_000_000_000_000, 420, 77)
SHAPES = [
    record(1, 0.5),
    record(2, 0.5, Status.FAILED, tags=("b", "a", "b"), label="x=1"),
    record(3, math.nan, Status.PRUNED, step=4),
    record(4, None, Status.RUNNING, started=None),
    record(5, 0.25, Status.PENDING, flags={"text": "adam", "list": [1, 2], "none": None, "on": True, "n": 3}),
]


@pytest.mark.parametrize("rec", SHAPES, ids=[s.status.value for s in SHAPES])
def test_a_rebuild_writes_the_rows_a_write_writes(rec):
    text = json.dumps(rec.to_json())
    fields = checked_fields(json.loads(text))
    for data in (text, None):  # None: encoded again
        row = Row.of(rec, data, IDENTITY)
        written = (row.columns(), row.scalars(), row.flags(), row.tags())
        assert repr(parts_of(fields, data, IDENTITY)) == repr(written)  # repr: a NaN is no NaN's equal


def test_a_record_that_is_no_number_where_one_is_expected_is_named_first_in_field_order():
    data = {"id": run_id(1), "label": 3, "started": True}
    with pytest.raises(ValueError, match="^'started' must be a number, got bool$"):
        checked_fields(data)
    assert checked_fields({"id": run_id(1), "scalars": {"loss": "nan?", "acc": 1}})["scalars"] == {"acc": 1.0}


def _store_with_bad_runs(home) -> Store:
    store = Store(str(home))
    for i in range(11):
        store.create(stored(i, batch=f"{i % 4:032x}"))
    not_json = os.path.join(store.run_dir(run_id(3)), "run.json")
    with open(not_json, "w") as fh:
        fh.write("{oops")
    other = os.path.join(store.run_dir(run_id(7)), "run.json")
    with open(other, "w") as fh:
        json.dump({**stored(7).to_json(), "id": run_id(8)}, fh)
    return store


def _read(store: Store, workers: int, capsys) -> tuple[list, str]:
    safety._reported.clear()  # every problem said again, once per reading
    chunks = list(scan.chunks(store.runs_dir, os.listdir(store.runs_dir), workers))
    return chunks, capsys.readouterr().err


def test_workers_read_the_chunks_this_process_reads_in_the_same_order(home, monkeypatch, capsys):
    store = _store_with_bad_runs(home)
    monkeypatch.setattr(scan, "CHUNK", 3)
    here, said_here = _read(store, 0, capsys)
    there, said_there = _read(store, 2, capsys)
    assert there == here and said_there == said_here
    assert [len(c.runs) for c in here] == [3, 2, 2, 2] and [c.skipped for c in here] == [
        [],
        [run_id(3)],
        [run_id(7)],
        [],
    ]
    assert [r[0] for c in here for r in c.runs] == sorted(run_id(i) for i in range(11) if i not in (3, 7))
    assert [f[0] for c in here for f in c.flags] == [r[0] for c in here for r in c.runs]  # x, one flag each
    assert said_here.splitlines() == [
        f"hpwidgets: skipped {store.run_dir(run_id(3))}/run.json: not JSON: Expecting property name enclosed in "
        "double quotes (line 1 column 2)",
        f"hpwidgets: skipped {store.run_dir(run_id(7))}/run.json: its id '{run_id(8)}' does not match its directory",
    ]


@pytest.mark.parametrize(
    "worker",
    ["import sys; sys.exit(3)", "import sys; sys.stdout.write('no pickle')"],
    ids=["exits", "garbles"],
)
def test_chunks_of_a_worker_that_breaks_are_read_here(home, monkeypatch, capsys, worker):
    store = _store_with_bad_runs(home)
    monkeypatch.setattr(scan, "CHUNK", 3)
    here = _read(store, 0, capsys)
    monkeypatch.setattr(scan, "_WORKER", worker)
    assert _read(store, 2, capsys) == here


def _tables(path: str) -> dict[str, list]:
    db = sqlite3.connect(path)
    try:
        names = [
            n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        return {n: sorted(db.execute(f"SELECT * FROM {n}").fetchall(), key=repr) for n in names}
    finally:
        db.close()


@pytest.mark.parametrize("workers_from", [1, 10**9], ids=["workers", "here"])
def test_a_deleted_index_is_rebuilt_as_writes_built_it(home, monkeypatch, workers_from):
    store = Store(str(home))
    for i in range(11):
        store.create(stored(i, batch=f"{i % 4:032x}", tags=("t", "u", "t") if i == 5 else ()))
    store.save(stored(4, batch=f"{0:032x}", started=None))
    safety.private_dir(store.batches_dir)
    manifest = {"id": f"{1:032x}", "created": 5000.0, "total": 5}
    write_private(os.path.join(store.batches_dir, f"{1:032x}.json"), json.dumps(manifest).encode())
    store.batch_groups(EVERY_RUN)  # the manifest into the index
    written = _tables(store.index_path)
    store.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(store.index_path + suffix):
            os.remove(store.index_path + suffix)
    monkeypatch.setattr(scan, "PARALLEL_FROM", workers_from)
    monkeypatch.setattr(scan, "CHUNK", 2)
    again = Store(str(home))
    again.batch_groups(EVERY_RUN)
    rebuilt = _tables(again.index_path)
    assert rebuilt == written
    assert [r[:5] for r in rebuilt["batch_sums"]] == [
        (f"{0:032x}", 3, 1000.0, None, None),
        (f"{1:032x}", 3, 1001.0, 5000.0, 5),
        (f"{2:032x}", 3, 1002.0, None, None),
        (f"{3:032x}", 2, 1003.0, None, None),
    ]


KILLED = """
import os, signal, sys
from hpwidgets.core.store import index, scan
from hpwidgets.core.store.runstore import Store
scan.CHUNK = 2
appended = index._append


def append_and_die(db, chunk):  # killed once the first rows are in, the transaction still open
    appended(db, chunk)
    os.kill(os.getpid(), signal.SIGKILL)


index._append = append_and_die
store = Store(sys.argv[1])
store.rebuild_index() if sys.argv[2] == "rebuild" else store.runs()
"""


@pytest.mark.parametrize("how", ["deleted", "rebuild"])
def test_a_rebuild_killed_midway_leaves_an_index_that_answers_whole(home, how):
    store = Store(str(home))
    for i in range(7):
        store.create(stored(i))
    store.close()
    if how == "deleted":
        os.remove(store.index_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-c", KILLED, str(home), how], env=env, capture_output=True, text=True
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    again = Store(str(home))
    assert [r.id for r in again.runs()] == [run_id(i) for i in reversed(range(7))]
    assert again.count() == 7 and again.index.ids() == {run_id(i) for i in range(7)}
