"""The dashboard's live view of a search with many flags, and the choice of view by flag count.

One to three searched flags keep ``LivePlot`` (pictures/plot.py): one flag, the objective along
it with the true curve and the surrogate; two or three, a panel per flag, where each is still
readable, and the best so far. From ``MANY`` flags on, per-flag panels turn into small clouds
that hide what matters, so the view becomes parallel coordinates of the completed trials
coloured by the objective beside the objective and best so far by trial. Same contract as
``LivePlot``: ``key(snapshot)`` says whether the picture would change, ``render(snapshot)``
draws the PNG; axes, ticks and colour bar are a cached background redrawn only when the
colour range grows, so a redraw at 1,000 trials stays within 30 ms (bench/bench_plot.py).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from hpwidgets.core.records import RunRecord
from hpwidgets.core.results.formats import number
from hpwidgets.core.results.read_model import BatchSnapshot
from hpwidgets.core.search.explain import view_space
from hpwidgets.pictures.axes import grow_limits
from hpwidgets.pictures.flagplots import Scale
from hpwidgets.pictures.plot import LivePlot

MANY = 4  # searched flags from which the dashboard draws parallel coordinates


def live_plot(plan: Any, truth: Callable[..., Any] | None = None, *, priors: Sequence[RunRecord] = ()) -> Any:
    """The dashboard's view for this plan's number of searched flags."""
    if truth is not None or len(plan.searched) < MANY:  # a truth needs one flag: LivePlot says so
        return LivePlot(plan, truth, priors=priors)
    return ManyFlagsPlot(plan)


class ManyFlagsPlot:
    def __init__(self, plan: Any, width: float = 7.5, dpi: int = 80) -> None:
        self.plan, self.dpi = plan, dpi
        space = view_space(plan)
        self.names = list(space)
        self.scales = [Scale(space[n]) for n in self.names]
        self.legend: list[str] = []  # what the dashboard looks for: no true curve here
        self.points = 0
        self._units: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()  # matplotlib is not thread-safe: one drawer at a time
        self._limits: tuple[float, float] | None = None
        self._conv_limits: tuple[float, float] | None = None
        self._background: Any = None
        self._background_key: Any = None
        self._build(width)

    @staticmethod
    def key(snap: BatchSnapshot) -> int:
        return len(snap.completed())

    def _build(self, width: float) -> None:
        height = 3.2
        fig = self.figure = Figure(figsize=(width, height), dpi=self.dpi)
        self.canvas = FigureCanvasAgg(fig)
        fig.subplots_adjust(left=0.04, right=0.97, bottom=0.16, top=0.86, wspace=0.3)
        grid = fig.add_gridspec(1, 20)
        ax = self.ax = fig.add_subplot(grid[0, :12])
        conv = self.conv = fig.add_subplot(grid[0, 14:])
        xs = np.arange(len(self.names) + 1)
        self.xs = xs
        for x, scale in zip(xs, self.scales):
            ax.axvline(x, color="0.35", lw=0.7)
            for y, label in scale.ticks():
                ax.text(x + 0.04, y, label, fontsize=6, va="center", ha="left")
        ax.axvline(xs[-1], color="0.35", lw=0.7)
        objective = self.plan.objective
        ax.set_xticks(xs, [*self.names, objective.name], fontsize=7, rotation=30)
        ax.set_xlim(-0.15, xs[-1] + 0.6)
        ax.set_ylim(-0.05, 1.05)
        ax.set_yticks([])
        self.cmap = "viridis_r" if objective.direction == "min" else "viridis"
        self.lines = LineCollection([], cmap=self.cmap, linewidths=0.9, alpha=0.75)
        ax.add_collection(self.lines)
        self._layer: set[str] = set()  # the runs whose lines the cached background holds
        self.top = ax.plot([], [], "-", color="C3", lw=2.0, label="best")[0]
        self._objective_ticks = [ax.text(xs[-1] + 0.04, y, "", fontsize=6, va="center", ha="left")
                                 for y in (0.0, 0.5, 1.0)]
        conv.tick_params(labelsize=7)
        conv.set_xlabel("trial", fontsize=8)
        conv.set_ylabel(objective.name, fontsize=8)
        conv.set_xlim(0.5, max(self.plan.total, 1) + 0.5)
        self.dots = conv.plot([], [], "o", ms=2.5, color="C0", alpha=0.5)[0]
        self.best = conv.plot([], [], "-", color="C3", lw=1.4, drawstyle="steps-post")[0]
        self.title = fig.suptitle("", fontsize=9, x=0.01, ha="left")
        for artist in (self.lines, self.top, self.dots, self.best, self.title):
            artist.set_animated(True)

    def _unit(self, record: RunRecord) -> np.ndarray:
        """A completed run's place on each flag's axis, worked out once."""
        found = self._units.get(record.id)
        if found is None:
            found = self._units[record.id] = np.array(
                [s.unit(record.flags[n]) if n in record.flags else np.nan for n, s in zip(self.names, self.scales)])
        return found

    def render(self, snap: BatchSnapshot) -> bytes:
        scored = snap.scored()
        values = np.array([v for v, _ in scored], float)
        trials = np.array([(r.trial or 0) + 1.0 for _, r in scored])
        units = np.array([self._unit(r) for _, r in scored]).reshape(len(scored), len(self.names))
        ids = [r.id for _, r in scored]
        best = [ids.index(snap.best.id)] if snap.best is not None else []
        with self._lock:
            self.points = len(scored)
            self._update(values, trials, best)
            return self._png(ids, values, units, best)

    def _update(self, values: np.ndarray, trials: np.ndarray, best: list[int]) -> None:
        objective = self.plan.objective
        self._limits = grow_limits(self._limits, values)
        lo, hi = self._limits or (0.0, 1.0)
        self.lines.set_norm(Normalize(lo, hi))
        for text, y in zip(self._objective_ticks, (0.0, 0.5, 1.0)):
            text.set_text(number(lo + y * (hi - lo)) if self._limits else "")
        at = np.argsort(trials, kind="stable")  # parallel trials finish out of order
        self.dots.set_data(trials[at], values[at])
        self.best.set_data(trials[at], objective.best_so_far(values[at].tolist()))
        self._conv_limits = grow_limits(self._conv_limits, values)
        if self._conv_limits is not None:
            self.conv.set_ylim(*self._conv_limits)
        head = f"{len(values)} completed of {self.plan.total} trials"
        if best:
            head += f"; best {objective.name} {number(values[best[0]])}"
        self.title.set_text(head)

    def _segments(self, values: np.ndarray, units: np.ndarray) -> np.ndarray:
        lo, hi = self._limits or (0.0, 1.0)
        ys = np.column_stack([units, (values - lo) / ((hi - lo) or 1.0)])
        return np.stack([np.broadcast_to(self.xs, ys.shape), ys], axis=2)

    def _png(self, ids: list[str], values: np.ndarray, units: np.ndarray, best: list[int]) -> bytes:
        """Trials' lines never change once drawn: they join the cached background, and an update
        draws only the new ones, unless the limits (and so the colours) changed."""
        key = (self._limits, self.conv.get_ylim())
        renderer = self.canvas.get_renderer()
        if key != self._background_key:
            self.canvas.draw()  # axes, ticks, labels: everything not animated
            new = np.ones(len(ids), bool)
            self._layer = set()
        else:
            self.canvas.restore_region(self._background)
            new = np.array([i not in self._layer for i in ids], bool)
        if new.any():
            order = np.argsort([-self.plan.objective.minimized(v) for v in values[new]], kind="stable")
            self.lines.set_segments(self._segments(values[new], units[new])[order])
            self.lines.set_array(values[new][order])  # the best of these on top
            self.lines.draw(renderer)
            self._layer.update(i for i, fresh in zip(ids, new) if fresh)
        if new.any() or key != self._background_key:
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            self._background_key = key
        if best:
            self.top.set_data(self.xs, self._segments(values[best], units[best])[0, :, 1])
        else:
            self.top.set_data([], [])
        for artist in (self.top, self.dots, self.best, self.title):
            artist.draw(renderer)
        width, height = self.canvas.get_width_height()
        image = PIL.Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "png", compress_level=1)  # speed over size
        return buffer.getvalue()
