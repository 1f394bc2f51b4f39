"""Benchmark objectives with known minima, noisy observations and common random numbers.

Trial k of seed s draws the same standard-normal number for every method, so methods differ
only by where they search, not by their luck with noise.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hpwidgets.core.search.space import Categorical, Integer, Real, Space


@dataclass(frozen=True)
class Objective:
    name: str
    space: Space
    f: Callable[[dict], float]  # noiseless loss
    noise_sd: float
    fmin: float  # global minimum of f
    tolerance: float  # success: regret below this
    budgets: tuple[int, ...] = (10, 20, 40)

    def regret(self, params: dict) -> float:
        return self.f(params) - self.fmin

    def flags(self) -> dict:
        """The space as a user writes it for ``hp.run``: ranges in the flag syntax, lists for choices."""
        return {n: list(d.choices) if isinstance(d, Categorical) else d.describe() for n, d in self.space.items()}

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


# Hartmann functions (Dixon and Szegoe): on [0, 1]^d, several local minima.
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])  # fmt: skip
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])  # fmt: skip


def _hartmann(a: np.ndarray, p: np.ndarray):
    names = [f"x{i + 1}" for i in range(a.shape[1])]

    def f(params: dict) -> float:
        x = np.array([params[n] for n in names])
        return float(-(_H_ALPHA * np.exp(-(a * (x - p) ** 2).sum(1))).sum())

    return f, {n: Real(0.0, 1.0) for n in names}


def _lr(p: dict) -> float:
    # A validation loss against a learning rate searched on a log scale: too small trains too
    # slowly, past about 0.1 training diverges (a steep wall); min 0.0 at lr = 10**-2.2.
    u = math.log10(p["lr"])
    return (u + 2.2) ** 2 / 4 + 1.5 / (1 + math.exp(-(u + 0.8) / 0.1)) - 1.5 / (1 + math.exp(14.0))


def _digits_table() -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The recorded lattice (record_digits.py): axes, mean error over splits, and the split sd
    pooled where the mean is below 10 % (where searches end; the cliffs' spread is not noise)."""
    with Path(__file__).with_name("digits_svc.csv").open() as fh:
        rows = [(int(r["split"]), float(r["log10_C"]), float(r["log10_gamma"]), float(r["val_error_pct"]))
                for r in csv.DictReader(fh)]  # fmt: skip
    lc, lg = sorted({r[1] for r in rows}), sorted({r[2] for r in rows})
    err = np.zeros((len({r[0] for r in rows}), len(lc), len(lg)))
    for split, c, g, e in rows:
        err[split, lc.index(c), lg.index(g)] = e
    mean = err.mean(0)
    return np.array(lc), np.array(lg), mean, float(np.sqrt(err.var(0, ddof=1)[mean < 10].mean()))


_DIGITS_C, _DIGITS_G, _DIGITS_MEAN, _DIGITS_SD = _digits_table()


def _digits(p: dict) -> float:
    # Bilinear interpolation in (log10 C, log10 gamma) of the mean validation error: its
    # minimum lies on a lattice point, so the table's minimum is the global one.
    u, v = math.log10(p["C"]), math.log10(p["gamma"])
    i = int(np.clip(np.searchsorted(_DIGITS_C, u) - 1, 0, len(_DIGITS_C) - 2))
    j = int(np.clip(np.searchsorted(_DIGITS_G, v) - 1, 0, len(_DIGITS_G) - 2))
    s = (u - _DIGITS_C[i]) / (_DIGITS_C[i + 1] - _DIGITS_C[i])
    t = (v - _DIGITS_G[j]) / (_DIGITS_G[j + 1] - _DIGITS_G[j])
    m = _DIGITS_MEAN
    return float((1 - s) * (1 - t) * m[i, j] + s * (1 - t) * m[i + 1, j] + (1 - s) * t * m[i, j + 1]
                 + s * t * m[i + 1, j + 1])  # fmt: skip


_H3, _H3_SPACE = _hartmann(_H3_A, _H3_P)
_H6, _H6_SPACE = _hartmann(_H6_A, _H6_P)

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
HARTMANN3 = Objective("Hartmann-3, [0, 1]^3", _H3_SPACE, _H3, noise_sd=0.1, fmin=-3.86278214782076,
                      tolerance=0.1)  # fmt: skip
HARTMANN6 = Objective("Hartmann-6, [0, 1]^6", _H6_SPACE, _H6, noise_sd=0.1, fmin=-3.32236801141551,
                      tolerance=0.25, budgets=(10, 20, 60))  # fmt: skip
LEARNING_RATE = Objective("learning rate, log-uniform [1e-5, 1]", {"lr": Real(1e-5, 1.0, log=True)}, _lr,
                          noise_sd=0.05, fmin=0.0, tolerance=0.02)  # fmt: skip
# A real model's recorded validation error (percent): an RBF SVC on scikit-learn's digits,
# C and gamma on log scales; noise sd is the pooled spread between the recorded data splits.
DIGITS = Objective("digits SVC validation error %, log C x log gamma (recorded)",
                   {"C": Real(1e-2, 1e3, log=True), "gamma": Real(1e-4, 10.0, log=True)}, _digits,
                   noise_sd=round(_DIGITS_SD, 2), fmin=float(_DIGITS_MEAN.min()), tolerance=0.3)  # fmt: skip
OBJECTIVES = {
    "tutorial": TUTORIAL, "branin": BRANIN, "hartmann3": HARTMANN3, "hartmann6": HARTMANN6,
    "lr": LEARNING_RATE, "mixed": MIXED, "digits": DIGITS,
}  # fmt: skip
