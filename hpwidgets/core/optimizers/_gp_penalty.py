"""Local penalization of pending trials, for suggestions made while other trials still run.

A pending trial at x_j will likely not find a value better than the best so far anywhere
within radius (mu(x_j) - best) / L of it, L being the objective's steepest slope (estimated from
the posterior mean). A candidate's acquisition is multiplied by the probability that it lies
outside every such ball: far points keep their value, points near a pending trial lose it, so
the trials in flight spread out (after González et al., "Batch Bayesian Optimization via Local
Penalization", 2016). The acquisition itself also sees the pending trials: GP.predict shrinks
the std near them (the "kriging believer"'s variance), which alone sent a kappa-3 bound's trials
in flight to far corners. Together, with kappa halved while trials run, they beat either
alone with 4 workers (Branin and digits at 20 trials, bench/README.md).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import expit, log_ndtr

from hpwidgets.core.optimizers._gp import GP

_SQRT5 = math.sqrt(5.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def mean_slopes(gp: GP, probe: np.ndarray) -> np.ndarray:
    """Norm of the posterior mean's gradient at each probe point, in length-scale units."""
    alpha = gp.weights()
    diff = (probe[:, None, :] - gp.x[None, :, :]) / gp.ls  # m x n x d
    r = np.sqrt((diff * diff).sum(2))
    w = -(gp.amp * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * np.exp(-_SQRT5 * r)) * alpha
    # d mu / d(x / ls) = sum_i w_i * diff_i
    return np.linalg.norm(np.einsum("mn,mnd->md", w, diff), axis=1)


class LocalPenalty:
    """The log of an acquisition (made positive by softplus) times each pending trial's penalty."""

    def __init__(self, gp: GP, pending: np.ndarray, probe: np.ndarray) -> None:
        self.pending, self.ls = pending, gp.ls
        self.lip = max(float(mean_slopes(gp, probe).max()), 1e-7)
        mu, sd = gp.predict(pending)
        # a pending trial expected to beat the best so far still covers its own spot
        best = min(float(gp.train_mean().min()), float(mu.min()))
        self.reach = mu - best  # the ball's radius times lip
        self.sd = sd

    def apply(self, cands: np.ndarray, acq: np.ndarray) -> np.ndarray:
        out = _log_softplus(acq)
        for j, p in enumerate(self.pending):
            dist = np.sqrt((((cands - p) / self.ls) ** 2).sum(1))
            out = out + log_ndtr((self.lip * dist - self.reach[j]) / self.sd[j])
        return out

    def apply_with_grad(self, x: np.ndarray, acq: float, d_acq: np.ndarray) -> tuple[float, np.ndarray]:
        """The penalized value at one point and its gradient, given the acquisition's."""
        steps = (x - self.pending) / self.ls  # one row per pending trial
        dist = np.maximum(np.sqrt((steps * steps).sum(1)), 1e-12)
        z = (self.lip * dist - self.reach) / self.sd
        log_phi = log_ndtr(z)
        ratio = np.exp(-0.5 * z * z - _LOG_SQRT_2PI - log_phi)  # d log Phi(z) / dz
        value = float(_log_softplus(np.array([acq]))[0] + log_phi.sum())
        coef = ratio * self.lip / (self.sd * dist)
        grad = _d_log_softplus(acq) * d_acq + (coef[:, None] * steps).sum(0) / self.ls
        return value, grad


def _log_softplus(a: np.ndarray) -> np.ndarray:
    # log(log(1 + e^a)), which tends to a for very negative a
    a = np.asarray(a, float)
    return np.where(a < -30.0, a, np.log(np.logaddexp(0.0, np.maximum(a, -30.0))))


def _d_log_softplus(a: float) -> float:
    if a < -30.0:
        return 1.0
    return float(expit(a) / np.logaddexp(0.0, a))
