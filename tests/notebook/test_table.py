"""The table widget's Python side and the front-end module's location."""

from __future__ import annotations

import json

from hpwidgets.core.records import RunRecord, Status
from hpwidgets.core.results import compare
from hpwidgets.core.results.formats import columns_for
from hpwidgets.notebook import _static
from hpwidgets.notebook.table import CsvFile, CsvRequest, RunsTable, to_html
from tests.helpers import as_js_typedef, js_typedefs
from tests.support.records import record


def test_esm_prefers_the_wheel_copy_then_the_repository(tmp_path, monkeypatch):
    repo_copy = _static.esm_path("table.js")
    assert repo_copy == _static._PACKAGE.parent / "js" / "table.js"
    wheel = tmp_path / "hpwidgets"
    (wheel / "static").mkdir(parents=True)
    (wheel / "static" / "table.js").write_text("export default {}")
    monkeypatch.setattr(_static, "_PACKAGE", wheel)
    assert _static.esm_path("table.js") == wheel / "static" / "table.js"
    (wheel / "static" / "table.js").unlink()
    try:
        _static.esm_path("table.js")
    except FileNotFoundError as exc:
        assert str(exc).startswith("hpwidgets front-end module 'table.js' not found (looked in ")
    else:
        raise AssertionError("no module, no path")


def test_widget_esm_is_the_module_with_the_csv_button():
    table = RunsTable(list)
    assert "export default { render }" in table._esm
    assert 'className = "hpw-csv' in table._esm
    assert table._dom_classes == ("hpw-table",)


def test_show_sets_columns_rows_and_caption_in_one_message():
    table = RunsTable(list)
    states = []
    table.send_state = lambda key=None: states.append(sorted(key) if key else None)
    table.show([record(0, 0.25, flags={"x": -2.0, "label": "<b>"}),
                record(1, None, Status.RUNNING, flags={"x": 1.5, "label": "q"})], "top 2")
    assert table.columns == ["run", "status", "loss", "=label", "x", "time"]  # a flag named like a column: =name
    assert table.rows == [["00000000", "completed", "0.25", "<b>", "-2", ""], ["00000001", "running", "", "q", "1.5", ""]]
    assert table.caption == "top 2"
    assert states == [["caption", "columns", "rows"]]


def test_brief_columns_put_the_objective_first():
    a = RunRecord(id="a", batch="b", operation="t", flags={"x": 1}, scalars={"acc": 0.5, "loss": 0.1})
    assert columns_for([a], brief=True) == ["run", "status", "loss", "x", "acc", "time"]


def test_to_html_escapes_everything():
    assert to_html(["<c>"], [["<img src=x onerror=alert(1)>"]], "a&b") == (
        '<div class="hpw-caption">a&amp;b</div><div class="hpw-scroll"><table class="hpw-rows"><thead><tr>'
        "<th>&lt;c&gt;</th></tr></thead><tbody><tr><td>&lt;img src=x onerror=alert(1)&gt;</td></tr></tbody></table></div>")


def test_table_bundle_has_an_html_fallback():
    table = RunsTable(list)
    table.show([record(0, 0.5, flags={"x": 1.0})], "1 run")
    data, _meta = table._repr_mimebundle_()
    assert data["text/html"] == table.to_html()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == table.model_id


def test_the_csv_messages_are_the_same_in_python_and_the_front_end():
    declared = js_typedefs(RunsTable(lambda: [])._esm)
    assert declared == {"CsvRequest": {"type": '"csv"'}, "CsvFile": {"type": '"csv"', "name": "string", "text": "string"}}
    assert {"CsvRequest": as_js_typedef(CsvRequest), "CsvFile": as_js_typedef(CsvFile)} == declared


def test_a_csv_request_is_answered_with_a_csv_file_that_keeps_every_field_as_json():
    table = RunsTable(lambda: [record(1, 0.5, flags={"x": 2})], csv_name="hpw-1a2b3c4d.csv")
    sent = []
    table.send = sent.append
    table._handle_custom_msg(json.loads(json.dumps(CsvRequest(type="csv"))), [])  # as the comm delivers it
    (answer,) = sent
    assert json.loads(json.dumps(answer)) == answer == CsvFile(
        type="csv", name="hpw-1a2b3c4d.csv", text=compare.to_csv([record(1, 0.5, flags={"x": 2})]))
    assert list(answer) == list(CsvFile.__annotations__)
