"""Local refinement of an acquisition function by L-BFGS-B from the best candidates.

Random candidates find the right basin; a gradient step finds its floor, which matters once a
flag's length scale is short or there are several flags. Ordered columns move (integers as
reals, rounded after), one-hot columns stay where their start put them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.linalg import solve_triangular
from scipy.optimize import minimize
from scipy.stats import norm

from hpwidgets.core.search.optimizers.gp_model import GP

_SQRT5 = math.sqrt(5.0)


def kernel_and_grad(x: np.ndarray, xs: np.ndarray, ls: np.ndarray, amp: float):
    """k(x, xs_i) for one point x and its gradient w.r.t. x, shape (n,) and (n, d)."""
    diff = (x[None, :] - xs) / ls
    r2 = (diff * diff).sum(1)
    r = np.sqrt(r2)
    e = np.exp(-_SQRT5 * r)
    k = amp * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r2) * e
    dk = -(amp * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * e)[:, None] * diff / ls
    return k, dk


class Posterior:
    """Mean and std (with gradients) of one GP at single points."""

    def __init__(self, gp: GP) -> None:
        self.gp = gp
        self.alpha = gp.weights()
        self.xv, self.low = gp.x, gp._low

    def at(self, x: np.ndarray):
        gp, n = self.gp, len(self.gp.x)
        k, dk = kernel_and_grad(x, self.xv, gp.ls, gp.amp)
        mu, dmu = k[:n] @ self.alpha, self.alpha @ dk[:n]
        v = solve_triangular(self.low, k, lower=True)
        w = solve_triangular(self.low, v, lower=True, trans="T")
        var = gp.amp - v @ v
        sd = math.sqrt(max(var, 1e-12))
        dsd = (-2.0 * w @ dk) / (2.0 * sd) if var > 1e-12 else np.zeros_like(x)
        return mu, dmu, sd, dsd

    def climb(
        self, kind: int, best: float, kappa: float, xi: float
    ) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
        """The acquisition at one point and its gradient, for ``refine``."""

        def at(x: np.ndarray) -> tuple[float, np.ndarray]:
            mu, dmu, sd, dsd = self.at(x)
            a, da_mu, da_sd = acq_value_grad(kind, mu, sd, best, kappa, xi)
            return float(a), da_mu * dmu + da_sd * dsd

        return at


def acq_value_grad(kind: int, mu, sd, best: float, kappa: float, xi: float):
    """The acquisition to maximise and its partials in mu and sd: 0 LCB, 1 EI, 2 PI, 3 mean."""
    if kind == 0:
        return -(mu - kappa * sd), -1.0, kappa
    if kind == 3:
        return -mu, -1.0, 0.0
    z = (best - xi - mu) / sd
    cdf, pdf = norm.cdf(z), norm.pdf(z)
    if kind == 1:
        return (best - xi - mu) * cdf + sd * pdf, -cdf, pdf
    return cdf, -pdf / sd, -pdf * z / sd


def refine(
    acquisition: Callable[[np.ndarray], tuple[float, np.ndarray]],
    starts: np.ndarray,
    ordered: np.ndarray,
    maxiter: int,
) -> np.ndarray:
    """Each start moved uphill on ``acquisition`` (value and gradient at one point) within the
    unit cube, ordered columns only."""
    out = starts.copy()
    if not len(ordered):
        return out
    for i, x0 in enumerate(starts):
        x = x0.copy()

        def neg(u: np.ndarray, x=x) -> tuple[float, np.ndarray]:
            x[ordered] = u
            a, grad = acquisition(x)
            return -a, -grad[ordered]

        res = minimize(neg, x0[ordered], jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * len(ordered),
                       options={"maxiter": maxiter})  # fmt: skip
        out[i, ordered] = np.clip(res.x, 0.0, 1.0)
    return out
