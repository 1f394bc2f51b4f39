"""The Runs sidebar's JSON (labserver/payloads.py): the front end declares the same types, and
what the server builds has every declared key and keeps it through JSON."""

from __future__ import annotations

import json
from pathlib import Path

import hpwidgets as hp
from hpwidgets.core.results.batch_info import overview
from hpwidgets.core.store.runstore import Store
from hpwidgets.labserver import payloads
from hpwidgets.labserver.view import batch_view
from tests.helpers import as_js_typedef, js_typedefs

RUNS_JS = Path(__file__).parent.parent / "js" / "labextension" / "src" / "runs.js"
TYPES = ("BatchRow", "Listing", "ListingEvent", "ViewTable", "BatchView", "Message")


def test_the_front_end_declares_every_payload_as_the_server_types_it():
    declared = js_typedefs(RUNS_JS.read_text())
    assert sorted(payloads.__all__) == sorted(TYPES)
    assert {name: declared.get(name) for name in TYPES} == {name: as_js_typedef(getattr(payloads, name)) for name in TYPES}


def test_a_listed_batch_and_its_view_have_every_key_and_keep_it_through_json(home, write_script):
    path = write_script("x = 0.0\nprint('loss:', (x - 1) ** 2)\n")
    batch = hp.run(path, {"x": "[0,2]"}, label="two")
    store = Store()
    (row,) = overview(store)
    assert list(row) == list(payloads.BatchRow.__annotations__)
    assert json.loads(json.dumps(row)) == row
    assert (row["id"], row["state"], row["total"]) == (batch.id, "finished", 2)
    assert row["progress"].startswith("2 of 2 done")
    view = batch_view(store, batch.id)
    assert list(view) == list(payloads.BatchView.__annotations__)
    assert list(view["table"]) == list(payloads.ViewTable.__annotations__)
    assert json.loads(json.dumps(view)) == view
    assert (view["short"], view["csv_name"], view["running"]) == (batch.id[:8], f"hpw-{batch.id[:8]}.csv", False)
