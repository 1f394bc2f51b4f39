"""Peers of our gp for bench_optimizers.py, each an ask/tell object over a Space.

skopt comes with hpwidgets; Optuna (and torch for its GPSampler) live only in the benchmark's own
environment, never in the package: ``available()`` says which peers run here and why not.
"""

from __future__ import annotations

import warnings

import numpy as np

from hpwidgets.core.search.space import Categorical, Integer, Space


def _skopt_dims(space: Space) -> list:
    import skopt

    out = []
    for d in space.values():
        if isinstance(d, Categorical):
            out.append(skopt.space.Categorical(list(d.choices)))
        elif isinstance(d, Integer):
            out.append(skopt.space.Integer(d.low, d.high))
        else:
            out.append(skopt.space.Real(d.low, d.high, prior="log-uniform" if d.log else "uniform"))
    return out


def _py(v):
    return v.item() if isinstance(v, np.generic) else v


class GuildGP:
    """skopt gp as Guild 0.9 runs it: a fresh gp_minimize per trial (n_calls=1) fed all earlier
    trials, 3 random starts, gp_hedge, kappa 1.96, xi 0.05, noise gaussian, normalize_y off."""

    def __init__(self, space: Space, seed: int) -> None:
        self.names, self.dims = list(space), _skopt_dims(space)
        self.state = np.random.RandomState(seed)
        self.x: list[list] = []
        self.y: list[float] = []

    def ask(self) -> dict:
        import skopt
        from skopt.utils import cook_estimator

        start = len(self.y) < 3
        gp = cook_estimator("GP", space=skopt.space.Space(self.dims), noise="gaussian",
                            random_state=self.state.randint(0, 2**31 - 1))  # fmt: skip
        gp.normalize_y = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = skopt.gp_minimize(
                lambda *a: 0, self.dims, base_estimator=gp, n_calls=1,
                n_initial_points=1 if start else 0, x0=self.x or None, y0=self.y or None,
                random_state=self.state, acq_func="gp_hedge", kappa=1.96, xi=0.05, noise="gaussian",
            )  # fmt: skip
        self.state = res.random_state
        return {n: _py(v) for n, v in zip(self.names, res.x_iters[-1])}

    def tell(self, params: dict, value: float) -> None:
        self.x.append([params[n] for n in self.names])
        self.y.append(value)


class SkoptGP:
    """skopt's own Optimizer loop: GP, gp_hedge, 5 initial random points."""

    def __init__(self, space: Space, seed: int) -> None:
        import skopt

        self.names = list(space)
        self.opt = skopt.Optimizer(_skopt_dims(space), "GP", n_initial_points=5, random_state=seed)

    def ask(self) -> dict:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return {n: _py(v) for n, v in zip(self.names, self.opt.ask())}

    def tell(self, params: dict, value: float) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.opt.tell([params[n] for n in self.names], value)


class OptunaPeer:
    """An Optuna sampler through its ask-and-tell interface, with the sampler's defaults."""

    def __init__(self, space: Space, seed: int, sampler: str) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        dist = optuna.distributions
        self.dists = {
            n: dist.CategoricalDistribution(list(d.choices)) if isinstance(d, Categorical)
            else dist.IntDistribution(d.low, d.high) if isinstance(d, Integer)
            else dist.FloatDistribution(d.low, d.high, log=d.log)
            for n, d in space.items()
        }  # fmt: skip
        made = (optuna.samplers.TPESampler(multivariate=True, seed=seed) if sampler == "tpe"
                else optuna.samplers.GPSampler(seed=seed))  # fmt: skip
        self.study = optuna.create_study(sampler=made)
        self.trial = None

    def ask(self) -> dict:
        self.trial = self.study.ask(self.dists)
        return dict(self.trial.params)

    def tell(self, params: dict, value: float) -> None:
        self.study.tell(self.trial, value)


def available() -> dict[str, str]:
    """Peers that cannot run here, with the reason."""
    missing = {}
    try:
        import optuna  # noqa: F401
    except ImportError:
        reason = "optuna is not installed (it lives only in a benchmark venv: pip install optuna)"
        return {"optuna tpe": reason, "optuna gp": reason}
    try:
        import torch  # noqa: F401
    except ImportError:
        missing["optuna gp"] = "GPSampler needs torch, not installed in this environment"
    return missing


PEERS = {
    "random search": None,  # through hp.run, like ours
    "skopt gp (5 initial)": SkoptGP,
    "skopt gp (Guild)": GuildGP,
    "optuna tpe": lambda s, seed: OptunaPeer(s, seed, "tpe"),
    "optuna gp": lambda s, seed: OptunaPeer(s, seed, "gp"),
}
