"""Grid search: the cross product of list flags, in sorted flag order, as Guild runs it."""

from __future__ import annotations

import itertools
import random

from .base import Optimizer, Params


class GridOptimizer(Optimizer):
    name = "grid"

    def __init__(self, axes: dict[str, tuple], max_trials: int | None = None, seed: int | None = None) -> None:
        names = sorted(axes)
        points = [dict(zip(names, combo)) for combo in itertools.product(*(axes[n] for n in names))]
        if max_trials is not None and max_trials < len(points):
            # Guild: a seeded sample of the grid, kept in grid order
            keep = sorted(random.Random(seed).sample(range(len(points)), max_trials))
            points = [points[i] for i in keep]
        self.points = points
        self._next = 0

    def __len__(self) -> int:
        return len(self.points)

    def ask(self) -> Params | None:
        if self._next >= len(self.points):
            return None
        self._next += 1
        return dict(self.points[self._next - 1])

    def tell(self, params: Params, value: float | None) -> None:
        pass
