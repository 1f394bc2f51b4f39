"""The runs table: an anywidget (front end js/table.js) with a Download CSV button.

State travels in traits (``columns``, ``rows`` as display text, ``caption``, and per row the
``details`` of a run that did not complete, opened from its status cell); the CSV is an action:
the button sends a ``CsvRequest`` and the kernel answers a ``CsvFile`` built by
``compare.to_csv`` (its columns and formula-injection rule), which the browser saves through a
Blob. js/table.js declares the same two messages (JSDoc typedefs; tests/notebook/test_table.py
compares them). Values travel raw; the front end escapes them, as ``to_html`` does here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypedDict

import anywidget
import traitlets

from hpwidgets.core.records import RunRecord
from hpwidgets.core.results import compare, formats
from hpwidgets.notebook._static import esm_path
from hpwidgets.pictures.record import table_html as to_html

_CSS = """
.hpw-table { max-width: 100%; }
.hpw-table .hpw-scroll { max-width: 100%; overflow-x: auto; }
.hpw-table .hpw-rows { border-collapse: collapse; font: 12px/1.4 var(--jp-code-font-family, monospace); }
.hpw-table .hpw-rows th, .hpw-table .hpw-rows td { padding: 2px 10px; text-align: right; white-space: nowrap; }
.hpw-table .hpw-rows th { border-bottom: 1px solid #999; }
.hpw-table .hpw-rows details { text-align: left; }
.hpw-table .hpw-rows details pre { white-space: pre-wrap; max-width: 640px; font-size: 11px; margin: 2px 0; }
.hpw-table .hpw-caption { font-size: 12px; margin: 4px 0; }
.hpw-table .hpw-csv { margin: 4px 0; }
"""

__all__ = ["CsvFile", "CsvRequest", "RunsTable", "to_html"]


class CsvRequest(TypedDict):
    """The front end's ask: the Download CSV button was clicked."""

    type: Literal["csv"]


class CsvFile(TypedDict):
    """The kernel's answer: the file's name and its text, which the browser saves."""

    type: Literal["csv"]
    name: str
    text: str


class RunsTable(anywidget.AnyWidget):
    _esm = esm_path("table.js")
    _css = _CSS
    columns = traitlets.List(traitlets.Unicode()).tag(sync=True)
    rows = traitlets.List(traitlets.List(traitlets.Unicode())).tag(sync=True)
    caption = traitlets.Unicode("").tag(sync=True)
    details = traitlets.List(traitlets.Unicode()).tag(sync=True)

    def __init__(self, source: Callable[[], Sequence[RunRecord]], csv_name: str = "runs.csv",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._source = source  # every run the CSV holds (the table may show only the top N)
        self._csv_name = csv_name
        self._send_lock = threading.Lock()  # the batch thread and the kernel thread both send
        self.add_class("hpw-table")
        self.on_msg(self._on_msg)

    def show(self, records: Sequence[RunRecord], caption: str = "", columns: Sequence[str] | None = None,
             details: Sequence[str] = ()) -> None:
        """Show these runs; a list trait notifies only when reassigned, so build new lists."""
        columns = list(columns or formats.columns_for(records, brief=True))
        rows = [formats.row_text(r, columns) for r in records]
        with self._send_lock, self.hold_sync():
            self.columns, self.rows, self.caption, self.details = columns, rows, caption, list(details)

    def csv_message(self) -> CsvFile:
        return CsvFile(type="csv", name=self._csv_name, text=compare.to_csv(list(self._source())))

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "csv":
            message = self.csv_message()
            with self._send_lock:
                self.send(message)

    def to_html(self) -> str:
        return to_html(self.columns, self.rows, self.caption, self.details)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        data, metadata = super()._repr_mimebundle_(**kwargs)
        return {**data, "text/html": self.to_html()}, metadata
