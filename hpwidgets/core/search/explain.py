"""What explains a search with several flags: partial dependence and flag importance.

A Gaussian process (our own, ``optimizers/_gp.py``, the one the ``gp`` optimizer uses) is fitted
on the batch's completed trials in the unit cube of its search space. The partial dependence of
the objective on a flag is the surrogate's mean with the flag set to each value of a grid and
the other flags at each observed point, averaged over those points (as scikit-optimize's
``plot_objective`` does); its band is ±2 of the average posterior σ. A flag's importance is the
variance of its partial dependence curve over its range, normalised to sum to one: the
first-order (main-effect) term of a functional ANOVA decomposition of the surrogate. It reads in
objective units, treats log, integer and categorical flags alike, and agrees with the partial
plots drawn beside it; a flag that does nothing has a flat curve and an importance near 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpwidgets.core.search.space import Categorical, Dimension, Integer, Real

GRID = 40  # values along a flag for its curve
CONTOUR = 20  # values along each flag of the 2-D contour
AVERAGE_OVER = 60  # observed points the others are averaged over (a seeded sample beyond that)
MIN_TRIALS = 3


@dataclass(frozen=True)
class Partial:
    name: str
    dim: Dimension
    xs: tuple  # flag values (the choices of a categorical)
    mean: np.ndarray  # objective units
    sd: np.ndarray  # the average posterior σ along xs


@dataclass(frozen=True)
class Contour:
    names: tuple[str, str]
    xs: tuple
    ys: tuple
    mean: np.ndarray  # len(ys) x len(xs)


@dataclass(frozen=True)
class Explanation:
    names: tuple[str, ...]
    partials: dict[str, Partial]
    importance: dict[str, float]  # sums to 1, most important first
    contour: Contour | None
    method: str = "variance of the partial dependence (first-order functional ANOVA) on a GP surrogate"


def view_space(plan: Any) -> dict[str, Dimension]:
    """Every searched flag as a dimension: grid lists of numbers as a range, of words as choices."""
    dims: dict[str, Dimension] = dict(plan.space)
    for name, values in plan.grid.items():
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(values) > 1 and len(numbers) == len(values):
            dims[name] = Real(float(min(numbers)), float(max(numbers)))
        elif len(values) > 1:
            dims[name] = Categorical(tuple(values))
    return {n: dims[n] for n in sorted(dims)}


def explain(space: dict[str, Dimension], points: list[tuple[dict[str, Any], float]], sign: float = 1.0,
            seed: int = 0) -> Explanation | None:
    """The explanation of ``points`` (flags, objective value) in ``space``; None when fewer than
    ``MIN_TRIALS`` points fit it, or nothing is searched. ``sign`` is -1 for a maximized
    objective (the model always sees a minimized one); means come back in objective units."""
    from hpwidgets.core.search.optimizers.codec import Codec
    from hpwidgets.core.search.optimizers.gp_model import GP

    if not space:
        return None
    codec = Codec(space)
    rows = [(u, y) for flags, y in points if (u := codec.encode(flags)) is not None]
    if len(rows) < MIN_TRIALS:
        return None
    x = np.array([u for u, _ in rows])
    y = sign * np.array([v for _, v in rows])
    rng = np.random.default_rng(seed)
    gp = GP(codec.ncols)
    gp.fit(x, y, rng)
    base = x if len(x) <= AVERAGE_OVER else x[rng.choice(len(x), AVERAGE_OVER, replace=False)]
    partials = {}
    for name, dim, col in zip(codec.names, codec.dims, codec.cols):
        values = _grid(dim, GRID)
        mean, sd = _average(gp, base, [_columns(codec, dim, col, v) for v in values])
        partials[name] = Partial(name, dim, tuple(values), sign * mean, sd)
    spread = {n: float(np.var(p.mean)) for n, p in partials.items()}
    total = sum(spread.values()) or 1.0
    importance = dict(sorted(((n, s / total) for n, s in spread.items()), key=lambda item: -item[1]))
    contour = _contour(gp, codec, base, list(importance)[:2], sign) if len(space) >= 2 else None
    return Explanation(tuple(codec.names), partials, importance, contour)


def _grid(dim: Dimension, n: int) -> list:
    if isinstance(dim, Categorical):
        return list(dim.choices)
    if isinstance(dim, Integer):
        step = max(1, math.ceil((dim.high - dim.low + 1) / n))
        return list(range(dim.low, dim.high + 1, step))
    if dim.log:
        return [float(v) for v in np.geomspace(dim.low, dim.high, n)]
    return [float(v) for v in np.linspace(dim.low, dim.high, n)]


def _columns(codec: Any, dim: Dimension, col: slice, value: Any) -> tuple[slice, np.ndarray]:
    """The encoded columns of one flag at ``value``."""
    u = codec.encode({n: (value if d is dim else _any(d)) for n, d in zip(codec.names, codec.dims)})
    return col, u[col]


def _any(dim: Dimension) -> Any:
    return dim.choices[0] if isinstance(dim, Categorical) else dim.low


def _average(gp: Any, base: np.ndarray, settings: list[tuple[slice, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Surrogate mean and σ (objective units) averaged over ``base`` for each setting of columns."""
    stacked = np.repeat(base[None], len(settings), axis=0)  # settings x points x cols
    for i, (col, values) in enumerate(settings):
        stacked[i][:, col] = values
    flat = stacked.reshape(-1, base.shape[1])
    mu, sd = gp.predict(flat)
    mean, half = gp.to_units(mu, sd)
    shape = (len(settings), len(base))
    return mean.reshape(shape).mean(1), half.reshape(shape).mean(1)


def _contour(gp: Any, codec: Any, base: np.ndarray, names: list[str], sign: float) -> Contour:
    (i, j) = (codec.names.index(n) for n in names)
    dim_a, dim_b = codec.dims[i], codec.dims[j]
    xs, ys = _grid(dim_a, CONTOUR), _grid(dim_b, CONTOUR)
    small = base[: min(len(base), 30)]  # a 20 x 20 grid of averages stays cheap
    cols_a = [_columns(codec, dim_a, codec.cols[i], v) for v in xs]
    cols_b = [_columns(codec, dim_b, codec.cols[j], v) for v in ys]
    settings = [(a, b) for b in cols_b for a in cols_a]
    stacked = np.repeat(small[None], len(settings), axis=0)
    for k, ((ca, va), (cb, vb)) in enumerate(settings):
        stacked[k][:, ca] = va
        stacked[k][:, cb] = vb
    mu, sd = gp.predict(stacked.reshape(-1, small.shape[1]))
    mean, _ = gp.to_units(mu, sd)
    grid = mean.reshape(len(settings), len(small)).mean(1).reshape(len(ys), len(xs))
    return Contour((names[0], names[1]), tuple(xs), tuple(ys), sign * grid)
