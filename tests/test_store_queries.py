"""Reading commands as queries over the index: the same runs, in the same order, as the records
they stand for (``records.rank`` for compare, the listing's order for runs and filters)."""

import json
import os
import random
import shutil

import pytest

from hpwidgets.core.records import RunRecord, Status, rank
from hpwidgets.core.results import batch_info, compare
from hpwidgets.core.results.filters import RunFilter, TimeRange
from hpwidgets.core.results.formats import sort_value
from hpwidgets.core.store.query import RunQuery
from hpwidgets.core.store.runstore import Store
from tests.helpers import hpw

STATUSES = list(Status)


def _store(root, n: int = 300, seed: int = 7) -> Store:
    """Runs with every status, missing, NaN and tied values, flags of numbers and of bools,
    labels, tags, batches and starts (some equal, some None)."""
    rnd = random.Random(seed)
    store = Store(str(root))
    for i in range(n):
        scalars = {}
        if rnd.random() < 0.85:
            scalars["loss"] = rnd.choice([round(rnd.uniform(-1, 1), 2), 0.5, float("nan")])
        if rnd.random() < 0.5:
            scalars["acc"] = rnd.random()
        store.create(RunRecord(
            id=f"{rnd.getrandbits(128):032x}", batch=f"{i % 7:x}" * 32, operation=rnd.choice(["train.py", "eval.py"]),
            flags={"lr": rnd.choice([0.1, 0.01, 1]), "deep": rnd.choice([True, False]), "x": float(i % 11)},
            status=rnd.choice(STATUSES), started=None if i % 37 == 0 else 1000.0 + i // 3,
            label=rnd.choice(["", "base", "wide net"]), tags=tuple(rnd.sample(["a", "b", "c"], rnd.randint(0, 2))),
            scalars=scalars))
    return store


def _ids(records) -> list[str]:
    return [r.id for r in records]


@pytest.mark.parametrize("column", ["loss", "acc", "lr", "deep", "x"])
@pytest.mark.parametrize("descending", [False, True], ids=["min", "max"])
def test_the_ranking_query_gives_exactly_the_rows_of_records_rank(tmp_path, column, descending):
    store = _store(tmp_path / "s")
    records = store.runs()
    expected = rank(records, lambda r: sort_value(r, column), descending=descending)
    for top in (1, 5, 40, None):
        queried = store.ranked(RunQuery(), column, descending, top)
        assert _ids(queried) == _ids(expected[:top] if top else expected)


def test_compare_select_on_a_listing_equals_compare_select_on_the_records(tmp_path):
    store = _store(tmp_path / "s")
    query = RunQuery(operations=("train",), statuses=frozenset({Status.COMPLETED, Status.PRUNED, Status.RUNNING}))
    records = [r for r in store.runs() if query.matches(r)]
    for top, low, high in ((5, "loss", None), (3, None, "acc"), (None, "lr", None), (4, None, None)):
        assert _ids(compare.select(store.listing(query), top, low, high)) == _ids(compare.select(records, top, low, high))


def test_an_unknown_column_is_the_same_error_from_a_listing(tmp_path):
    store = _store(tmp_path / "s", n=20)
    with pytest.raises(Exception) as from_records:
        compare.select(store.runs(), 5, "nope")
    with pytest.raises(Exception) as from_listing:
        compare.select(store.listing(), 5, "nope")
    assert str(from_listing.value) == str(from_records.value)


def test_a_text_flag_is_ranked_as_python_ranks_it(tmp_path):
    store = Store(str(tmp_path / "s"))
    for i, value in enumerate(["b", 2.0, "a", 1.0]):
        store.create(RunRecord(id=f"{i:032x}", batch="b" * 32, operation="t", flags={"opt": value},
                               status=Status.COMPLETED, started=float(i)))
    assert store.ranked(RunQuery(), "opt") is None  # the index leaves it to records.rank
    assert [r.flags["opt"] for r in compare.select(store.listing(), 4, "opt")] == [1.0, 2.0, "a", "b"]


def test_every_filter_as_a_query_selects_what_it_selects_on_the_records(tmp_path):
    store = _store(tmp_path / "s")
    records = store.runs()
    filters = [
        RunFilter(operations=("eval",)), RunFilter(labels=("wide", "bas")), RunFilter(unlabeled=True),
        RunFilter(tags=("a", "c")), RunFilter(statuses=frozenset({Status.FAILED, Status.PENDING})),
        RunFilter(batch="33"), RunFilter(started=TimeRange(1010.0, 1050.0)),
        RunFilter(operations=("train",), tags=("b",), started=TimeRange(None, 1060.0)),
    ]
    for flt in filters:
        assert _ids(store.listing(flt.query())) == _ids(flt.apply(records)), flt


def test_a_listing_reads_pages_counts_and_finds_ids_by_their_start(tmp_path):
    store = _store(tmp_path / "s", n=60)
    records = store.runs()
    listing = store.listing()
    assert len(listing) == 60
    assert _ids(listing[:20]) == _ids(records[:20])
    assert _ids(listing[20:45]) == _ids(records[20:45])
    assert listing[7].id == records[7].id and listing[-1].id == records[-1].id
    first, count = listing.starting(records[3].id[:1], 2)
    same = [r for r in records if r.id.startswith(records[3].id[:1])]
    assert (_ids(first), count) == (_ids(same[:2]), len(same))


def _with_manifests(root) -> Store:
    """Batches with a manifest (created before or after their first run, totals of 1 and 5), one
    unreadable manifest, and batches without one (single runs among them)."""
    store = _store(root, n=120)
    os.makedirs(store.batches_dir, mode=0o700, exist_ok=True)
    for i, (created, total) in enumerate([(5000.0, 5), (900.0, 1), (None, 3), (0, 2)]):
        path = os.path.join(store.batches_dir, f"{i:x}" * 32 + ".json")
        with open(path, "w") as fh:
            json.dump({"id": f"{i:x}" * 32, "created": created, "total": total, "optimizer": "random", "options": {}}, fh)
    with open(os.path.join(store.batches_dir, "4" * 32 + ".json"), "w") as fh:
        fh.write("{not json")
    store.create(RunRecord(id="f" * 32, batch="9" * 32, operation="single.py", flags={}, started=1.0))
    return store


def test_the_batch_listing_query_gives_the_batches_of_the_records_in_their_order(tmp_path):
    store = _with_manifests(tmp_path / "s")
    records = store.runs()
    for flt in (RunFilter(), RunFilter(statuses=frozenset({Status.COMPLETED})), RunFilter(operations=("eval",))):
        expected = batch_info.batches(store, flt.apply(records))
        listed = batch_info.batches(store, store.listing(flt.query()))
        assert isinstance(listed, batch_info.BatchListing) and not isinstance(expected, batch_info.BatchListing)
        assert list(listed) == expected
        assert len(listed) == len(expected) and listed[1:3] == expected[1:3]
    every = batch_info.batches(store)
    assert every.starting("3", 5) == ([b for b in batch_info.batches(store, records) if b.id.startswith("3")], 1)


def test_a_manifest_changed_or_removed_is_seen_at_the_next_listing(tmp_path):
    store = _with_manifests(tmp_path / "s")
    assert batch_info.batches(store)[0].manifest["created"] == 5000.0
    path = os.path.join(store.batches_dir, "0" * 32 + ".json")
    with open(path + ".tmp", "w") as fh:  # replaced by a rename, as the store writes it
        json.dump({"id": "0" * 32, "created": 10.0, "total": 5, "optimizer": "gp", "options": {}}, fh)
    os.replace(path + ".tmp", path)
    os.remove(os.path.join(store.batches_dir, "1" * 32 + ".json"))
    listed = list(batch_info.batches(store))
    assert listed == batch_info.batches(store, store.runs())
    manifests = {b.id[0]: b.manifest for b in listed if b.id in ("0" * 32, "1" * 32)}
    assert manifests == {"0": {"id": "0" * 32, "created": 10.0, "total": 5, "optimizer": "gp", "options": {}}, "1": {}}


def test_the_sidebar_lists_the_newest_batches_and_every_one_with_unfinished_runs(tmp_path):
    store = Store(str(tmp_path / "s"))
    for b in range(6):
        for t in range(2):
            status = Status.RUNNING if (b, t) == (0, 1) else Status.COMPLETED
            store.create(RunRecord(id=f"{b}{t}".ljust(32, "0"), batch=f"{b:x}" * 32, operation="train.py",
                                   flags={"x": t}, status=status, started=100.0 * b + t, stopped=100.0 * b + t + 1,
                                   scalars={"loss": float(b + t)}, owner="some-other-node:1:1"))
    every = batch_info.overview(store, now=1000.0, limit=None)
    assert [row["short"] for row in every] == [f"{b:x}" * 8 for b in (5, 4, 3, 2, 1, 0)]
    assert batch_info.overview(store, now=1000.0, limit=2) == [every[0], every[1], every[5]]


def test_the_batch_summaries_follow_every_write_delete_and_hand_made_change(tmp_path):
    store = _with_manifests(tmp_path / "s")
    records = store.runs()
    store.save(records[0].evolve(started=1.0e6))  # its batch's first start moves
    store.save(records[1].evolve(started=None))
    store.delete([r.id for r in records[2:40] if r.status.is_finished()])
    shutil.rmtree(store.run_dir(records[50].id))  # by hand
    listed = list(batch_info.batches(store))
    assert listed == batch_info.batches(store, store.runs())
    store.rebuild_index()
    assert list(batch_info.batches(store)) == listed


def test_a_full_csv_export_is_streamed_with_the_same_text_as_the_records_give(home, tmp_path):
    store = _store(home, n=120)
    store.reap_orphans()  # as hpw compare does first: its runs have no owner
    expected = compare.to_csv(store.runs())
    out = hpw("compare", "--csv", "-")
    assert out.returncode == 0 and out.stdout == expected, out.stderr
    written = hpw("compare", "--csv", str(tmp_path / "all.csv"), "--failed")
    failed = [r for r in store.runs() if r.status is Status.FAILED]
    assert written.stderr == f"wrote {len(failed)} runs to {tmp_path / 'all.csv'}\n"
    assert (tmp_path / "all.csv").read_text() == compare.to_csv(failed, compare.columns_for(failed))


@pytest.mark.parametrize("column", [None, "loss", "acc", "lr", "nowhere"])
def test_a_comparisons_scope_from_the_index_is_the_scope_of_the_records(tmp_path, column):
    store = _store(tmp_path / "s", n=120)
    query = RunQuery(batches=("0" * 32, "1" * 32, "2" * 32))
    records = [r for r in store.runs() if query.matches(r)]
    assert compare.Scope.of(store, query, column) == compare.Scope.of_records(records, column)
    assert compare.Scope.of(store, query.within(["3" * 32]), column).total == 0  # no run of those batches
