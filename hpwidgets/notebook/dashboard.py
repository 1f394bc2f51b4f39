"""The live dashboard of a batch: plan, progress line, Stop, plot and top-N table.

It subscribes to the batch's events (frozen records, on the batch thread), folds them into a
BatchState and lets a Throttle thread push the widgets a few times a second. When the batch
ends, the last frame is drawn on the batch thread and the cell's display is refreshed with a
static PNG and HTML table beside the widget view, for nbconvert and reopened notebooks.
"""

from __future__ import annotations

import base64
import html
import threading
from collections.abc import Callable
from typing import Any

from ipywidgets import HTML, Button, HBox, Image, Layout, VBox

from ..core.errors import OptionError
from ..core.events import BatchFinished, ModelUpdated, TrialFinished
from .plot import LivePlot
from .state import BatchState
from .table import RunsTable
from .throttle import Throttle

__all__ = ["Dashboard", "show_dashboard"]


class Dashboard:
    def __init__(self, batch: Any, truth: Callable[..., Any] | None = None, top: int = 5,
                 interval: float = 0.25) -> None:
        if top < 1:
            raise OptionError("--top", top, "a positive integer")
        plan = batch.plan
        self.batch, self.top = batch, top
        self.state = BatchState(plan)
        self.plot = LivePlot(plan, truth)
        self.png = b""
        self.header = HTML(f'<pre class="hpw-plan" style="margin:0">{html.escape(plan.text())}</pre>')
        self.progress = HTML(layout=Layout(flex="1 1 auto")).add_class("hpw-progress")
        self.stop_button = Button(description="Stop", icon="stop", button_style="danger",
                                  tooltip="Kill the running trials; keep the finished runs",
                                  layout=Layout(width="auto", flex="0 0 auto"))  # the line keeps the room
        self.stop_button.add_class("hpw-stop")
        self.stop_button.on_click(self._on_stop)
        self.image = Image(format="png").add_class("hpw-plot")
        if "true curve" in self.plot.legend:  # the PNG alone tells a page (and its tests) nothing
            self.image.add_class("hpw-truth")
        self.table = RunsTable(self.state.records, csv_name=f"hpw-{batch.id[:8]}.csv")
        bar = HBox([self.progress, self.stop_button], layout=Layout(align_items="center"))
        self.widget = VBox([self.header, bar, self.image, self.table]).add_class("hpw-dashboard")
        self.handle: Any = None  # the cell's DisplayHandle, refreshed when the batch ends
        self._ui_lock = threading.Lock()  # the refresh thread and the batch's last event both draw
        self._shown_version = -1
        self._plotted = -1
        self._done = threading.Event()
        self._throttle = Throttle(self._refresh, interval)
        for record in batch.runs:  # a resumed batch starts with its finished trials
            self.state.apply(TrialFinished(record))
            self.plot.add(record)
        self._refresh()
        batch.events.subscribe(self._on_event)

    # -- events (batch thread) -------------------------------------------------------------

    def _on_event(self, event: Any) -> None:
        self.state.apply(event)
        if isinstance(event, TrialFinished):
            self.plot.add(event.record)
        elif isinstance(event, ModelUpdated):
            self.plot.set_model(event.xs, event.mean, event.std)
        if not isinstance(event, BatchFinished):
            self._throttle.poke()
            return
        try:  # the last frame, drawn here so that `--wait` returns with it in the cell
            self._throttle.close()
            self._refresh()
            self.stop_button.disabled = True
            self.stop_button.button_style = ""  # nothing left to stop: no longer a red call to action
            self.stop_button.description = "Stopped" if event.status == "stopped" else "Finished"
            if self.handle is not None:
                self.handle.update(self)
        finally:
            self._done.set()

    def _refresh(self) -> None:
        with self._ui_lock:
            text = self.state.progress_text()
            version = self.state.version
            plotted = self.plot.version
            self.progress.value = f'<span style="font-family:monospace">{html.escape(text)}</span>'
            if version != self._shown_version:
                self._shown_version = version
                top = self.state.top(self.top)
                self.table.show(top, self._caption(len(top)))
            if plotted != self._plotted:  # output lines and starts leave the plot as it is
                self._plotted = plotted
                self.png = self.plot.render()
                self.image.value = self.png

    def _caption(self, shown: int) -> str:
        plan = self.state.plan
        order = "lowest" if plan.direction == "min" else "highest"
        total = len(self.state.records())
        return f"Top {shown} of {total} runs by {plan.objective} ({order} first)"

    # -- actions (kernel thread) -----------------------------------------------------------

    def _on_stop(self, _button: Any = None) -> None:
        self.stop_button.disabled = True
        self.stop_button.description = "Stopping"
        self.batch.stop()

    def wait_drawn(self, timeout: float | None = None) -> bool:
        """True once the last frame after the batch's end is drawn."""
        return self._done.wait(timeout)

    # -- static fallback -------------------------------------------------------------------

    def to_html(self) -> str:
        picture = base64.b64encode(self.png).decode("ascii")
        return ('<div class="hpw-dashboard">'
                f'<pre class="hpw-plan">{html.escape(self.state.plan.text())}</pre>'
                f'<div class="hpw-progress">{html.escape(self.state.progress_text())}</div>'
                f'<img class="hpw-plot" alt="hpwidgets plot" src="data:image/png;base64,{picture}">'
                f'<div class="hpw-table">{self.table.to_html()}</div></div>')

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The widget view where widgets run; a PNG and an HTML table everywhere else."""
        data = dict(self.widget._repr_mimebundle_() or {})
        data["text/plain"] = f"{self.state.plan.header()}\n{self.state.progress_text()}"
        data["image/png"] = base64.b64encode(self.png).decode("ascii")
        data["text/html"] = self.to_html()
        return data


def show_dashboard(batch: Any, truth: Callable[..., Any] | None = None, top: int = 5) -> Dashboard:
    """Display a live dashboard for ``batch`` in the current cell (start the batch after)."""
    from IPython.display import display

    dashboard = Dashboard(batch, truth=truth, top=top)
    dashboard.handle = display(dashboard, display_id=True)
    return dashboard
