"""The index is only a cache (issue 16): run directories are the truth, whatever the index holds."""

import json
import os
import shutil
import sqlite3

import pytest

import hpwidgets as hp
from hpwidgets.core.records import Status
from hpwidgets.core.results import compare
from hpwidgets.core.store.query import RunQuery
from hpwidgets.core.store.runstore import Store
from tests.helpers import hpw
from tests.support.records import run_id, stored


def _filled(root, n: int = 3) -> Store:
    store = Store(str(root))
    for i in range(n):
        store.create(stored(i))
    store.close()
    return store


def _garbage(path):
    with open(path, "wb") as fh:
        fh.write(b"this is not a database, it is a mess " * 200)


def _truncate(path):
    with open(path, "r+b") as fh:
        fh.truncate(1500)


def _foreign(path):
    os.remove(path)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (text TEXT)")
    db.execute("INSERT INTO notes VALUES ('someone else''s data')")
    db.execute("PRAGMA user_version=42")
    db.commit()
    db.close()


@pytest.mark.parametrize("spoil", [_garbage, _truncate, _foreign], ids=["corrupt", "truncated", "foreign"])
def test_an_unusable_index_is_moved_aside_and_rebuilt(home, spoil):
    store = _filled(home, 12)
    spoil(store.index_path)
    spoiled = open(store.index_path, "rb").read()
    out = hpw("runs")
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == 12
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    assert lines[0].startswith(f"hpwidgets: the run index {store.index_path} was unusable (")
    assert lines[0].endswith(f"); moved it to {store.index_path}.bad-1 and rebuilt it from 12 run directories")
    assert open(f"{store.index_path}.bad-1", "rb").read() == spoiled  # kept, never dropped
    again = hpw("compare", "--min", "loss", "--table")
    assert again.returncode == 0 and again.stderr == ""
    assert len(again.stdout.splitlines()) == 13


def test_hpw_run_on_a_corrupt_index_runs_and_leaves_nothing_running(home, write_script):
    _filled(home, 2)
    _garbage(home / "index.db")
    path = write_script("x = 0\nprint('loss:', x)\n")
    out = hpw("run", path, "x=[1,2]", "-y")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    statuses = [r.status for r in Store().runs()]
    assert len(statuses) == 4 and set(statuses) == {Status.COMPLETED}


@pytest.mark.parametrize("text, why", [
    ("[1, 2]", "a run record is a JSON object, got list"),
    ("{not json", "not JSON: Expecting property name enclosed in double quotes (line 1 column 2)"),
    ('{"id": "IDX", "flags": "x=1"}', "'flags' must be an object, got str"),
    ('{"id": "IDX", "status": "bogus"}', "'status' must be one of pending, running, completed, failed, terminated, pruned, got 'bogus'"),
    ('{"id": "IDX", "started": "yesterday"}', "'started' must be a number, got str"),
])
def test_a_bad_run_json_is_skipped_and_named(home, text, why):
    store = _filled(home, 2)
    bad_id = "ff" * 16
    os.makedirs(store.run_dir(bad_id))
    bad = os.path.join(store.run_dir(bad_id), "run.json")
    with open(bad, "w") as fh:
        fh.write(text.replace("IDX", bad_id))
    os.remove(store.index_path)
    for command in (["runs"], ["compare", "--table"]):
        out = hpw(*command)
        assert out.returncode == 0, out.stderr
        assert out.stderr == f"hpwidgets: skipped {bad}: {why}\n"
        assert bad_id[:8] not in out.stdout and stored(1).short_id in out.stdout



OUT_OF_RANGE = [
    ('"started": 1e300', "'started' must be a time in seconds since 1970 (0 to 253402300799), got 1e+300"),
    ('"started": Infinity', "'started' must be a time in seconds since 1970 (0 to 253402300799), got inf"),
    ('"stopped": NaN', "'stopped' must be a time in seconds since 1970 (0 to 253402300799), got nan"),
    ('"objective": ""', "'objective' must name a scalar, got ''"),
    ('"direction": "up"', "'direction' must be min or max, got 'up'"),
    ('"trial": -5', "'trial' must be an integer from 0 to 9223372036854775807, got -5"),
    ('"exit_code": 123456789012345678901234567890',
     "'exit_code' must be an integer from -9223372036854775808 to 9223372036854775807, got 123456789012345678901234567890"),
    ('"flags": {"x": 123456789012345678901234567890}',
     "flag 'x' must be an integer from -9223372036854775808 to 9223372036854775807, got 123456789012345678901234567890"),
]
READING = (["runs"], ["runs", "info", "1"], ["compare", "--table"], ["compare", "--min", "loss", "--table"], ["batches"])


def _answers(env=None) -> list[tuple[int, str]]:
    return [(out.returncode, out.stdout) for out in (hpw(*command, env=env) for command in READING)]


@pytest.mark.parametrize("field, why", OUT_OF_RANGE, ids=["started-1e300", "started-inf", "stopped-nan", "objective-empty",
                                                         "direction", "trial", "exit-code", "flag"])
def test_a_record_with_a_value_out_of_range_is_skipped_in_one_line(home, field, why):
    store = _filled(home, 2)
    healthy = _answers()
    bad_id = "ff" * 16
    os.makedirs(store.run_dir(bad_id))
    bad = os.path.join(store.run_dir(bad_id), "run.json")
    data = {k: v for k, v in stored(9, id=bad_id).to_json().items() if k != field.split(":")[0].strip('"')}
    with open(bad, "w") as fh:
        fh.write(json.dumps(data)[:-1] + ", " + field + "}")
    os.remove(store.index_path)
    for command, answer in zip(READING, healthy):
        out = hpw(*command)
        assert (out.returncode, out.stdout) == answer, out.stderr
        assert out.stderr == f"hpwidgets: skipped {bad}: {why}\n"


def test_an_index_row_whose_data_is_not_json_sets_the_index_aside_and_it_is_rebuilt(home):
    store = _filled(home, 3)
    healthy = _answers()
    for n, command in enumerate(READING, 1):
        db = sqlite3.connect(store.index_path)
        db.execute("UPDATE runs SET data = '{not json'")
        db.commit()
        db.close()
        out = hpw(*command)
        assert (out.returncode, [out.stdout]) == (0, [healthy[n - 1][1]]), out.stderr
        assert out.stderr.count("\n") == 1 and out.stderr.startswith(
            f"hpwidgets: the run index {store.index_path} was unusable (a ")
        assert out.stderr.endswith(f"moved it to {store.index_path}.bad-{n} and rebuilt it from 3 run directories\n")
        assert hpw(*command).stderr == ""  # rebuilt: the next read is quiet


def test_an_index_row_of_a_manifest_that_is_not_json_sets_the_index_aside(home, write_script):
    assert hpw("run", write_script("x = 0\nprint('loss:', x)\n"), "x=[1,2]", "-y").returncode == 0
    healthy = hpw("batches").stdout
    index_path = Store().index_path
    db = sqlite3.connect(index_path)
    db.execute("UPDATE manifests SET data = '[1, 2'")
    db.commit()
    db.close()
    out = hpw("batches")
    assert (out.returncode, out.stdout) == (0, healthy)
    assert out.stderr == (f"hpwidgets: the run index {index_path} was unusable (a batch's manifest is not JSON: "
                          f"Expecting ',' delimiter: line 1 column 6 (char 5)); moved it to {index_path}.bad-1 "
                          "and rebuilt it from 2 run directories\n")

def test_non_numeric_scalars_are_missing_values(home, write_script):
    store = _filled(home, 3)
    with open(os.path.join(store.run_dir(stored(1).id), "run.json")) as fh:
        data = json.load(fh)
    data["scalars"] = {"loss": "abc", "acc": True, "other": [1]}
    with open(os.path.join(store.run_dir(stored(1).id), "run.json"), "w") as fh:
        json.dump(data, fh)
    os.remove(store.index_path)
    fresh = Store(str(home))
    got = fresh.get(stored(1).id)
    assert got.scalars == {} and got.value is None
    rows = compare.select(fresh.runs(), min="loss")
    assert [r.trial for r in rows] == [2, 0, 1]  # numbers sorted, the missing one last
    # a gp search of that script takes the runs as priors: the bad one is never told
    path = write_script("x = 0.0\nprint('loss:', x)\n", name="train.py")
    batch = hp.run(path, flags={"x": "[0.0:3.0]"}, optimizer="gp", max_trials=2, random_seed=1,
                   opt_flags={"prev-trials": "operation"})
    assert sorted(r.trial for r in batch.priors) == [0, 2]
    assert [r.status for r in batch.runs] == [Status.COMPLETED, Status.COMPLETED]


def test_runs_deleted_by_hand_go_and_runs_missing_from_the_index_come_back(home):
    store = Store(str(home))
    for i in range(3):
        store.create(stored(i))
    assert len(store.runs()) == 3
    shutil.rmtree(store.run_dir(stored(1).id))
    assert [r.trial for r in store.runs()] == [2, 0]
    # a second store with its own index writes a run: the first index never heard of it
    Store(str(home), index_path=str(home / "other.db")).create(stored(5))
    assert [r.trial for r in store.runs()] == [5, 2, 0]
    assert store.get(run_id(5)[:8]).flags == {"x": 5.0}
    assert [r.trial for r in Store(str(home)).runs(batch="b" * 32)] == [5, 2, 0]


def test_an_index_of_schema_6_without_the_operation_index_gets_it_on_open(home):
    # compare's scope counts the runs of each script through runs_operation; an index written
    # before it existed gains it when opened, keeps every row and is not rebuilt.
    store = _filled(home, 4)
    db = sqlite3.connect(store.index_path)
    db.execute("DROP INDEX runs_operation")
    db.execute("INSERT INTO meta VALUES ('probe', 'a rebuild would drop this')")
    db.commit()
    db.close()
    assert compare.Scope.of(Store(str(home)), RunQuery()).scripts == (("train.py", 4),)
    db = sqlite3.connect(store.index_path)
    plan = db.execute("EXPLAIN QUERY PLAN SELECT operation, COUNT(*) FROM runs GROUP BY operation").fetchall()
    assert [row[3] for row in plan] == ["SCAN runs USING COVERING INDEX runs_operation"]
    assert db.execute("SELECT value FROM meta WHERE key = 'probe'").fetchall() == [("a rebuild would drop this",)]
    assert not os.path.exists(f"{store.index_path}.bad-1")
    db.close()


def test_a_stream_whose_index_breaks_midway_gives_every_run_once_in_order(home, capsys):
    # An export streams the index's rows; a row that is not a record sets the index aside and
    # the stream goes on from the rebuilt one after the last run it gave, never twice.
    store = _filled(home, 6)
    db = sqlite3.connect(store.index_path)
    db.execute("UPDATE runs SET data = 'not json' WHERE id = ?", (run_id(2),))
    db.commit()
    db.close()
    given = [r.id for r in Store(str(home)).stream(RunQuery())]
    assert given == [run_id(i) for i in (5, 4, 3, 2, 1, 0)]
    assert "was unusable" in capsys.readouterr().err
