"""What explains a search with several flags: partial dependence and flag importance.

A Gaussian process (our own, ``optimizers/gp_model.py``) is fitted on the batch's completed
trials in the unit cube of its search space. The views fit their own model rather than share
the ``gp`` optimizer's: the optimizer warps skewed targets and takes the worst value as its
prior mean, both right for choosing the next trial and both wrong for a picture (the warp's
inverse explodes past the observed values, and far from the trials the curve would sink to the
worst value). The views' model is standardised around the average, unwarped, and everything it
draws is clipped to the observed range widened by one span on each side; flag values beyond the
trials' own (outside the range a flag was tried in, or a choice never tried) are marked as
extrapolated. The partial dependence of
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
    mean: np.ndarray  # objective units, clipped to the Explanation's limits
    sd: np.ndarray  # the average posterior σ along xs
    band: tuple[np.ndarray, np.ndarray]  # mean ∓ 2 σ, clipped to the limits
    tried: np.ndarray  # False where xs lies beyond the trials' values of this flag (extrapolated)


@dataclass(frozen=True)
class Contour:
    names: tuple[str, str]
    xs: tuple
    ys: tuple
    mean: np.ndarray  # len(ys) x len(xs), clipped to the limits
    tried: np.ndarray  # len(ys) x len(xs): False where either flag is extrapolated


@dataclass(frozen=True)
class Explanation:
    names: tuple[str, ...]
    partials: dict[str, Partial]
    importance: dict[str, float]  # sums to 1, most important first
    contour: Contour | None
    limits: tuple[float, float]  # what may be drawn: the observed range widened by a span each side
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
    gp = GP(codec.ncols, onehot=codec.onehot_columns(), describe=True)
    gp.fit(x, y, rng)
    base = x if len(x) <= AVERAGE_OVER else x[rng.choice(len(x), AVERAGE_OVER, replace=False)]
    observed = [flags for flags, _ in points]
    span = float(y.max() - y.min()) or max(abs(float(y.max())), 1.0)
    low, high = sorted((sign * (float(y.min()) - span), sign * (float(y.max()) + span)))
    partials, spread = {}, {}
    for name, dim, col in zip(codec.names, codec.dims, codec.cols):
        values = _grid(dim, GRID)
        mean, sd = _average(gp, base, [_columns(codec, dim, col, v) for v in values])
        spread[name] = float(np.var(mean))  # before clipping: importance reads the model itself
        mean = np.clip(sign * mean, low, high)
        band = (np.clip(mean - 2 * sd, low, high), np.clip(mean + 2 * sd, low, high))
        partials[name] = Partial(name, dim, tuple(values), mean, sd, band, _tried(dim, values, observed, name))
    total = sum(spread.values()) or 1.0
    importance = dict(sorted(((n, s / total) for n, s in spread.items()), key=lambda item: -item[1]))
    contour = None
    if len(space) >= 2:
        contour = _contour(gp, codec, base, list(importance)[:2], sign, observed)
        contour = Contour(contour.names, contour.xs, contour.ys, np.clip(contour.mean, low, high), contour.tried)
    return Explanation(tuple(codec.names), partials, importance, contour, (low, high))


def _tried(dim: Dimension, values: list, observed: list[dict[str, Any]], name: str) -> np.ndarray:
    """Which of ``values`` lie among the trials' values of the flag: within the range it was
    tried in (a numeric flag), or a choice some trial took (a categorical one)."""
    seen = [flags[name] for flags in observed if name in flags]
    if isinstance(dim, Categorical):
        return np.array([any(v == s for s in seen) for v in values])
    numbers = [float(s) for s in seen if isinstance(s, (int, float)) and not isinstance(s, bool)]
    if not numbers:
        return np.zeros(len(values), bool)
    return np.array([min(numbers) <= float(v) <= max(numbers) for v in values])


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


def _contour(gp: Any, codec: Any, base: np.ndarray, names: list[str], sign: float,
             observed: list[dict[str, Any]]) -> Contour:
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
    tried = np.outer(_tried(dim_b, ys, observed, names[1]), _tried(dim_a, xs, observed, names[0]))
    return Contour((names[0], names[1]), tuple(xs), tuple(ys), sign * grid, tried)

