"""The ask/tell contract every optimizer follows, grid and random included."""

from __future__ import annotations

from typing import Any, Protocol

Params = dict[str, Any]


class Optimizer(Protocol):
    """Suggests flag values one trial at a time.

    - ``ask()`` returns the next trial's values for the searched flags, or ``None`` when the
      optimizer has nothing more to offer (a finished grid). Points asked and not yet told are
      *pending*: a second ``ask()`` before a ``tell()`` never returns a pending point again.
    - ``tell(params, value)`` reports a finished trial; ``value`` is the objective to MINIMIZE
      (the engine negates maximized objectives) or ``None`` for a failed trial, which is
      removed from pending and never used as an observation.
    - ``observe(params, value)`` adds a prior observation (an earlier run) that was never asked.
    """

    name: str

    def ask(self) -> Params | None: ...

    def tell(self, params: Params, value: float | None) -> None: ...

    def observe(self, params: Params, value: float) -> None: ...
