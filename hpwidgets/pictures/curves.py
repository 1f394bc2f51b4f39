"""The learning-curves panel: the objective against step, one line per trial.

Running trials are drawn bold, each in its own colour; finished ones faded grey; pruned ones
faded red, ending in a red cross. It draws a snapshot of the batch's read model
(core/results/read_model.py) and derives nothing itself. As in plot.py, artists are made once and only
their data change. Finished curves never change, so they are drawn with the axes into a
cached background, redrawn only when a trial ends or the limits grow; each update blits just
the running lines over it: a redraw at 100 trials of 100 steps stays within the 30 ms budget
(bench/bench_curves.py).
"""

from __future__ import annotations

import io
import threading
from typing import Any

import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from hpwidgets.core.records import RunRecord, Status
from hpwidgets.core.results.read_model import BatchSnapshot
from hpwidgets.pictures.axes import grow_limits

FADED = (0.55, 0.55, 0.55, 0.35)
PRUNED = (0.84, 0.15, 0.16, 0.35)
PALETTE = [f"C{i}" for i in range(10)]


def points(curve: Any) -> np.ndarray:
    """(step, value) pairs as an n x 2 array; a trial that prints no step: its n-th value is step n."""
    if not curve:
        return np.empty((0, 2))
    steps = [s if s is not None else i for i, (s, _v) in enumerate(curve, 1)]
    return np.column_stack([np.asarray(steps, float), np.asarray([v for _s, v in curve], float)])


PIXEL_RATIO = 2  # the device pixel ratio drawn for: a laptop's or a high-density monitor's


class CurvesPlot:
    """``render(snapshot)`` draws the PNG; ``key(snapshot)`` tells whether it would change."""

    def __init__(self, plan: Any, width: float = 4.6, height: float = 3.0, dpi: int = 80,
                 pixel_ratio: int = PIXEL_RATIO) -> None:
        self.plan = plan
        self._lock = threading.Lock()  # matplotlib is not thread-safe: one drawer at a time
        self._finished: dict[str, np.ndarray] = {}  # a finished run's points never change
        # Drawn at ``pixel_ratio`` pixels per CSS pixel and shown at ``css_width``: sharp on a
        # high-density screen, never upscaled by its box.
        self.css_width = round(width * dpi)
        self.figure = Figure(figsize=(width, height), dpi=dpi * pixel_ratio)
        self.canvas = FigureCanvasAgg(self.figure)
        self.figure.subplots_adjust(left=0.9 / width, right=1 - 0.15 / width, bottom=0.5 / height,
                                    top=1 - 0.3 / height)
        ax = self.ax = self.figure.add_subplot()
        ax.tick_params(labelsize=8)
        ax.set_xlabel("step", fontsize=9)
        ax.set_ylabel(plan.objective.name, fontsize=9)
        self._done = LineCollection([], linewidths=0.8)
        self._live = LineCollection([], linewidths=1.8)
        ax.add_collection(self._done)
        ax.add_collection(self._live)
        self._crosses = ax.plot([], [], "x", ms=6, mew=1.5, color="C3")[0]
        self._title = self.figure.suptitle("", fontsize=9, x=0.01, ha="left")
        self._animated = [self._live, self._title]  # the rest lives in the cached background
        for artist in self._animated:
            artist.set_animated(True)
        self._ylim: tuple[float, float] | None = None
        self._xmax = 10.0
        ax.set_xlim(0, self._xmax)
        self._background: Any = None
        self._background_key: Any = None
        self._done_count = -1
        self.lines = {"running": 0, "finished": 0, "pruned": 0}  # what the last picture drew

    @staticmethod
    def key(snap: BatchSnapshot) -> int:
        return snap.version  # every printed scalar moves a curve

    @staticmethod
    def has_curves(snap: BatchSnapshot) -> bool:
        """True once some trial reported its objective at two steps: a curve, not a point."""
        return any(len(snap.curve(r.id)) > 1 for r in snap.runs)

    def _points(self, record: RunRecord, snap: BatchSnapshot) -> np.ndarray:
        if not record.status.is_finished():
            return points(snap.curve(record.id))
        if record.id not in self._finished:
            self._finished[record.id] = points(snap.curve(record.id))
        return self._finished[record.id]

    def render(self, snap: BatchSnapshot) -> bytes:
        with self._lock:
            done, done_colors, live, live_colors, ends = [], [], [], [], []
            for record in snap.runs:
                xy = self._points(record, snap)
                if not len(xy):
                    continue
                if record.status is Status.RUNNING:
                    live.append(xy)
                    live_colors.append(PALETTE[(record.trial or 0) % len(PALETTE)])
                    continue
                done.append(xy)
                pruned = record.status is Status.PRUNED
                done_colors.append(PRUNED if pruned else FADED)
                if pruned:
                    ends.append(xy[-1])
            if len(done) != self._done_count:  # a trial ended: the background changes
                self._done_count = len(done)
                self._done.set_segments(done)
                self._done.set_color(done_colors)
            self._live.set_segments(live)
            self._live.set_color(live_colors)
            cross = np.array(ends) if ends else np.empty((0, 2))
            self._crosses.set_data(cross[:, 0], cross[:, 1])
            self.lines = {"running": len(live), "finished": len(done) - len(ends), "pruned": len(ends)}
            self._limits(done + live)
            self._title.set_text(f"{self.plan.objective.name} by step: {len(live)} running, "
                                 f"{len(done) - len(ends)} finished, {len(ends)} pruned (x)")
            self._blit()
            width, height = self.canvas.get_width_height()
            image = PIL.Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
            buf = io.BytesIO()
            image.convert("RGB").save(buf, "png", compress_level=1)
            return buf.getvalue()

    def _limits(self, curves: list[np.ndarray]) -> None:
        """Limits that only widen, so that most updates keep the cached background."""
        if not curves:
            return
        last = max(float(c[-1, 0]) for c in curves)
        if last > self._xmax:
            while last > self._xmax:
                self._xmax *= 2
            self.ax.set_xlim(0, self._xmax)
        fresh = np.concatenate([c[:, 1] for c in curves])
        self._ylim = grow_limits(self._ylim, fresh)
        if self._ylim is not None:
            self.ax.set_ylim(*self._ylim)

    def _blit(self) -> None:
        key = (self.ax.get_xlim(), self.ax.get_ylim(), self._done_count)
        if key != self._background_key:
            self.canvas.draw()  # axes, ticks, labels and the finished curves: all not animated
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            self._background_key = key
        else:
            self.canvas.restore_region(self._background)
        renderer = self.canvas.get_renderer()
        for artist in self._animated:
            artist.draw(renderer)
