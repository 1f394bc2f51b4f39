"""Views that explain a search with several flags, as matplotlib Figures (never pyplot).

``objective``: each trial's objective and the best so far against trial number.
``parallel``: parallel coordinates of the completed trials coloured by the objective (log axes
for log-uniform flags, categories as categories).
``importance``: each flag's share of the explained variance (core/search/explain.py says how).
``partial``: partial dependence on each flag from the GP surrogate with ±2σ and the trials,
and a contour of the two most important flags.
Each draws a snapshot of the read model (core/results/read_model.py) and derives nothing itself.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from hpwidgets.core.errors import NothingToDraw, OptionError
from hpwidgets.core.records import Status
from hpwidgets.core.results.formats import number
from hpwidgets.core.results.read_model import BatchSnapshot
from hpwidgets.core.search.explain import Explanation, view_space
from hpwidgets.core.search.space import Categorical, Dimension, Integer, Real

KINDS = ("objective", "parallel", "importance", "partial")
_CMAP = "viridis"


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise OptionError("kind", kind, ", ".join(KINDS[:-1]) + f" or {KINDS[-1]}")
    return kind


def figure(snapshot: BatchSnapshot, kind: str) -> Figure:
    """A new Figure of ``kind`` for the snapshot."""
    draw = {"objective": objective_figure, "parallel": parallel_figure,
            "importance": importance_figure, "partial": partial_figure}[check_kind(kind)]
    return draw(snapshot)


def png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer)
    return buffer.getvalue()


def _nothing(snapshot: BatchSnapshot, needs: str) -> NothingToDraw:
    scored = len(snapshot.scored())
    return NothingToDraw(f"{needs}; this batch has {scored} with a value of {snapshot.objective.name}")


def objective_figure(snapshot: BatchSnapshot, fig: Figure | None = None) -> Figure:
    fig = fig or Figure(figsize=(7, 3.6), dpi=100, layout="constrained")
    objective = snapshot.objective
    scored = snapshot.scored()
    if not scored:
        raise _nothing(snapshot, "the objective view needs a trial with a value")
    ax = fig.add_subplot()
    trials = np.array([(r.trial or 0) + 1 for _, r in scored], float)
    values = np.array([v for v, _ in scored])
    ax.scatter(trials, values, s=14, color="tab:blue", label=objective.name)
    pruned = snapshot.pruned()
    if pruned:  # at their last value, as the dashboard draws them; never the best so far
        ax.plot([(r.trial or 0) + 1 for r in pruned], [objective.told(r) for r in pruned], "x", ms=6, mew=1.5,
                color="C3", label=f"pruned ({len(pruned)}, last value)")
    ax.step(trials, objective.best_so_far(values.tolist()), where="post", color="tab:red",
            label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(objective.name)
    ax.set_title(f"{objective.name} by trial ({objective.verb})")
    ax.legend(loc="best", fontsize="small")
    return fig


class Scale:
    """One flag on a [0, 1] axis: log for log-uniform flags, categories by their index."""

    def __init__(self, dim: Dimension) -> None:
        self.dim = dim

    def unit(self, value: Any) -> float:
        dim = self.dim
        if isinstance(dim, Categorical):
            index = dim.choices.index(value) if value in dim.choices else math.nan
            return index / max(len(dim.choices) - 1, 1)
        lo, hi, v = float(dim.low), float(dim.high), float(value)
        if isinstance(dim, Real) and dim.log:
            lo, hi, v = math.log10(lo), math.log10(hi), math.log10(v)
        return 0.5 if hi == lo else (v - lo) / (hi - lo)

    def ticks(self) -> list[tuple[float, str]]:
        dim = self.dim
        if isinstance(dim, Categorical):
            return [(self.unit(c), str(c)) for c in dim.choices]
        if isinstance(dim, Real) and dim.log:
            decades = range(math.ceil(math.log10(dim.low) - 1e-9), math.floor(math.log10(dim.high) + 1e-9) + 1)
            return [(self.unit(10.0 ** k), f"1e{k:+03d}".replace("+", "")) for k in decades]
        values = [dim.low, dim.high] if isinstance(dim, Integer) else np.linspace(dim.low, dim.high, 3)
        return [(self.unit(v), number(float(v))) for v in values]


def parallel_figure(snapshot: BatchSnapshot, fig: Figure | None = None) -> Figure:
    fig = fig or Figure(figsize=(8, 4), dpi=100, layout="constrained")
    space = view_space(snapshot.plan)
    pruned = snapshot.pruned()
    scored = snapshot.scored() + [(snapshot.objective.told(r), r) for r in pruned]
    if not space:
        raise NothingToDraw("the parallel view needs a searched flag; this batch searches none")
    if not snapshot.scored():
        raise _nothing(snapshot, "the parallel view needs a trial with a value")
    names = list(space)
    scales = [Scale(space[n]) for n in names]
    values = np.array([v for v, _ in scored])
    lo, hi = float(values.min()), float(values.max())
    span = hi - lo or 1.0
    objective_axis = (values - lo) / span
    lines = np.array([[s.unit(r.flags.get(n)) for n, s in zip(names, scales)] for _, r in scored])
    lines = np.column_stack([lines, objective_axis])
    ax = fig.add_subplot()
    order = np.argsort(-np.array([snapshot.objective.minimized(v) for v in values]))  # best drawn last
    xs = np.arange(len(names) + 1)
    segments = [np.column_stack([xs, lines[i]]) for i in order]
    cmap = _CMAP + ("_r" if snapshot.objective.direction == "min" else "")  # the best is bright
    dashed = [(0, (3, 2)) if scored[i][1].status is Status.PRUNED else "solid" for i in order]
    collection = LineCollection(segments, cmap=cmap, norm=Normalize(lo, hi), linewidths=1.2, alpha=0.8,
                                linestyles=dashed)
    collection.set_array(values[order])
    ax.add_collection(collection)
    for x, scale in zip(xs, scales):
        ax.axvline(x, color="0.3", lw=0.8)
        for y, label in scale.ticks():
            ax.text(x + 0.03, y, label, fontsize=7, va="center", ha="left", gid="tick")
    ax.axvline(xs[-1], color="0.3", lw=0.8)
    for y, v in ((0.0, lo), (0.5, lo + span / 2), (1.0, hi)):
        ax.text(xs[-1] + 0.03, y, number(v), fontsize=7, va="center", ha="left", gid="tick")
    ax.set_xticks(xs, [*names, snapshot.objective.name])
    ax.set_xlim(-0.1, xs[-1] + 0.4)
    ax.set_ylim(-0.05, 1.05)
    ax.set_yticks([])
    fig.colorbar(collection, ax=ax, label=snapshot.objective.name)
    note = f" ({len(pruned)} pruned, dashed, at their last value)" if pruned else ""
    ax.set_title(f"{len(scored)} trials{note}, coloured by {snapshot.objective.name}")
    return fig


def importance_figure(snapshot: BatchSnapshot, fig: Figure | None = None) -> Figure:
    fig = fig or Figure(figsize=(6, 3.6), dpi=100, layout="constrained")
    found = snapshot.explanation()
    if found is None:
        raise _nothing(snapshot, "importance needs 3 completed trials and a searched flag")
    ax = fig.add_subplot()
    names = list(found.importance)
    shares = [found.importance[n] for n in names]
    ax.barh(range(len(names)), shares, color="tab:blue")
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()  # the most important on top
    ax.set_xlabel("share of the explained variance")
    ax.set_title("flag importance: variance of each flag's partial dependence (GP surrogate)", fontsize=9)
    return fig


def partial_figure(snapshot: BatchSnapshot, fig: Figure | None = None) -> Figure:
    found = snapshot.explanation()
    if found is None:
        raise _nothing(snapshot, "partial dependence needs 3 completed trials and a searched flag")
    count = len(found.names) + (found.contour is not None)
    columns = min(3, count)
    rows = math.ceil(count / columns)
    fig = fig or Figure(figsize=(3.3 * columns, 2.8 * rows), dpi=100, layout="constrained")
    objective = snapshot.objective.name
    trials = [(r.flags, v) for v, r in snapshot.scored()]
    for i, name in enumerate(found.names):
        ax = fig.add_subplot(rows, columns, i + 1)
        _partial_axes(ax, found, name, trials)
        ax.set_ylabel(objective if i % columns == 0 else "")
    if found.contour is not None:
        ax = fig.add_subplot(rows, columns, len(found.names) + 1)
        _contour_axes(fig, ax, found, trials)
    fig.suptitle(f"partial dependence of {objective} (GP surrogate, ±2σ; grey or hatched: beyond the trials)",
                 fontsize=10)
    return fig


def _positions(dim: Dimension, values: list) -> np.ndarray:
    if isinstance(dim, Categorical):
        return np.array([dim.choices.index(v) if v in dim.choices else math.nan for v in values], float)
    return np.array(values, float)


def _label_axis(ax: Any, dim: Dimension, axis: str = "x") -> None:
    if isinstance(dim, Categorical):
        ticks = range(len(dim.choices))
        (ax.set_xticks if axis == "x" else ax.set_yticks)(ticks, [str(c) for c in dim.choices])
    elif isinstance(dim, Real) and dim.log:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")


def _partial_axes(ax: Any, found: Explanation, name: str, trials: list) -> None:
    part = found.partials[name]
    xs = _positions(part.dim, list(part.xs))
    low, high = part.band
    if isinstance(part.dim, Categorical):
        for tried, face in ((True, "tab:blue"), (False, "white")):  # a choice never tried: hollow
            at = np.flatnonzero(part.tried == tried)
            if len(at):
                ax.errorbar(np.asarray(xs)[at], part.mean[at], yerr=[part.mean[at] - low[at], high[at] - part.mean[at]],
                            fmt="o", color="tab:blue", mfc=face, capsize=4)
    else:
        ax.fill_between(xs, low, high, color="tab:blue", alpha=0.2)
        ax.plot(xs, np.where(part.tried, part.mean, np.nan), color="tab:blue")
        ax.plot(xs, np.where(part.tried, np.nan, part.mean), color="tab:blue", linestyle=":")  # beyond the trials
        ax.fill_between(xs, 0, 1, where=~part.tried, transform=ax.get_xaxis_transform(), color="0.85",
                        alpha=0.5, linewidth=0)
    seen = [(f[name], v) for f, v in trials if name in f]
    if seen:
        ax.scatter(_positions(part.dim, [x for x, _ in seen]), [v for _, v in seen], s=8, color="0.3",
                   alpha=0.5, zorder=3)
    _label_axis(ax, part.dim)
    ax.set_xlabel(f"{name} ({found.importance[name]:.0%})")


def _contour_axes(fig: Figure, ax: Any, found: Explanation, trials: list) -> None:
    contour = found.contour
    a, b = contour.names
    dim_a, dim_b = found.partials[a].dim, found.partials[b].dim
    xs, ys = _positions(dim_a, list(contour.xs)), _positions(dim_b, list(contour.ys))
    filled = ax.contourf(xs, ys, contour.mean, levels=12, cmap=_CMAP + "_r")
    fig.colorbar(filled, ax=ax)
    if not contour.tried.all():  # beyond the trials' values of either flag: hatched
        ax.contourf(xs, ys, (~contour.tried).astype(float), levels=[0.5, 1.5], colors="none", hatches=["//"])
    seen = [(f[a], f[b]) for f, _ in trials if a in f and b in f]
    if seen:
        ax.scatter(_positions(dim_a, [p for p, _ in seen]), _positions(dim_b, [q for _, q in seen]),
                   s=8, color="k", alpha=0.6)
    _label_axis(ax, dim_a, "x")
    _label_axis(ax, dim_b, "y")
    ax.set_xlabel(a)
    ax.set_ylabel(b)
