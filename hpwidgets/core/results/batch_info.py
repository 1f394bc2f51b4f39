"""Batches as things a user lists and inspects: ``hpw batches`` and ``hpw runs info BATCH``.

A batch is read from its manifest (core/store/manifests.py: what ``--resume`` needs) and from
its runs in the store; whether it is finished, and its counts, from core/results/counts.py.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, TypedDict

from hpwidgets.core.records import RunRecord
from hpwidgets.core.results.counts import BatchCounts
from hpwidgets.core.results.formats import number
from hpwidgets.core.search.objective import Objective
from hpwidgets.core.store import manifests
from hpwidgets.core.store.listing import PagedListing, RunListing
from hpwidgets.core.store.query import EVERY_RUN, RunQuery
from hpwidgets.core.store.runstore import Store


@dataclass(frozen=True)
class BatchSummary:
    id: str
    manifest: dict[str, Any]  # empty when the batch has none (a function's single run)
    runs: tuple[RunRecord, ...]  # newest first

    @property
    def short_id(self) -> str:
        return self.id[:8]

    @property
    def operation(self) -> str:
        return self.manifest.get("operation") or (self.runs[0].operation if self.runs else "")

    @property
    def total(self) -> int:
        return manifests.planned_total(self.manifest, self.runs)

    @property
    def started(self) -> float | None:
        times = [r.started for r in self.runs if r.started is not None]
        return self.manifest.get("created") or (min(times) if times else None)

    @property
    def counts(self) -> BatchCounts:
        return BatchCounts.of(self.runs, self.total)

    @property
    def best(self) -> RunRecord | None:
        return Objective.of(self.runs[0]).best(reversed(self.runs)) if self.runs else None  # the earliest wins a tie


class BatchListing(PagedListing[BatchSummary]):
    """The batches of more than one trial that have runs among a query's, newest first, read
    from the index a page at a time (their manifests and runs only for the page shown)."""

    def page(self, limit: int | None, offset: int) -> list[BatchSummary]:
        return self._summaries(self.store.batch_groups(self.query, limit, offset))

    def __len__(self) -> int:
        return self.store.batch_count(self.query)

    def starting(self, prefix: str, most: int) -> tuple[list[BatchSummary], int]:
        groups = self.store.batch_groups(self.query, most, 0, prefix)
        return self._summaries(groups), self.store.batch_count(self.query, prefix)

    def _summaries(self, groups: list[tuple[str, dict[str, Any]]]) -> list[BatchSummary]:
        runs: dict[str, list[RunRecord]] = {i: [] for i, _ in groups}
        for r in self.store.select(replace(self.query, batches=tuple(runs))) if groups else ():
            runs[r.batch].append(r)
        return [BatchSummary(i, manifest, tuple(runs[i])) for i, manifest in groups]


def batches(store: Store, records: Sequence[RunRecord] | None = None) -> Sequence[BatchSummary]:
    """The batches of more than one trial that have runs among ``records``, newest first (a
    listing of the index when ``records`` is one, or None: every run)."""
    if records is None or isinstance(records, RunListing):
        return BatchListing(store, EVERY_RUN if records is None else records.query)
    found_manifests = manifests.load_all(store)
    grouped: dict[str, list[RunRecord]] = {}
    for r in records:
        grouped.setdefault(r.batch, []).append(r)
    found = [BatchSummary(i, found_manifests.get(i, {}), tuple(runs)) for i, runs in grouped.items()]
    found = [b for b in found if b.total > 1 or len(b.runs) > 1]
    found.sort(key=lambda b: b.id)
    found.sort(key=lambda b: -(b.started or 0.0))
    return found


def best_text(b: BatchSummary) -> str:
    """``best loss -3 (4f2a9c1b)``, or "" before any run has a value."""
    best = b.best
    return f"best {best.objective} {number(best.value)} ({best.short_id})" if best else ""


def listing_line(index: int, b: BatchSummary) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(b.started)) if b.started else ""
    optimizer = b.manifest.get("optimizer", "")
    best = best_text(b)
    return (f"[{index}] {b.short_id}  {when}  {b.operation}  {optimizer}  {b.counts.text()}"
            + (f"  {best}" if best else ""))


def info_lines(b: BatchSummary) -> list[str]:
    m = b.manifest
    options = m.get("options", {})
    counts = b.counts
    lines = [f"batch: {b.id}", f"operation: {b.operation}"]
    if m.get("script"):
        lines.append(f"script: {m['script']}")
    lines.append(f"optimizer: {m.get('optimizer', '')}")
    from hpwidgets.core.search.optimizers import BAYESIAN  # numpy loads only for a batch's details

    if m.get("optimizer") in BAYESIAN:
        from hpwidgets.core.search.plan import optimizer_flag_values

        values = optimizer_flag_values(m["optimizer"], options.get("opt_flags", {}))
        lines.append("optimizer flags:")
        lines += [f"  {k}: {v}" for k, v in sorted(values.items())]
    if options.get("random_seed") is not None:
        lines.append(f"random_seed: {options['random_seed']}")
    lines.append("flags:")
    lines += [f"  {k}: {v}" for k, v in sorted(m.get("flags", {}).items())]
    lines.append(f"trials: {counts.text()}")
    best = b.best
    if best:
        searched = " ".join(f"{k}={best.flags[k]!r}" for k in best.searched if k in best.flags)
        lines.append(f"best: {best.short_id} {best.objective} {best.value!r}" + (f" ({searched})" if searched else ""))
    else:
        lines.append("best: none yet")
    if counts.finished:
        lines.append("finished: nothing left for --resume to run")
    elif counts.resumable and m.get("script"):
        lines.append(f"resume: hpw run --resume {b.short_id}")
    return lines


class BatchRow(TypedDict):
    """One batch of the Runs sidebar's listing (labserver/payloads.py; js/labextension's BatchRow)."""

    id: str
    short: str
    operation: str
    optimizer: str
    flags: str
    running: bool
    stoppable: bool
    where: str  # "detached", "kernel", "elsewhere", or "" when not running
    stop_note: str
    total: int
    started: float | None
    elapsed: float
    state: str  # "running", "finished" (nothing left for --resume) or "unfinished"
    progress: str  # the counts line and the best run, as the sidebar shows it


LISTED = 100  # the newest batches the Runs sidebar lists, besides those with unfinished runs


def listed_batches(store: Store, limit: int | None = LISTED) -> list[BatchSummary]:
    """The newest ``limit`` batches and every batch with a pending or running run, newest first:
    two queries, however many batches the store holds."""
    shown = list(batches(store)[:limit] if limit else batches(store))
    others = sorted({r.batch for r in store.select(EVERY_RUN.unfinished())} - {b.id for b in shown})
    if others:
        shown += batches(store, store.listing(RunQuery(batches=tuple(others))))
        shown.sort(key=lambda b: (-(b.started or 0.0), b.id))  # the listing's order
    return shown


def overview(store: Store, now: float | None = None, limit: int | None = LISTED) -> list[BatchRow]:
    """The batches as the Runs sidebar lists them (JSON-ready), the running ones first: the
    newest ``limit`` (None: all) and those with unfinished runs.

    ``stoppable`` says whether ``detach.stop`` can reach it from here: a detached batch's
    supervisor, or a kernel's or an `hpw run`'s batch that listens for stop requests
    (core/processes/stop_requests.py); else ``stop_note`` says where it can be stopped.
    ``state`` and ``progress`` are the words the sidebar shows as they are.
    """
    from hpwidgets.core.processes import detach, locks, stop_requests
    from hpwidgets.core.results.formats import flags_label

    now = time.time() if now is None else now
    rows: list[BatchRow] = []
    for b in listed_batches(store, limit):
        running = locks.is_running(store.batches_dir, b.id)
        stoppable, where, stop_note = False, "", ""
        if running:
            try:
                detached = detach.supervisor_pid(store, b.id) is not None
                where = "detached" if detached else "kernel"
                stoppable = detached or stop_requests.listening(b.id)
                if not stoppable:
                    stop_note = ("Runs in a process that takes no stop request from here (an older hpwidgets): "
                                 "stop it there")
            except detach.DetachError as exc:  # supervised on another host
                where, stop_note = "elsewhere", str(exc)
        counts = b.counts
        ends = [r.stopped for r in b.runs if r.stopped is not None]
        started = b.started
        elapsed = (now if running else max(ends, default=started or now)) - (started or now)
        rows.append({
            "id": b.id, "short": b.short_id, "operation": b.operation, "optimizer": b.manifest.get("optimizer", ""),
            "flags": flags_label(b.manifest.get("flags", {})), "running": running, "stoppable": stoppable,
            "where": where, "stop_note": stop_note, "total": b.total, "started": started, "elapsed": max(elapsed, 0.0),
            "state": "running" if running else ("finished" if counts.finished else "unfinished"),
            "progress": " · ".join(filter(None, [counts.text(), best_text(b)])),
        })
    rows.sort(key=lambda r: not r["running"])  # stable: newest first within each group
    return rows
