"""From flags and options to a batch plan: which flags are fixed, gridded or searched, and how."""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hpwidgets.core.errors import FlagSyntaxError, OptionError
from hpwidgets.core.search import flags as flagsyntax
from hpwidgets.core.search import optimizers, priors, pruners
from hpwidgets.core.search.objective import Objective
from hpwidgets.core.search.space import Categorical, Space, sorted_space

DEFAULT_TRIALS = 20  # Guild's default for random and Bayesian search
MAX_GRID = 1_000_000  # trials in a grid search: counted before the grid is expanded
SEED_MAX = 2**32 - 1  # numpy and scikit-optimize take seeds up to this


def _integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


# Each checked option: is a value (not None) valid, and what is accepted. ``max_trials=2.5`` is
# refused, not rounded; ``timeout=inf`` or nan is refused, not a timer that never fires.
_VALID: dict[str, tuple[Callable[[Any], bool], str]] = {
    "max_trials": (lambda v: _integer(v) and v >= 1, "a positive integer"),
    "random_seed": (lambda v: _integer(v) and 0 <= v <= SEED_MAX, f"an integer from 0 to {SEED_MAX}"),
    "timeout": (lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool) and 0 < v < math.inf,
                "a positive, finite number of seconds"),
    "workers": (lambda v: _integer(v) and v >= 1, "a positive integer"),
    "retries": (lambda v: _integer(v) and v >= 0, "0 or a positive integer"),
    "dask_files_max": (lambda v: _integer(v) and v >= 0, "0 or a positive number of bytes"),
}


@dataclass(frozen=True)
class RunOptions:
    """How a batch runs; each field is declared in run_options.py, with its command-line name."""

    optimizer: str | None = None
    max_trials: int | None = None
    random_seed: int | None = None
    minimize: str | None = None
    maximize: str | None = None
    opt_flags: dict[str, str] = field(default_factory=dict)
    label: str | None = None
    tags: tuple[str, ...] = ()
    timeout: float | None = None
    fail_fast: bool = False
    workers: int = 1  # trials at once; with ``dask`` and 1: the cluster's thread count
    retries: int = 0  # new attempts for a trial whose Dask worker was lost
    dask: Any = None  # a Dask scheduler address, or a distributed.Client: trials run there
    dask_files_max: int = 100 * 1024 * 1024  # bytes of a Dask trial's files brought back into its run
    prune: str | None = None  # "median" or "asha": stop unpromising trials early
    prune_flags: dict[str, str] = field(default_factory=dict)  # the pruner's NAME=VALUE settings
    output_scalars: tuple[str, ...] = ()  # the user's patterns for scalars in the output (Guild's syntax)
    builtin_scalars: bool = True  # False: read none of the built-in output formats

    def __post_init__(self) -> None:
        # Python's values in the command line's form: settings as text, tags a tuple (a manifest gives a list)
        object.__setattr__(self, "opt_flags", {k: str(v) for k, v in (self.opt_flags or {}).items()})
        object.__setattr__(self, "prune_flags", {k: str(v) for k, v in (self.prune_flags or {}).items()})
        object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "output_scalars", tuple(self.output_scalars))  # a manifest gives a list
        for name, (ok, accepted) in _VALID.items():  # wrong types too: never a raw TypeError later
            value = getattr(self, name)
            if value is not None and not ok(value):
                raise OptionError(name, value, accepted)
        for name in ("minimize", "maximize"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, str) and value.strip()):
                raise OptionError(name, value, "the name of a scalar the trials print, such as loss or acc")
        if self.minimize and self.maximize:
            raise OptionError("maximize", self.maximize, "either {0} or {1}, not both", mentions=("minimize", "maximize"))
        for tag in self.tags:
            if not isinstance(tag, str) or not tag or any(c.isspace() for c in tag):
                raise OptionError("tags", tag, "a word without spaces, such as baseline")
        self.pruner()  # checks the name and the settings

    def pruner(self) -> pruners.Pruner | None:
        """A fresh pruner as asked (each batch needs its own: pruners remember curves)."""
        return pruners.make(self.prune, self.prune_flags)

    @property
    def objective(self) -> Objective:
        if self.maximize:
            return Objective(self.maximize, "max")
        return Objective(self.minimize or "loss", "min")


@dataclass(frozen=True)
class BatchPlan:
    operation: str  # train.py, or a function's name
    fixed: dict[str, Any]
    grid: dict[str, tuple]
    space: Space
    optimizer: str
    total: int
    objective: Objective
    seed: int
    opt_flags: dict[str, str]
    described: dict[str, str]  # every flag as the user gave it, for the plan's text

    @property
    def searched(self) -> tuple[str, ...]:
        return tuple(sorted(list(self.grid) + list(self.space)))

    @property
    def is_bayesian(self) -> bool:
        return self.optimizer in optimizers.BAYESIAN

    @property
    def is_batch(self) -> bool:
        return bool(self.searched) or self.total > 1

    def header(self, lead: str = "You are about to run") -> str:
        """Guild's first line of a run's plan; a batch watched later leads with its id instead."""
        name = f"{lead} {self.operation}"
        if not self.is_batch:
            return name
        trials = f"{self.total} trial{'s' if self.total != 1 else ''}"
        if self.optimizer == "grid":
            return f"{name} as a batch ({trials})"
        if self.optimizer == "random":
            return f"{name} with random search ({trials})"
        goal = f"{self.objective.verb} {self.objective.name}"
        return f"{name} with {self.optimizer} optimizer ({trials}, {goal})"

    def text(self, lead: str = "You are about to run") -> str:
        lines = [self.header(lead)]
        lines += [f"  {n}: {self.described[n]}" for n in sorted(self.described)]
        return "\n".join(lines + self.optimizer_flag_lines())

    def optimizer_flag_lines(self) -> list[str]:
        """A Bayesian optimizer's flags with the values it will use, as Guild lists them."""
        if not self.is_bayesian:
            return []
        values = optimizer_flag_values(self.optimizer, self.opt_flags)
        return ["Optimizer flags:"] + [f"  {k}: {v}" for k, v in sorted(values.items())]


def optimizer_flag_values(optimizer: str, opt_flags: dict[str, Any]) -> dict[str, Any]:
    """A Bayesian optimizer's flags as it will use them (``-Fo`` over its defaults), Guild's names."""
    from hpwidgets.core.search.optimizers.bayes import effective_flags  # loads numpy's GP code: on use

    values = {**effective_flags(optimizer, _optimizer_flags(optimizer, opt_flags)), "prev-trials": priors.mode_of(opt_flags)}
    return {k: "auto" if v is None else v for k, v in values.items()}


def _optimizer_flags(optimizer: str, opt_flags: dict[str, Any]) -> dict[str, Any]:
    """The ``-Fo`` flags the optimizer itself takes: ``prev-trials`` is the batch's, checked here."""
    if optimizer in optimizers.BAYESIAN:
        from hpwidgets.core.search.optimizers.bayes import flag_names

        known = [*flag_names(optimizer), "prev-trials"]
        for name, value in opt_flags.items():
            if name.replace("_", "-") not in known:
                raise OptionError("opt_flags", value, f"a {optimizer} optimizer flag: {', '.join(known)}",
                                  item=name.replace("_", "-"))
        priors.mode_of(opt_flags)
    return {k.replace("-", "_"): v for k, v in opt_flags.items() if k != "prev-trials"}


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["x=0.1", "lr=[1e-3:1e-1]"]`` -> ``{"x": "0.1", ...}``; each must be NAME=VALUE."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise OptionError("flag", item, "NAME=VALUE, such as x=0.1 or x=[-2:2]")
        if name.strip() in out:
            raise OptionError("flag", item, "each flag once; several values as a list, such as x=[1,2]",
                              reason=f"{name.strip()} is already given as {name.strip()}={out[name.strip()]}")
        out[name.strip()] = value
    return out


def build_plan(operation: str, flag_types: dict[str, tuple[Any, type | None]],
               given: dict[str, Any], options: RunOptions) -> BatchPlan:
    """``flag_types`` maps each known flag to (default, type); ``given`` holds the user's values.

    The objective is never a flag: a script that starts with ``loss = 2.0`` and prints
    ``loss: ...`` has its printed values counted, not its initial value set.
    """
    objective = options.objective
    if objective.name in given:
        raise FlagSyntaxError(objective.name, str(given[objective.name]), "a flag other than the objective",
                              f"{objective.name} is the objective this batch would {objective.verb}: "
                              "it is read from the output, never set")
    flag_types = {n: t for n, t in flag_types.items() if n != objective.name}
    parsed: dict[str, Any] = {}
    for name, value in given.items():
        ftype = flag_types[name][1] if name in flag_types else None
        parsed[name] = flagsyntax.from_python(name, value, ftype)
    fixed = {n: d for n, (d, _) in flag_types.items() if n not in parsed}
    grid: dict[str, tuple] = {}
    dims: dict[str, Any] = {}
    for name, value in parsed.items():
        if isinstance(value, flagsyntax.Fixed):
            fixed[name] = value.value
        elif isinstance(value, flagsyntax.Choices):
            grid[name] = value.values
        else:
            dims[name] = value
    name = optimizers.canonical(options.optimizer) if options.optimizer else ("random" if dims else "grid")
    if name == "grid" and dims:
        flag = sorted(dims)[0]
        raise OptionError("optimizer", "grid",
                          f"random, gp, forest or gbrt to search the range {flag}={dims[flag].describe()}")
    if name != "grid":  # lists become categorical choices under random and Bayesian search
        dims.update({n: Categorical(v) for n, v in grid.items()})
        grid = {}
        total = options.max_trials or DEFAULT_TRIALS
    else:
        size = math.prod(len(v) for v in grid.values())
        total = min(size, options.max_trials) if options.max_trials else size
        if total > MAX_GRID:
            raise OptionError("optimizer", name, f"a grid of at most {MAX_GRID} trials; this one has {size}: "
                                                   "cut it with {0} N, or search the flags with random, "
                                                   "gp, forest or gbrt", mentions=("max_trials",))
    seed = options.random_seed if options.random_seed is not None else random.SystemRandom().randrange(2**31)
    described = {n: flagsyntax.describe(v) for n, v in parsed.items()}
    described.update({n: flagsyntax.format_value(v) for n, v in fixed.items() if n not in described})
    return BatchPlan(operation, fixed, grid, sorted_space(dims), name, total, objective,
                     seed, dict(options.opt_flags), described)


def make_optimizer(plan: BatchPlan):
    opt_flags = _optimizer_flags(plan.optimizer, plan.opt_flags)
    return optimizers.make(plan.optimizer, plan.space, plan.grid, seed=plan.seed,
                           max_trials=plan.total, opt_flags=opt_flags)
