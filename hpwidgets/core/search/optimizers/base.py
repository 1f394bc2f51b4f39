"""The ask/tell contract every optimizer follows, grid and random included."""

from __future__ import annotations

from typing import Any

Params = dict[str, Any]


class Optimizer:
    """Suggests flag values one trial at a time.

    - ``ask()`` returns the next trial's values for the searched flags, or ``None`` when the
      optimizer has nothing more to offer (a finished grid). Points asked and not yet told are
      *pending*: a second ``ask()`` before a ``tell()`` never returns a pending point again.
    - ``tell(params, value)`` reports a finished trial; ``value`` is the objective to MINIMIZE
      (the engine negates maximized objectives) or ``None`` for a failed trial, which is
      removed from pending and never used as an observation.
    - ``observe(params, value)`` adds a prior observation (an earlier run) that was never asked.

    Optional hooks have defaults that do nothing: ``observe`` (grid and random search learn
    nothing from priors) and ``surrogate`` (only a model-based optimizer has one).
    """

    name: str = ""

    def ask(self) -> Params | None:
        raise NotImplementedError

    def tell(self, params: Params, value: float | None) -> None:
        raise NotImplementedError

    def observe(self, params: Params, value: float) -> None:
        """Take an earlier run as an observation; ignored by default."""

    def surrogate(self, points: list[Params]) -> tuple[list[float], list[float]] | None:
        """The model's mean and std of the objective at ``points``; None without a model."""
        return None
