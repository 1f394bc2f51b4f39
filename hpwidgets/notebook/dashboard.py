"""The live dashboard of a batch: plan, progress line, Stop, plot, learning curves and top-N table.

The engine folds every event into the batch's read model (core/results/read_model.py) before anyone else
hears it. The dashboard's event handler, on the batch thread, only pokes a Throttle; the
Throttle's thread is the one thread that changes the widgets after the constructor: it reads a
snapshot and redraws at most a few times a second. The Stop button (kernel thread) only asks the
batch to stop and pokes, so "Stopping" can never overwrite "Stopped".

In a cell the dashboard takes two outputs (see record.py): the static record, rewritten every
few seconds while the batch runs and once more at its end, and the live widget view, cleared
when the batch ends. A saved, reopened or exported notebook shows the record.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from typing import Any

from ipywidgets import HTML, Button, HBox, Image, Layout, VBox

from hpwidgets.core.errors import OptionError
from hpwidgets.core.results import compare
from hpwidgets.core.results.formats import columns_for
from hpwidgets.core.results.progress import progress_text
from hpwidgets.core.results.read_model import BatchSnapshot
from hpwidgets.notebook.table import RunsTable
from hpwidgets.notebook.throttle import Throttle
from hpwidgets.pictures import record
from hpwidgets.pictures.curves import CurvesPlot
from hpwidgets.pictures.manyflags import live_plot

RECORD_INTERVAL = 2.0  # seconds between rewrites of the static record while the batch runs
_shown: set[str] = set()  # ids of the batches a dashboard shows in a cell


def is_shown(batch: Any) -> bool:
    """True when a dashboard in a cell shows this batch (its repr would only repeat it)."""
    return batch.id in _shown

__all__ = ["Dashboard", "show_dashboard"]


class Dashboard:
    def __init__(self, batch: Any, truth: Callable[..., Any] | None = None, top: int = 5,
                 interval: float = 0.25) -> None:
        if top < 1:
            raise OptionError("top", top, "a positive integer")
        self.batch, self.top = batch, top
        self.plot = live_plot(batch.plan, truth, priors=batch.priors)  # the view for its number of flags
        self.png = b""
        self.header = HTML(f'<pre class="hpw-plan" style="margin:0">{html.escape(batch.describe())}</pre>')
        self.progress = HTML(layout=Layout(flex="1 1 auto")).add_class("hpw-progress")
        self.stop_button = Button(description="Stop", icon="stop", button_style="danger",
                                  tooltip="Kill the running trials; keep the finished runs",
                                  layout=Layout(width="auto", flex="0 0 auto"))  # the line keeps the room
        self.stop_button.add_class("hpw-stop")
        self.stop_button.on_click(self._on_stop)
        self.image = Image(format="png").add_class("hpw-plot")
        if "true curve" in self.plot.legend:  # the PNG alone tells a page (and its tests) nothing
            self.image.add_class("hpw-truth")
        # the learning curves: hidden until a trial reported its objective at two steps
        self.curves = CurvesPlot(batch.plan)
        self.curves_png, self.curves_text = b"", ""
        self.curves_image = Image(format="png", width=str(self.curves.css_width))  # drawn at 2x: sharp
        self.curves_caption = HTML().add_class("hpw-curves-caption")
        self.curves_box = VBox([self.curves_image, self.curves_caption], layout=Layout(display="none"))
        self.curves_box.add_class("hpw-curves")
        self._curves_drawn: Any = None
        self.csv_name = f"hpw-{batch.id[:8]}.csv"
        self.table = RunsTable(lambda: self.batch.snapshot().ranked(), csv_name=self.csv_name)  # the one ranking
        bar = HBox([self.progress, self.stop_button], layout=Layout(align_items="center"))
        self.key = batch.id[:12]
        one_flag = len(batch.plan.searched) == 1  # a narrow plot: the curves go beside it
        plots = [HBox([self.image, self.curves_box])] if one_flag else [self.image, self.curves_box]
        self.widget = VBox([self.header, bar, *plots, self.table]).add_class("hpw-dashboard")
        self.widget.add_class(f"hpw-live-{self.key}")
        self.record_view, self.live_view = CellOutput(self, "record"), CellOutput(self, "live")
        self.record_handle: Any = None  # their DisplayHandles (show_dashboard sets them)
        self.live_handle: Any = None
        self._recorded = (-1, 0.0)  # the version and time of the last record written
        self._stop_asked = False
        self._shown_version = -1
        self._plotted: Any = None
        self._snap: BatchSnapshot = batch.snapshot()
        self._drawn = threading.Event()
        self._when_drawn: list[Callable[[], None]] = []
        self._throttle = Throttle(self._refresh, interval)
        self._refresh()  # the first frame, before any other thread can draw
        batch.events.subscribe(self._on_event)
        # an event between that frame and the subscription (a batch that ends meanwhile) would be
        # missed, and its last frame never drawn: one more look once subscribed
        self._throttle.poke()

    # -- the batch thread and the kernel thread only post --------------------------------

    def _on_event(self, _event: Any) -> None:
        self._throttle.poke()  # the read model already holds the event

    def _on_stop(self, _button: Any = None) -> None:
        self._stop_asked = True
        self.batch.stop()
        self._throttle.poke()

    def when_drawn(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on the drawing thread once the last frame is drawn (a panel's Run
        button comes back then): widgets keep one owner thread."""
        self._when_drawn.append(callback)

    def wait_drawn(self, timeout: float | None = None) -> bool:
        """True once the last frame after the batch's end is drawn."""
        return self._drawn.wait(timeout)

    # -- the one thread that draws -------------------------------------------------------

    def _refresh(self) -> None:
        snap = self._snap = self.batch.snapshot()
        self.progress.value = f'<span style="font-family:monospace">{html.escape(progress_text(snap))}</span>'
        if snap.version != self._shown_version:
            self._shown_version = snap.version
            rows, caption = record.shown_runs(snap, self.top)
            self.table.show(rows, caption, columns_for(rows, brief=True), [snap.details(r) for r in rows])
        if self.plot.key(snap) != self._plotted:  # output lines and starts leave the plot as it is
            self._plotted = self.plot.key(snap)
            self.png = self.plot.render(snap)
            self.image.value = self.png
        if self.curves.key(snap) != self._curves_drawn and self.curves.has_curves(snap):
            self._curves_drawn = self.curves.key(snap)
            self.curves_png = self.curves.render(snap)
            self.curves_image.value = self.curves_png
            lines = self.curves.lines
            self.curves_text = f'{lines["running"]} running, {lines["finished"]} finished, {lines["pruned"]} pruned'
            self.curves_caption.value = f'<span style="font-size:12px">{self.curves_text}</span>'
            self.curves_box.layout.display = None
        self._show_button(snap)
        self._write_record(snap)
        if snap.finished is not None and not self._drawn.is_set():
            if self.live_handle is not None:
                self.live_handle.update(self.live_view)  # cleared: the record takes its place
            for callback in self._when_drawn:
                callback()
            self._drawn.set()
            self._throttle.close()

    def _show_button(self, snap: BatchSnapshot) -> None:
        button = self.stop_button
        if snap.finished is not None:  # nothing left to stop: no longer a red call to action
            button.disabled, button.button_style = True, ""
            button.description = "Stopped" if snap.finished.status == "stopped" else "Finished"
        elif self._stop_asked:
            button.disabled, button.description = True, "Stopping"

    # -- the static record -------------------------------------------------------------------

    def _write_record(self, snap: BatchSnapshot) -> None:
        """Rewrite the record when the results changed, at most every RECORD_INTERVAL seconds
        (always at the end), so that a save or an export keeps the latest state."""
        version, when = self._recorded
        now = time.monotonic()
        due = snap.finished is not None or now - when >= RECORD_INTERVAL
        if self.record_handle is None or snap.version == version or not due:
            return
        self._recorded = (snap.version, now)
        self.record_handle.update(self.record_view)

    def record_bundle(self, snap: BatchSnapshot | None = None) -> dict[str, Any]:
        snap = snap or self._snap
        rows = snap.top(self.top)
        table = record.table_html(self.table.columns, self.table.rows, self.table.caption, self.table.details)
        csv = compare.to_csv(snap.ranked())
        from hpwidgets.core.processes.watch import WatchedBatch  # a batch another process runs

        ended = snap.finished is not None or snap.counts().finished  # nothing left for --resume: no hint
        note = snap.missing_objective() or record.snapshot_note(ended, self.batch.id,
                                                                elsewhere=isinstance(self.batch, WatchedBatch))
        text = record.record_html(self.key, self.batch.describe(), progress_text(snap), self.png, table, csv,
                                  self.csv_name, note, " ".join(self.image._dom_classes), self.curves_png,
                                  self.curves_text, self.curves.css_width)
        plain = f"{self.batch.describe().splitlines()[0]}\n{progress_text(snap)}\n" + compare.table(rows)
        return record.bundle(text, self.png, plain)

    def live_bundle(self) -> dict[str, Any]:
        """The widget view alone (its fallbacks are the record's job); nothing once the batch ended."""
        if self._drawn.is_set() or self._snap.finished is not None:
            return {"text/plain": ""}
        view = self.widget._repr_mimebundle_()["application/vnd.jupyter.widget-view+json"]
        return {"application/vnd.jupyter.widget-view+json": view, "text/plain": ""}

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The widget view where widgets run; the record everywhere else."""
        return {**self.record_bundle(), **self.live_bundle(), "text/plain": self.record_bundle()["text/plain"]}


class CellOutput:
    """One of a dashboard's two outputs in its cell: its static record, or its live view."""

    def __init__(self, dashboard: Dashboard, part: str) -> None:
        self.dashboard, self.part = dashboard, part

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        if self.part == "record":
            return self.dashboard.record_bundle(self.dashboard._snap)
        return self.dashboard.live_bundle()


def show_dashboard(batch: Any, truth: Callable[..., Any] | None = None, top: int = 5) -> Dashboard:
    """Display a live dashboard for ``batch`` in the current cell (start the batch after)."""
    from IPython.display import display

    dashboard = Dashboard(batch, truth=truth, top=top)
    dashboard.record_handle = display(dashboard.record_view, display_id=True)
    dashboard.live_handle = display(dashboard.live_view, display_id=True)
    _shown.add(batch.id)
    return dashboard
