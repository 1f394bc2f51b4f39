"""The Runs sidebar's JSON, typed: what handlers.py, watcher.py and view.py send, and what
js/labextension/src/runs.js reads (its JSDoc typedefs carry the same names and keys, compared
by tests/test_labserver_payloads.py).

    GET batches           Listing                 (the stream's events: ListingEvent)
    GET batches/ID        BatchView
    a 4xx, POST .../stop  Message
"""

from __future__ import annotations

from typing import TypedDict

from hpwidgets.core.results.batch_info import BatchRow

__all__ = ["BatchRow", "BatchView", "Listing", "ListingEvent", "Message", "ViewTable"]


class Listing(TypedDict):
    batches: list[BatchRow]  # running ones first, then newest first


class ListingEvent(Listing):
    at: float  # when the listing was read (time.time()); only the clock changes it between events


class ViewTable(TypedDict):
    """The top runs as the cell's table shows them: every value as display text."""

    columns: list[str]
    rows: list[list[str]]
    caption: str
    details: list[str]  # per row: why a run did not complete and the end of its output, or ""


class BatchView(TypedDict):
    id: str
    short: str
    operation: str
    running: bool
    plan: str
    progress: str
    note: str  # why no objective was found, or ""
    png: str  # the plot as base64 PNG, "" before the first run
    table: ViewTable
    csv_name: str


class Message(TypedDict):
    message: str  # one line: what was done, or what was received and what is accepted
