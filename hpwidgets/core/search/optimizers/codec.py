"""Flag values <-> points of the unit cube, for the GP search."""

from __future__ import annotations

import math

import numpy as np

from hpwidgets.core.search.optimizers.base import Params
from hpwidgets.core.search.space import Categorical, Integer, Real, Space


class Codec:
    """Maps flag values to the unit cube: reals (log where asked) and integers to one column,
    categoricals to one-hot columns. "Raw" points have one [0, 1) coordinate per dimension."""

    def __init__(self, space: Space) -> None:
        self.names = list(space)
        self.dims = [space[n] for n in self.names]
        self.cols: list[slice] = []
        start = 0
        for dim in self.dims:
            width = len(dim.choices) if isinstance(dim, Categorical) else 1
            self.cols.append(slice(start, start + width))
            start += width
        self.ndims, self.ncols = len(self.dims), start

    def onehot_columns(self) -> list[int]:
        """Columns that encode a categorical's choices."""
        return [i for dim, col in zip(self.dims, self.cols) if isinstance(dim, Categorical)
                for i in range(col.start, col.stop)]  # fmt: skip

    def half_steps(self, columns: np.ndarray) -> np.ndarray:
        """Half the gap between encoded values in each of the given ordered columns: 1 / 2k for
        an integer of k + 1 values, 0 for a real."""
        half = np.zeros(self.ncols)
        for dim, col in zip(self.dims, self.cols):
            if isinstance(dim, Integer) and dim.high > dim.low:
                half[col.start] = 0.5 / (dim.high - dim.low)
        return half[columns]

    def _span(self, dim: Real | Integer) -> tuple[float, float]:
        if isinstance(dim, Real) and dim.log:
            return math.log(dim.low), math.log(dim.high)
        return float(dim.low), float(dim.high)

    def encode(self, params: Params) -> np.ndarray | None:
        """The encoding of params, or None when they do not fit this space (an old run)."""
        u = np.zeros(self.ncols)
        for name, dim, col in zip(self.names, self.dims, self.cols):
            if name not in params:
                return None
            value = params[name]
            if isinstance(dim, Categorical):
                hits = [i for i, c in enumerate(dim.choices) if c == value and type(c) is type(value)]
                if not hits:
                    return None
                u[col.start + hits[0]] = 1.0
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return None
            if not dim.low <= value <= dim.high or (isinstance(dim, Real) and dim.log and value <= 0):
                return None
            lo, hi = self._span(dim)
            v = math.log(value) if isinstance(dim, Real) and dim.log else float(value)
            u[col.start] = (v - lo) / (hi - lo) if hi > lo else 0.5
        return u

    def decode(self, u: np.ndarray) -> Params:
        out: Params = {}
        for name, dim, col in zip(self.names, self.dims, self.cols):
            if isinstance(dim, Categorical):
                out[name] = dim.choices[int(np.argmax(u[col]))]
                continue
            lo, hi = self._span(dim)
            v = lo + float(np.clip(u[col.start], 0.0, 1.0)) * (hi - lo)
            if isinstance(dim, Integer):
                out[name] = int(min(max(round(v), dim.low), dim.high))
            else:
                v = math.exp(v) if dim.log else v
                out[name] = float(min(max(v, dim.low), dim.high))
        return out

    def from_raw(self, raw: np.ndarray) -> np.ndarray:
        u = np.zeros((len(raw), self.ncols))
        for j, (dim, col) in enumerate(zip(self.dims, self.cols)):
            if isinstance(dim, Categorical):
                pick = np.minimum((raw[:, j] * len(dim.choices)).astype(int), len(dim.choices) - 1)
                u[np.arange(len(raw)), col.start + pick] = 1.0
            elif isinstance(dim, Integer):
                k = dim.high - dim.low
                u[:, col.start] = np.minimum(np.floor(raw[:, j] * (k + 1)), k) / k if k else 0.5
            else:
                u[:, col.start] = raw[:, j]
        return u

    def snap(self, u: np.ndarray) -> np.ndarray:
        u = u.copy()
        for dim, col in zip(self.dims, self.cols):
            if isinstance(dim, Categorical):
                block = u[:, col]
                u[:, col] = (block == block.max(1, keepdims=True)).astype(float)
            elif isinstance(dim, Integer):
                k = dim.high - dim.low
                u[:, col.start] = np.round(np.clip(u[:, col.start], 0, 1) * k) / k if k else 0.5
            else:
                u[:, col.start] = np.clip(u[:, col.start], 0.0, 1.0)
        return u

    def perturb(self, u: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
        """Gaussian steps on ordered columns; a categorical switches with probability 0.2."""
        out = u + rng.normal(0.0, scale, u.shape)
        for dim, col in zip(self.dims, self.cols):
            if isinstance(dim, Categorical):
                switch = rng.random(len(u)) < 0.2
                fresh = self.from_raw(rng.random((len(u), self.ndims)))[:, col]
                out[:, col] = np.where(switch[:, None], fresh, u[:, col])
        return self.snap(out)
