"""The live dashboard of a batch: plan, progress line, Stop, plot and top-N table.

The engine folds every event into the batch's read model (core/results.py) before anyone else
hears it. The dashboard's event handler, on the batch thread, only pokes a Throttle; the
Throttle's thread is the one thread that changes the widgets after the constructor: it reads a
snapshot and redraws at most a few times a second. The Stop button (kernel thread) only asks the
batch to stop and pokes, so "Stopping" can never overwrite "Stopped". When the batch ends, the
last frame is drawn and the cell's display refreshed with a static PNG and HTML table beside
the widget view, for nbconvert and reopened notebooks.
"""

from __future__ import annotations

import base64
import html
import threading
from collections.abc import Callable
from typing import Any

from ipywidgets import HTML, Button, HBox, Image, Layout, VBox

from ..core.errors import OptionError
from ..core.progress import progress_text
from ..core.results import BatchSnapshot
from .plot import LivePlot
from .table import RunsTable
from .throttle import Throttle

__all__ = ["Dashboard", "show_dashboard"]


class Dashboard:
    def __init__(self, batch: Any, truth: Callable[..., Any] | None = None, top: int = 5,
                 interval: float = 0.25) -> None:
        if top < 1:
            raise OptionError("top", top, "a positive integer")
        self.batch, self.top = batch, top
        self.plot = LivePlot(batch.plan, truth, priors=batch.priors)
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
        self.table = RunsTable(lambda: self.batch.snapshot().runs, csv_name=f"hpw-{batch.id[:8]}.csv")
        bar = HBox([self.progress, self.stop_button], layout=Layout(align_items="center"))
        self.widget = VBox([self.header, bar, self.image, self.table]).add_class("hpw-dashboard")
        self.handle: Any = None  # the cell's DisplayHandle, refreshed when the batch ends
        self._stop_asked = False
        self._shown_version = -1
        self._plotted: Any = None
        self._snap: BatchSnapshot = batch.snapshot()
        self._drawn = threading.Event()
        self._when_drawn: list[Callable[[], None]] = []
        self._throttle = Throttle(self._refresh, interval)
        self._refresh()  # the first frame, before any other thread can draw
        batch.events.subscribe(self._on_event)

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
            top = snap.top(self.top)
            self.table.show(top, self._caption(snap, len(top)))
        if self.plot.key(snap) != self._plotted:  # output lines and starts leave the plot as it is
            self._plotted = self.plot.key(snap)
            self.png = self.plot.render(snap)
            self.image.value = self.png
        self._show_button(snap)
        if snap.finished is not None and not self._drawn.is_set():
            if self.handle is not None:
                self.handle.update(self)
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

    @staticmethod
    def _caption(snap: BatchSnapshot, shown: int) -> str:
        objective = snap.objective
        return f"Top {shown} of {len(snap.runs)} runs by {objective.name} ({objective.order})"

    # -- static fallback -------------------------------------------------------------------

    def to_html(self) -> str:
        picture = base64.b64encode(self.png).decode("ascii")
        return ('<div class="hpw-dashboard">'
                f'<pre class="hpw-plan">{html.escape(self.batch.describe())}</pre>'
                f'<div class="hpw-progress">{html.escape(progress_text(self._snap))}</div>'
                f'<img class="hpw-plot" alt="hpwidgets plot" src="data:image/png;base64,{picture}">'
                f'<div class="hpw-table">{self.table.to_html()}</div></div>')

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The widget view where widgets run; a PNG and an HTML table everywhere else."""
        data = dict(self.widget._repr_mimebundle_() or {})
        data["text/plain"] = f"{self.batch.plan.header()}\n{progress_text(self._snap)}"
        data["image/png"] = base64.b64encode(self.png).decode("ascii")
        data["text/html"] = self.to_html()
        return data


def show_dashboard(batch: Any, truth: Callable[..., Any] | None = None, top: int = 5) -> Dashboard:
    """Display a live dashboard for ``batch`` in the current cell (start the batch after)."""
    from IPython.display import display

    dashboard = Dashboard(batch, truth=truth, top=top)
    dashboard.handle = display(dashboard, display_id=True)
    return dashboard
