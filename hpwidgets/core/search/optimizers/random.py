"""Random search over ranges and categorical lists, reproducible with a seed."""

from __future__ import annotations

import math
import random

from hpwidgets.core.search.optimizers.base import Optimizer, Params
from hpwidgets.core.search.space import Integer, Real, Space


def sample(dim, rng: random.Random):
    if isinstance(dim, Real):
        if dim.log:
            return math.exp(rng.uniform(math.log(dim.low), math.log(dim.high)))
        return rng.uniform(dim.low, dim.high)
    if isinstance(dim, Integer):
        return rng.randint(dim.low, dim.high)
    return dim.choices[rng.randrange(len(dim.choices))]


def initial_point(space: Space) -> Params | None:
    """The first trial's values from ``[a:b:first]`` initials, or None when no flag has one."""
    if not any(getattr(d, "initial", None) is not None for d in space.values()):
        return None
    return {n: d.initial for n, d in space.items() if d.initial is not None}


class RandomOptimizer(Optimizer):
    name = "random"

    def __init__(self, space: Space, seed: int | None = None) -> None:
        self.space = space
        self._rng = random.Random(seed)
        self._first = initial_point(space)
        self._pending: list[Params] = []

    def ask(self) -> Params | None:
        point = {n: sample(d, self._rng) for n, d in self.space.items()}
        if self._first is not None:
            point.update(self._first)
            self._first = None
        for _ in range(100):  # small integer/categorical spaces: avoid a point already in flight
            if point not in self._pending:
                break
            point = {n: sample(d, self._rng) for n, d in self.space.items()}
        self._pending.append(point)
        return dict(point)

    def tell(self, params: Params, value: float | None) -> None:
        if params in self._pending:
            self._pending.remove(params)
