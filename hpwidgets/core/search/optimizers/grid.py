"""Grid search: the cross product of list flags, in sorted flag order, as Guild runs it.

The grid is never expanded: trial ``i`` is decoded from its index (the last flag varies
fastest, as ``itertools.product`` orders it), so a huge grid cut by ``--max-trials`` costs
only the trials it runs.
"""

from __future__ import annotations

import math
import random

from hpwidgets.core.search.optimizers.base import Optimizer, Params


class GridOptimizer(Optimizer):
    name = "grid"

    def __init__(self, axes: dict[str, tuple], max_trials: int | None = None, seed: int | None = None) -> None:
        self._names = sorted(axes)
        self._axes = [tuple(axes[n]) for n in self._names]
        size = math.prod(len(a) for a in self._axes)
        self._indices: range | list[int] = range(size)
        if max_trials is not None and max_trials < size:
            # Guild: a seeded sample of the grid, kept in grid order
            self._indices = sorted(random.Random(seed).sample(range(size), max_trials))
        self._next = 0

    def __len__(self) -> int:
        return len(self._indices)

    def _point(self, index: int) -> Params:
        values = []
        for axis in reversed(self._axes):
            index, digit = divmod(index, len(axis))
            values.append(axis[digit])
        return dict(zip(self._names, reversed(values)))

    def ask(self) -> Params | None:
        if self._next >= len(self._indices):
            return None
        self._next += 1
        return self._point(self._indices[self._next - 1])

    def tell(self, params: Params, value: float | None) -> None:
        pass
