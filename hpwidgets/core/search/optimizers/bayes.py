"""Bayesian optimizers: our own GP (kind "gp") and scikit-optimize's forest and gbrt.

This is the one module of hpwidgets that imports scikit-optimize, and only when a forest or
gbrt optimizer is built. Flags use Guild's names with dashes turned to underscores.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from hpwidgets.core.errors import OptionError
from hpwidgets.core.search.optimizers.base import Optimizer, Params
from hpwidgets.core.search.optimizers.codec import Codec
from hpwidgets.core.search.optimizers.gp_search import GPSearch
from hpwidgets.core.search.optimizers.names import BAYESIAN
from hpwidgets.core.search.space import Categorical, Integer, Space

__all__ = ["BayesOptimizer", "effective_flags", "ensure_skopt_compat", "flag_names"]

_ACQ = {"gp": ("LCB", "EI", "PI", "gp_hedge"), "tree": ("LCB", "EI", "PI", "gp_hedge", "EIps", "PIps")}
# Our gp's defaults are its own design (see bench/bench_optimizers.py); trees keep Guild's.
_DEFAULTS = {
    "gp": {"random_starts": None, "acq_func": "LCB", "kappa": 3.0, "xi": 0.01, "noise": "gaussian"},
    "tree": {"random_starts": 3, "acq_func": "EI", "kappa": 1.96, "xi": 0.05},
}


def _flags(kind: str, given: dict[str, Any]) -> dict[str, Any]:
    """Validate optimizer flags: unknown names and bad values raise OptionError."""
    family = "gp" if kind == "gp" else "tree"
    out = dict(_DEFAULTS[family])
    for name, value in given.items():
        opt = name.replace("_", "-")
        if name not in out:
            raise OptionError("opt_flags", value, f"a {kind} optimizer flag: {', '.join(flag_names(kind))}", item=opt)
        if name == "random_starts":
            out[name] = _number(opt, value, int, "an integer >= 0")
        elif name in ("kappa", "xi"):
            out[name] = _number(opt, value, float, "a number >= 0")
        elif name == "noise":
            is_gauss = isinstance(value, str) and value.lower() == "gaussian"
            out[name] = "gaussian" if is_gauss else _number(opt, value, float, "gaussian or a variance >= 0")
        else:
            accepted = _ACQ[family]
            match = [a for a in accepted if isinstance(value, str) and a.lower() == value.lower()]
            if not match:
                raise OptionError("opt_flags", value, ", ".join(accepted), item=opt)
            out[name] = match[0]
    return out


def flag_names(kind: str) -> list[str]:
    """The flags a ``kind`` optimizer takes, Guild's dashed names."""
    return [name.replace("_", "-") for name in _DEFAULTS["gp" if kind == "gp" else "tree"]]


def effective_flags(kind: str, given: dict[str, Any]) -> dict[str, Any]:
    """The flags a ``kind`` optimizer will use, Guild's dashed names; None means chosen by the optimizer."""
    return {name.replace("_", "-"): value for name, value in _flags(kind, given).items()}


def _number(opt: str, value: Any, kind: type, accepted: str) -> Any:
    try:
        if isinstance(value, bool) or (kind is int and isinstance(value, float)):
            raise ValueError
        number = kind(value)
    except (TypeError, ValueError):
        raise OptionError("opt_flags", value, accepted, item=opt) from None
    if not math.isfinite(number) or number < 0:
        raise OptionError("opt_flags", value, accepted, item=opt)
    return number


def _key(params: Params) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in params.items()))


class BayesOptimizer(Optimizer):
    """Ask/tell Bayesian optimization (see base.Optimizer for the contract).

    kind "gp" is our own Gaussian process (hpwidgets.core.search.optimizers.gp_model); "forest" (extra
    trees) and "gbrt" run on scikit-optimize. ``max_trials`` lets gp spend its last trial on
    the model's best guess; priors from earlier runs come in through ``observe``.
    """

    def __init__(
        self,
        space: Space,
        kind: str = "gp",
        seed: int | None = None,
        max_trials: int | None = None,
        **opt_flags: Any,
    ) -> None:
        if kind not in BAYESIAN:
            raise OptionError("optimizer", kind, ", ".join(BAYESIAN))
        self.name = kind
        self.flags = _flags(kind, opt_flags)
        self._codec = Codec(space)
        self._rng = np.random.default_rng(seed)
        self._pending: dict[tuple, tuple[Params, float]] = {}
        self._n_obs = 0
        self._began = False
        self._initial = {n: d.initial for n, d in space.items() if d.initial is not None}
        if kind == "gp":
            f = self.flags
            n_init = f["random_starts"]
            if n_init is None:  # spread-out points before any model; leave room for the model
                # d + 3 (at least 6): a 3-flag space gets its model two trials sooner than
                # with 2d + 2, which moved the mixed space at 10 trials most (bench/README.md)
                n_init = max(6, self._codec.ndims + 3)
                if max_trials is not None:
                    n_init = min(n_init, max(2, max_trials - 3))
            self._engine: Any = GPSearch(
                self._codec, self._rng, n_init, f["acq_func"], f["kappa"], f["xi"],
                None if f["noise"] == "gaussian" else f["noise"], max_trials, exploit=1,
            )  # fmt: skip
        else:
            self._engine = _SkoptSearch(space, kind, self._rng, self.flags)

    def ask(self) -> Params | None:
        pending = [p for p, _ in self._pending.values()]
        if self.name == "gp":
            units = np.array([self._codec.encode(p) for p in pending]).reshape(-1, self._codec.ncols)
            params = self._codec.decode(self._engine.suggest(units))
        else:
            params = self._engine.suggest(pending)
        if not self._began and self._n_obs == 0:  # Guild: [a:b:c] sets the first trial's value
            params.update({n: v for n, v in self._initial.items() if self._fits(n, v)})
        self._began = True
        for _ in range(100):  # a model may return a pending point: fall back to random ones
            if _key(params) not in self._pending:
                self._pending[_key(params)] = (params, time.monotonic())
                return dict(params)
            raw = self._rng.random((1, self._codec.ndims))
            params = self._codec.decode(self._codec.from_raw(raw)[0])
        return None  # every point of a small discrete space is pending

    def _fits(self, name: str, value: Any) -> bool:
        return (
            self._codec.encode({**self._codec.decode(np.zeros(self._codec.ncols)), name: value}) is not None
        )

    def tell(self, params: Params, value: float | None) -> None:
        _, asked_at = self._pending.pop(_key(params), (None, None))
        elapsed = None if asked_at is None else time.monotonic() - asked_at
        self._add(params, value, elapsed)

    def observe(self, params: Params, value: float) -> None:
        self._add(params, value, None)

    def _add(self, params: Params, value: float | None, elapsed: float | None) -> None:
        if value is None:
            return
        if isinstance(value, (str, bytes)):
            raise TypeError(f"an objective value must be a number or None, got {value!r}")
        y = float(value)
        if not math.isfinite(y):  # nan and inf are failures: no model may see them
            return
        if self.name == "gp":
            u = self._codec.encode(params)
            if u is None:
                return  # a prior run outside this space
            self._engine.add(u, y)
        elif not self._engine.add(params, y, elapsed):
            return
        self._n_obs += 1

    def surrogate(self, points: list[dict]) -> tuple[list[float], list[float]] | None:
        """Posterior mean and std of the objective at points; None before a model exists."""
        if self.name == "gp":
            units = [self._codec.encode(p) for p in points]
            if any(u is None for u in units):
                raise ValueError("surrogate() points must lie in the search space")
            post = self._engine.posterior(np.array(units).reshape(-1, self._codec.ncols))
        else:
            post = self._engine.posterior(points)
        if post is None:
            return None
        return [float(m) for m in post[0]], [float(s) for s in post[1]]


class _SkoptSearch:
    """skopt's Optimizer with extra trees ("forest") or quantile GBRT; pending points get a
    constant lie (the best value so far) in a copy of the optimizer, so parallel asks differ."""

    def __init__(self, space: Space, kind: str, rng: np.random.Generator, flags: dict) -> None:
        import skopt

        ensure_skopt_compat()
        self.names = list(space)
        dims = []
        for dim in space.values():
            if isinstance(dim, Categorical):
                dims.append(skopt.space.Categorical(list(dim.choices), transform="onehot"))
            elif isinstance(dim, Integer):
                dims.append(skopt.space.Integer(dim.low, dim.high))
            else:
                dims.append(
                    skopt.space.Real(dim.low, dim.high, prior="log-uniform" if dim.log else "uniform")
                )
        self.ps = flags["acq_func"].endswith("ps")  # EIps/PIps also model the trial's duration
        self.opt = skopt.Optimizer(
            dims, base_estimator="ET" if kind == "forest" else "GBRT",
            n_initial_points=max(flags["random_starts"], 1), acq_func=flags["acq_func"],
            acq_optimizer="sampling", random_state=int(rng.integers(2**31 - 1)),
            acq_func_kwargs={"kappa": flags["kappa"], "xi": flags["xi"]},
        )  # fmt: skip
        self.rng = rng
        self.times: list[float] = []

    def _point(self, params: Params) -> list:
        return [params[n] for n in self.names]

    def suggest(self, pending: list[Params]) -> Params:
        opt = self.opt
        if pending:
            opt = self.opt.copy(random_state=int(self.rng.integers(2**31 - 1)))
            lie = min((y[0] if self.ps else y for y in opt.yi), default=0.0)
            lie_t = float(np.median(self.times)) if self.times else 1.0
            opt.tell([self._point(p) for p in pending], [[lie, lie_t] if self.ps else lie for _ in pending])
        x = opt.ask()
        return {n: v.item() if isinstance(v, np.generic) else v for n, v in zip(self.names, x)}

    def add(self, params: Params, y: float, elapsed: float | None) -> bool:
        x = self._point(params) if all(n in params for n in self.names) else None
        if x is None or x not in self.opt.space:
            return False  # a prior run outside this space
        if self.ps:
            t = elapsed if elapsed else (float(np.median(self.times)) if self.times else 1.0)
            self.times.append(max(t, 1e-6))
            self.opt.tell(x, [y, self.times[-1]])
        else:
            self.opt.tell(x, y)
        return True

    def posterior(self, points: list[Params]) -> tuple[np.ndarray, np.ndarray] | None:
        if not self.opt.models:
            return None
        model = self.opt.models[-1]
        if self.ps:
            model = model.estimators_[0]
        xt = self.opt.space.transform([self._point(p) for p in points])
        return model.predict(xt, return_std=True)


class _NumpyWithIn1d:
    """numpy, plus the ``in1d`` that numpy 2.4 removed, for skopt.learning.gbrt alone."""

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def in1d(a, b, **kw) -> np.ndarray:
        return np.isin(a, b, **kw).ravel()


def ensure_skopt_compat() -> list[str]:
    """Fix scikit-optimize 0.10.2 where current numpy/scikit-learn broke it; return the fixes
    applied by this call. Each fix is checked first, so it is applied once and only if needed."""
    import skopt.learning.gbrt as gbrt
    import skopt.optimizer.optimizer as optimizer_mod
    from sklearn.base import BaseEstimator, is_regressor

    applied = []
    quantile = gbrt.GradientBoostingQuantileRegressor
    if not is_regressor(quantile()):  # sklearn >= 1.6 reads tags, not RegressorMixin's attribute

        def __sklearn_tags__(self):
            tags = BaseEstimator.__sklearn_tags__(self)
            tags.estimator_type = "regressor"
            return tags

        quantile.__sklearn_tags__ = __sklearn_tags__
        applied.append("quantile regressor tags")
    if not hasattr(gbrt.np, "in1d"):  # numpy >= 2.4; patch skopt's module, never numpy itself
        gbrt.np = _NumpyWithIn1d()
        applied.append("np.in1d")
    try:
        optimizer_mod.is_regressor(None)
    except Exception:  # sklearn >= 1.8 raises on None, which skopt passes for "dummy"
        strict = optimizer_mod.is_regressor
        optimizer_mod.is_regressor = lambda est: est is not None and strict(est)
        applied.append("is_regressor(None)")
    return applied
