"""The live plot: a matplotlib Figure (never pyplot) drawn to PNG bytes for an ipywidgets.Image.

One searched flag: the loss of each trial against the flag, the true curve, the best point and,
for a Bayesian search, the surrogate mean with a ±2σ band. Several flags: loss against each flag
plus a best-so-far panel. Earlier runs taken as priors are drawn as hollow grey circles; pruned
trials as red crosses at their last reported value.
It draws a snapshot of the batch's read model (core/results/read_model.py) and derives nothing itself.
Artists are made once and only their data change, so a redraw at 1,000 points stays within the
30 ms budget (bench/bench_plot.py measures it).
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from hpwidgets.core.errors import OptionError
from hpwidgets.core.records import RunRecord
from hpwidgets.core.results.formats import number
from hpwidgets.core.results.read_model import BatchSnapshot
from hpwidgets.pictures.axes import FlagAxis, grow_limits, truth_curve


class LivePlot:
    """``render(snapshot)`` draws the PNG; ``key(snapshot)`` tells whether it would change."""

    def __init__(self, plan: Any, truth: Callable[..., Any] | None = None, *, priors: Sequence[RunRecord] = (),
                 width: float = 7.5, dpi: int = 80) -> None:
        self.plan = plan
        self.dpi = dpi
        dims = {**plan.grid, **plan.space}
        self.axes = [FlagAxis(name, dims[name]) for name in plan.searched]
        self._draw_lock = threading.Lock()  # matplotlib is not thread-safe: one drawer at a time
        self._model_drawn: Any = None
        self.points = 0  # the batch's points in the last picture
        self._points: dict[str, tuple[float, ...]] = {}
        self.priors = [r for r in priors if plan.objective.value(r) is not None]
        self._prior_values = np.array([plan.objective.value(r) for r in self.priors], dtype=float)
        self._truth: tuple[np.ndarray, np.ndarray] | None = None
        if truth is not None:
            if len(self.axes) != 1 or not self.axes[0].numeric:
                searched = ", ".join(plan.searched) or "none"
                raise OptionError("truth", getattr(truth, "__name__", repr(truth)),
                                  f"a batch that searches one numeric flag (this one searches: {searched})")
            xs = self.axes[0].grid()
            self._truth = (xs, truth_curve(truth, xs))
        self._build(width)

    @staticmethod
    def key(snap: BatchSnapshot) -> tuple[int, int, int]:
        """What the picture shows of a snapshot: starts and output lines leave it as it is."""
        return len(snap.completed()), id(snap.model), len(snap.pruned())

    def _point(self, index: int, record: RunRecord) -> tuple[float, ...]:
        """A completed run as (value, trial number, position on each axis), worked out once:
        a completed run never changes."""
        point = self._points.get(record.id)
        if point is None:
            trial = record.trial if record.trial is not None else index
            point = (self.plan.objective.value(record), trial + 1.0,
                     *(axis.position(record.flags.get(axis.name)) for axis in self.axes))
            self._points[record.id] = point
        return point

    # -- drawing ---------------------------------------------------------------------------

    def _build(self, width: float) -> None:
        single = len(self.axes) == 1
        panels = len(self.axes) + (0 if single else 1)
        ncols = 2 if panels == 4 else min(panels, 3)
        nrows = math.ceil(panels / ncols)
        height = 3.0 if nrows == 1 else 2.5 * nrows
        self.figure = Figure(figsize=(width, height), dpi=self.dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        # Fixed margins in inches: a layout engine would cost more than the drawing itself. The
        # left one fits the y label beside 7-character ticks (0.00015, -0.125), which 0.65 in cut off.
        right = 1.45 if single else 0.15  # one flag keeps its legend outside, off the points
        self.figure.subplots_adjust(left=0.9 / width, right=1 - right / width, bottom=0.5 / height,
                                    top=1 - 0.3 / height, wspace=0.35, hspace=0.55)
        grid = self.figure.subplots(nrows, ncols, squeeze=False).ravel()
        for extra in grid[panels:]:
            extra.set_visible(False)
        self._flag_panels = [self._flag_panel(grid[i], axis, i % ncols == 0) for i, axis in enumerate(self.axes)]
        self._pruned_marks = [ax.plot([], [], "x", ms=6, mew=1.5, color="C3", zorder=4)[0]
                              for ax, _points, _best in self._flag_panels]
        self._mean = self._truth_line = self._band = None
        self.legend: list[str] = []  # the legend's labels: what the plot draws (one flag only)
        if single:
            self._one_flag_extras(grid[0])
        self._conv = None if single else self._convergence_panel(grid[len(self.axes)])
        self._title = self.figure.suptitle("", fontsize=9, x=0.01, ha="left")
        self._ylim: tuple[float, float] | None = None
        self._conv_ylim: tuple[float, float] | None = None
        self._background: Any = None
        self._background_key: Any = None
        for artist in self._animated():
            artist.set_animated(True)  # drawn over the cached background at each update

    def _flag_panel(self, ax: Any, axis: FlagAxis, first_column: bool) -> tuple[Any, Any, Any]:
        ax.tick_params(labelsize=8)
        ax.set_xlabel(axis.name, fontsize=9)
        if first_column:
            ax.set_ylabel(self.plan.objective.name, fontsize=9)
        if axis.log:
            ax.set_xscale("log")
        if not axis.numeric:
            ax.set_xticks(range(len(axis.labels)), axis.labels)
        ax.set_xlim(*axis.limits())
        points = ax.plot([], [], "o", ms=4, color="C0", alpha=0.7, label="trials")[0]
        best = ax.plot([], [], "*", ms=14, color="C3", mec="black", mew=0.6, zorder=5, label="best")[0]
        if self.priors:  # static: drawn once with the axes, under the batch's own points
            values = np.array([self.plan.objective.value(r) for r in self.priors])
            xs = np.array([axis.position(r.flags.get(axis.name)) for r in self.priors], dtype=float)
            ax.plot(xs, values, "o", ms=5, mfc="none", mec="0.55", mew=0.9, zorder=1,
                    label=f"earlier runs ({len(self.priors)})")
        return ax, points, best

    def _one_flag_extras(self, ax: Any) -> None:
        """The true curve, the surrogate's mean (its band comes with each model) and a legend."""
        handles = list(self._flag_panels[0][1:])
        handles += [line for line in ax.get_lines() if line.get_label().startswith("earlier runs")]
        if self._truth is not None:
            self._truth_line = ax.plot(*self._truth, "-", color="0.2", lw=1.3, label="true curve")[0]
            handles.append(self._truth_line)
        if self.plan.is_bayesian:
            self._mean = ax.plot([], [], "--", color="C2", lw=1.4, label="surrogate mean")[0]
            handles += [self._mean, Patch(color="C2", alpha=0.2, label="±2σ")]
        self.legend = [h.get_label() for h in handles]
        ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)

    def _convergence_panel(self, ax: Any) -> tuple[Any, Any, Any]:
        ax.tick_params(labelsize=8)
        ax.set_xlabel("trial", fontsize=9)
        ax.set_ylabel(f"best {self.plan.objective.name}", fontsize=9)
        ax.set_xlim(0.5, max(self.plan.total, 1) + 0.5)
        dots = ax.plot([], [], "o", ms=3, color="C0", alpha=0.4)[0]
        line = ax.plot([], [], "-", color="C3", lw=1.5, drawstyle="steps-post")[0]
        return ax, dots, line

    def render(self, snap: BatchSnapshot) -> bytes:
        """The figure of this snapshot, as PNG bytes."""
        done = snap.completed()
        table = np.array([self._point(i, r) for i, r in enumerate(done)], dtype=float).reshape(len(done), 2 + len(self.axes))
        ys, trials = table[:, 0], table[:, 1]
        xs = [table[:, 2 + k] for k in range(len(self.axes))]
        best = snap.best
        pick = next((i for i, r in enumerate(done) if r is best), None)
        model = None
        if snap.model is not None:
            model = (np.asarray(snap.model.xs, float), np.asarray(snap.model.mean, float),
                     np.asarray(snap.model.std, float))
        pruned = snap.pruned()
        pruned_ys = np.array([snap.objective.told(r) for r in pruned], dtype=float)
        with self._draw_lock:
            self.points = len(done)
            for mark, axis in zip(self._pruned_marks, self.axes):
                mark.set_data([axis.position(r.flags.get(axis.name)) for r in pruned], pruned_ys)
            self._ylim = grow_limits(self._ylim, pruned_ys)
            self._update(ys, xs, trials, pick, model, snap.model)
            if len(pruned):
                self._title.set_text(f"{self._title.get_text()}; {len(pruned)} pruned (x: last value)")
            self._blit()
            width, height = self.canvas.get_width_height()
            image = PIL.Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
            buf = io.BytesIO()
            image.convert("RGB").save(buf, "png", compress_level=1)  # speed over size
            return buf.getvalue()

    def _blit(self) -> None:
        """Axes, ticks and labels are drawn once per y-limits; each update draws only the data."""
        key = tuple(ax.get_ylim() for ax in self.figure.axes)
        if key != self._background_key:
            self.canvas.draw()  # draws everything not animated
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            self._background_key = key
        else:
            self.canvas.restore_region(self._background)
        renderer = self.canvas.get_renderer()
        for artist in self._animated():
            artist.draw(renderer)

    def _animated(self) -> list[Any]:
        artists = [a for a in (self._band, self._truth_line, self._mean) if a is not None]
        for _ax, points, best in self._flag_panels:
            artists += [points, best]
        artists += self._pruned_marks
        if self._conv is not None:
            artists += self._conv[1:]
        return [*artists, self._title]

    def _update(self, ys: np.ndarray, xs: list[np.ndarray], trials: np.ndarray, best: int | None,
                model: Any, model_event: Any) -> None:
        pick = slice(best, best + 1) if best is not None else slice(0, 0)
        for (_ax, points, marker), x in zip(self._flag_panels, xs):
            points.set_data(x, ys)
            marker.set_data(x[pick], ys[pick])
        if self._flag_panels:
            seen = np.concatenate([ys, self._prior_values, *([] if self._truth is None else [self._truth[1]])])
            self._ylim = grow_limits(self._ylim, seen)  # the band may leave the axes: the data set the scale
            for ax, _points, _marker in self._flag_panels:
                if self._ylim is not None:
                    ax.set_ylim(*self._ylim)
        if self._mean is not None and model is not None:
            mx, mean, std = model
            self._mean.set_data(mx, mean)
            if model_event is not self._model_drawn:  # a band is a polygon: rebuild it when it changed
                if self._band is not None:
                    self._band.remove()
                ax = self._flag_panels[0][0]
                self._band = ax.fill_between(mx, mean - 2 * std, mean + 2 * std, color="C2", alpha=0.2, lw=0)
                self._band.set_animated(True)
                self._model_drawn = model_event
        if self._conv is not None:
            ax, dots, line = self._conv
            order = np.argsort(trials, kind="stable")  # parallel trials finish out of order
            t, y = trials[order], ys[order]
            dots.set_data(t, y)
            line.set_data(t, self.plan.objective.best_so_far(y))
            self._conv_ylim = grow_limits(self._conv_ylim, ys)
            if self._conv_ylim is not None:
                ax.set_ylim(*self._conv_ylim)
        count = f"{len(ys)} completed of {self.plan.total} trials"  # failed ones have no point
        if best is not None:
            count += f"; best {self.plan.objective.name} {number(ys[best])}"
        if self.priors:
            count += f"; {len(self.priors)} earlier runs as priors"
        self._title.set_text(count)
