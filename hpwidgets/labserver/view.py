"""One batch as the Runs sidebar's main-area view shows it: what its cell's record shows, as data.

The same parts as the dashboard's static record (pictures/record.py): the plan, the progress
line, the plot (pictures/manyflags.py), the top-N table and the CSV (core/results/compare.py). Values
travel as plain text; the browser places them with textContent, never as markup.
"""

from __future__ import annotations

import base64

from hpwidgets.core.processes import locks
from hpwidgets.core.processes.watch import WatchedBatch
from hpwidgets.core.results import compare
from hpwidgets.core.results.formats import columns_for, row_text
from hpwidgets.core.results.progress import progress_text
from hpwidgets.core.search.objective import Objective
from hpwidgets.core.store.runstore import Store
from hpwidgets.labserver.payloads import BatchView, ViewTable

TOP = 5  # rows of the table, as in a cell's dashboard


def batch_view(store: Store, batch_id: str) -> BatchView:
    from hpwidgets.pictures import record
    from hpwidgets.pictures.manyflags import live_plot

    batch = WatchedBatch(batch_id, store, follow=False)
    snap = batch.snapshot()
    rows, caption = record.shown_runs(snap, TOP)
    columns = columns_for(rows, brief=True)
    png = live_plot(batch.plan, priors=batch.priors).render(snap) if snap.runs else b""
    return BatchView(
        id=batch.id, short=batch.id[:8], operation=batch.plan.operation,
        running=snap.finished is None and locks.is_running(store.batches_dir, batch.id),
        plan=batch.describe(), progress=progress_text(snap), note=snap.missing_objective() or "",
        png=base64.b64encode(png).decode("ascii"),
        table=ViewTable(columns=columns, rows=[row_text(r, columns) for r in rows], caption=caption,
                        details=[snap.details(r) for r in rows]),
        csv_name=f"hpw-{batch.id[:8]}.csv",
    )


def batch_csv(store: Store, batch_id: str) -> str:
    """Every run of the batch as the table's CSV (its formula-injection rule included), in the
    one ranking the table shows (``records.rank``)."""
    runs = sorted(store.runs(batch=batch_id), key=lambda r: r.trial or 0)
    return compare.to_csv(Objective.of(runs[0]).rank(runs) if runs else runs)
