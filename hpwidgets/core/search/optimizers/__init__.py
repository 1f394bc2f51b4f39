"""Optimizers by name. Each one is ask/tell (see base.py); the Bayesian ones load skopt lazily."""

from __future__ import annotations

from typing import Any

from hpwidgets.core.errors import OptionError
from hpwidgets.core.search.optimizers.base import Optimizer, Params
from hpwidgets.core.search.optimizers.grid import GridOptimizer
from hpwidgets.core.search.optimizers.random import RandomOptimizer
from hpwidgets.core.search.space import Space

NAMES = ("grid", "random", "gp", "forest", "gbrt")
ALIASES = {"bayesian": "gp", "gaussian": "gp"}
BAYESIAN = ("gp", "forest", "gbrt")
ACCEPTED = "grid, random, gp (aliases: bayesian, gaussian), forest, gbrt"

__all__ = ["ACCEPTED", "BAYESIAN", "NAMES", "Optimizer", "Params", "canonical", "make"]


def canonical(name: str) -> str:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in NAMES:
        raise OptionError("optimizer", name, ACCEPTED)
    return key


def make(
    name: str,
    space: Space,
    grid: dict[str, tuple],
    *,
    seed: int | None = None,
    max_trials: int | None = None,
    opt_flags: dict[str, Any] | None = None,
) -> Optimizer:
    """Build the named optimizer for a search space (dimensions) and grid axes (lists)."""
    opt_flags = dict(opt_flags or {})
    if name == "grid":
        _no_opt_flags(name, opt_flags)
        return GridOptimizer(grid, max_trials=max_trials, seed=seed)
    if name == "random":
        _no_opt_flags(name, opt_flags)
        return RandomOptimizer(space, seed=seed)
    from hpwidgets.core.search.optimizers.bayes import BayesOptimizer  # imports skopt: only when asked for

    return BayesOptimizer(space, kind=name, seed=seed, max_trials=max_trials, **opt_flags)


def _no_opt_flags(name: str, opt_flags: dict[str, Any]) -> None:
    if opt_flags:
        key = next(iter(opt_flags))
        raise OptionError("opt_flags", opt_flags[key], f"no optimizer flags for {name} search",
                          item=key.replace("_", "-"))
