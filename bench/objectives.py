"""Benchmark objectives with known minima, noisy observations and common random numbers.

Trial k of seed s draws the same standard-normal number for every method, so methods differ
only by where they search, not by their luck with noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hpwidgets.core.space import Categorical, Integer, Real, Space


@dataclass(frozen=True)
class Objective:
    name: str
    space: Space
    f: Callable[[dict], float]  # noiseless loss
    noise_sd: float
    fmin: float  # global minimum of f
    tolerance: float  # success: regret below this

    def regret(self, params: dict) -> float:
        return self.f(params) - self.fmin

    def noise(self, seed: int, trials: int) -> np.ndarray:
        """The common random numbers of one seed: one draw per trial."""
        return np.random.default_rng([7919, seed]).standard_normal(trials) * self.noise_sd


def _tutorial(p: dict) -> float:
    x = p["x"]
    return math.sin(5 * x) * (1 - math.tanh(x * x))


def _branin(p: dict) -> float:
    # Standard Branin on a shifted, stretched domain: a in [-500, 1000] is x1 * 100,
    # b in [0, 15] as usual. Three global minima of 0.397887.
    x1, x2 = p["a"] / 100.0, p["b"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def _mixed(p: dict) -> float:
    # A training-like loss: log learning rate with an optimum, an integer depth, a
    # categorical optimizer that shifts the optimum; min 0.0 at lr=1e-2.5 (adam), depth 4.
    lr, depth, opt = math.log10(p["lr"]), p["depth"], p["opt"]
    shift = {"adam": 0.0, "sgd": 0.8, "rmsprop": 0.3}[opt]
    return (lr + 2.5 - (0.5 if opt == "sgd" else 0.0)) ** 2 + 0.05 * (depth - 4) ** 2 + shift


TUTORIAL = Objective(
    "tutorial sin(5x)(1-tanh x^2), 1-D",
    {"x": Real(-2.0, 2.0)},
    _tutorial,
    noise_sd=0.1,
    fmin=-0.9094298025393894,
    tolerance=0.05,
)
BRANIN = Objective(
    "Branin, 2-D, a in [-500, 1000]",
    {"a": Real(-500.0, 1000.0), "b": Real(0.0, 15.0)},
    _branin,
    noise_sd=1.0,
    fmin=0.39788735772973816,
    tolerance=1.0,
)
MIXED = Objective(
    "mixed: loguniform lr, integer depth, categorical opt",
    {
        "depth": Integer(1, 8),
        "lr": Real(1e-5, 1.0, log=True),
        "opt": Categorical(("adam", "rmsprop", "sgd")),
    },
    _mixed,
    noise_sd=0.1,
    fmin=0.0,
    tolerance=0.1,
)
OBJECTIVES = {"tutorial": TUTORIAL, "branin": BRANIN, "mixed": MIXED}
