"""One ranking for every view of a pruned batch: the dashboard's table and CSV, the cell's
record, compare, the Runs sidebar's table and CSV. Completed runs first by their value, then
pruned ones at their last value (which is not a final one), then the rest."""

from __future__ import annotations

import csv
import io

import pytest

import hpwidgets as hp
from hpwidgets.core.records import RANKING_RULE, RunRecord, Status, rank
from hpwidgets.core.results import compare
from hpwidgets.core.store.runstore import Store
from hpwidgets.labserver import view
from hpwidgets.notebook.dashboard import Dashboard
from hpwidgets.pictures import record

CURVE = """x = 0
curves = {0: [1.0, 1.0, 1.0], 1: [0.9, 0.9, 0.9], 3: [0.5, 0.5, 5.0], 2: [3.0, 3.0, 3.0]}
for step, value in enumerate(curves[x], 1):
    print(f"val_loss: {value} (step {step})", flush=True)
"""


@pytest.fixture(scope="module")
def pruned_batch(tmp_path_factory):
    store = str(tmp_path_factory.mktemp("store"))
    script = tmp_path_factory.mktemp("work") / "curve.py"
    script.write_text(CURVE)
    batch = hp.run(str(script), flags={"x": "[0,1,3,2]"}, minimize="val_loss", prune="median",
                   prune_flags={"min-trials": "3"}, store=store)
    by_x = {r.flags["x"]: r for r in batch.runs}
    # the case that matters: a pruned run (x=2, last 3.0) whose value beats a completed one (x=3, 5.0)
    assert {x: (r.status, r.scalars["val_loss"]) for x, r in by_x.items()} == {
        0: (Status.COMPLETED, 1.0), 1: (Status.COMPLETED, 0.9), 3: (Status.COMPLETED, 5.0), 2: (Status.PRUNED, 3.0)}
    return batch, Store(store), [by_x[x].id for x in (1, 0, 3, 2)]


def test_the_rule_puts_completed_runs_before_pruned_ones_whatever_their_values():
    runs = [RunRecord(id=str(i), batch="b", operation="f", flags={}, status=s, scalars={"loss": v})
            for i, (s, v) in enumerate([(Status.PRUNED, 0.1), (Status.COMPLETED, 0.5), (Status.RUNNING, 0.0),
                                        (Status.FAILED, 0.3), (Status.COMPLETED, 0.2), (Status.COMPLETED, 9.0)])]
    assert [r.id for r in rank(runs, lambda r: r.scalars.get("loss"))] == ["4", "1", "5", "0", "3", "2"]
    assert [r.id for r in rank(runs, lambda r: r.scalars.get("loss"), descending=True)] == ["5", "1", "4", "3", "0", "2"]


def test_every_view_ranks_a_pruned_batch_the_same_way(pruned_batch):
    batch, store, expected = pruned_batch
    short = [i[:8] for i in expected]
    dash = Dashboard(batch, top=4)
    dash._refresh()
    assert [row[0] for row in dash.table.rows] == short
    assert dash.table.caption == f"Top 4 of 4 runs by val_loss (lowest first; {RANKING_RULE})"
    assert _csv_runs(dash.table.csv_message()["text"]) == short
    rows, caption = record.shown_runs(batch.snapshot(), 4)
    assert ([r.id for r in rows], caption) == (expected, dash.table.caption)
    assert [r.id for r in compare.select(store.runs(batch=batch.id), min="val_loss")] == expected
    sidebar = view.batch_view(store, batch.id)["table"]
    assert ([row[0] for row in sidebar["rows"]], sidebar["caption"]) == (short, dash.table.caption)
    assert _csv_runs(view.batch_csv(store, batch.id)) == short


def test_hpcompare_states_the_rule_when_pruned_runs_stand_beside_completed_ones(pruned_batch, ip, monkeypatch):
    batch, store, expected = pruned_batch
    monkeypatch.setenv("HPWIDGETS_HOME", store.root)
    shown = ip.run_line_magic("hpcompare", f"--min val_loss -B {batch.id[:8]}")
    assert [r.id for r in shown.records] == expected
    assert shown.caption.endswith(f"by val_loss (lowest first; {RANKING_RULE})")


def _csv_runs(text: str) -> list[str]:
    return [row["run"] for row in csv.DictReader(io.StringIO(text))]
