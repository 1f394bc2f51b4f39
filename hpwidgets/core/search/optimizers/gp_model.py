"""A small Gaussian process for BayesOptimizer: Matern-5/2 ARD kernel, fitted Gaussian noise.

Inputs live in the unit cube. Targets are standardised here, with the worst value observed as
the prior mean (see ``_z``). Hyperparameters are fitted by maximum a posteriori (weak log-normal
priors keep tiny samples from degenerate fits) on at most ``max_fit`` points; the exact
posterior then uses every point through a Cholesky factor that is extended row by row, so adding
an observation costs O(n^2) instead of a refit's O(n^3).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import cho_solve, solve_triangular
from scipy.optimize import minimize
from scipy.stats import skew, yeojohnson

_SQRT5 = math.sqrt(5.0)
_SKEW = 0.5  # warp targets whose skewness exceeds this
_JITTER = 1e-8
_JITTER_PENDING = 1e-6  # a pending point's variance: a believer's value is not exact
# Log-normal priors (mean, sd) on log lengthscale, log signal variance, log noise variance.
_PRIOR_LS = (math.log(0.3), 1.0)
_PRIOR_LS_ONEHOT = math.log(1.0)  # one-hot columns: a category shares what it can
_PRIOR_AMP = (0.0, 1.0)
_PRIOR_NOISE = (math.log(1e-2), 0.5)
_BOUNDS_LS = (math.log(1e-2), math.log(20.0))
_BOUNDS_AMP = (math.log(1e-2), math.log(1e2))
_BOUNDS_NOISE = (math.log(1e-6), math.log(0.5))


def matern52(a: np.ndarray, b: np.ndarray, ls: np.ndarray, amp: float) -> np.ndarray:
    """Kernel matrix between rows of a and b (unit-cube inputs)."""
    a2, b2 = a / ls, b / ls
    d2 = (a2 * a2).sum(1)[:, None] + (b2 * b2).sum(1)[None, :] - 2.0 * a2 @ b2.T
    r = np.sqrt(np.maximum(d2, 0.0))
    return amp * (1.0 + _SQRT5 * r + (5.0 / 3.0) * d2.clip(0.0)) * np.exp(-_SQRT5 * r)


def _neg_log_posterior(theta: np.ndarray, x: np.ndarray, y: np.ndarray, fixed_noise: float | None,
                       ls_means: np.ndarray):
    """Negative log marginal likelihood plus log priors, and its gradient."""
    d = x.shape[1]
    ls, amp = np.exp(theta[:d]), math.exp(theta[d])
    noise = fixed_noise if fixed_noise is not None else math.exp(theta[d + 1])
    diff2 = ((x[:, None, :] - x[None, :, :]) / ls) ** 2  # n x n x d
    r2 = diff2.sum(2)
    r = np.sqrt(r2)
    e = np.exp(-_SQRT5 * r)
    k0 = (1.0 + _SQRT5 * r + (5.0 / 3.0) * r2) * e
    k = amp * k0 + (noise + _JITTER) * np.eye(len(y))
    try:
        low = np.linalg.cholesky(k)
    except np.linalg.LinAlgError:
        return 1e10, np.zeros_like(theta)
    alpha = cho_solve((low, True), y)
    nll = 0.5 * y @ alpha + np.log(np.diag(low)).sum()
    inner = np.outer(alpha, alpha) - cho_solve((low, True), np.eye(len(y)))
    grad = np.empty_like(theta)
    dk_ls = amp * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * e  # times diff2[..., k] per dimension
    grad[:d] = -0.5 * np.einsum("ij,ijk->k", inner * dk_ls, diff2)
    grad[d] = -0.5 * (inner * (amp * k0)).sum()
    if fixed_noise is None:
        grad[d + 1] = -0.5 * np.trace(inner) * noise
    # Priors: Gaussian on the log parameters.
    means = [*ls_means] + [_PRIOR_AMP[0]] + ([_PRIOR_NOISE[0]] if fixed_noise is None else [])
    sds = [_PRIOR_LS[1]] * d + [_PRIOR_AMP[1]] + ([_PRIOR_NOISE[1]] if fixed_noise is None else [])
    z = (theta - np.array(means)) / np.array(sds)
    return nll + 0.5 * (z * z).sum(), grad + z / np.array(sds)


class GP:
    """Exact GP posterior over all points, hyperparameters refitted only when asked."""

    def __init__(self, dim: int, noise: float | None = None, max_fit: int = 200, onehot=(),
                 describe: bool = False) -> None:
        self.dim = dim
        # A model that describes a finished search (the views) rather than choosing the next
        # trial: no warp, whose inverse explodes past the observed values, and the average as
        # prior mean, so that far from the trials it says "as usual", not "as bad as the worst".
        self.describe = describe
        # One-hot columns of a category: a longer prior length scale lets categories share
        # what the ordered flags teach instead of modelling each category apart.
        self.ls_means = np.full(dim, _PRIOR_LS[0])
        self.ls_means[list(onehot)] = _PRIOR_LS_ONEHOT
        self.fixed_noise = noise  # variance in objective units, or None to fit it
        self.max_fit = max_fit
        self.ls = np.exp(self.ls_means)
        self.amp = 1.0
        self.noise = 1e-2
        self._theta: np.ndarray | None = None
        self.x = np.empty((0, dim))
        self.y = np.empty(0)
        self._low = np.empty((0, 0))
        self._alpha: np.ndarray | None = None
        self._believed: tuple[bytes, np.ndarray, np.ndarray] | None = None
        self._zc: np.ndarray | None = None
        self._warp: tuple[float, float, float] | None = None
        self._lam: float | None = None
        self._zm, self._zs = 0.0, 1.0

    # -- targets ------------------------------------------------------------------------
    def _scale(self) -> tuple[float, float]:
        if len(self.y) == 0:
            return 0.0, 1.0
        sd = float(self.y.std())
        return float(self.y.mean()), sd if sd > 1e-12 else 1.0

    def _z(self) -> np.ndarray:
        """Standardised targets; skewed ones (long tails of bad trials) are Yeo-Johnson warped
        first so the model resolves the good region instead of the outliers."""
        if self._zc is not None and len(self._zc) == len(self.y):
            return self._zc
        y, self._warp = self.y, None
        if self._lam is not None and len(y) > 2 and y.std() > 0:
            m0, s0 = y.mean(), y.std()
            y = yeojohnson((y - m0) / s0, lmbda=self._lam)
            self._warp = (float(m0), float(s0), self._lam)
        # The prior mean is the worst value seen, not the average: far from every trial the model
        # expects nothing better than that, so the bound goes there for its std alone and not
        # for an average that bad trials make look good (bench/README.md: Branin, Hartmann,
        # digits and the mixed space gain; the tutorial at 10 trials loses).
        centre = y.mean() if self.describe else y.max()
        self._zm, self._zs = (float(centre), float(y.std() or 1.0)) if len(y) else (0.0, 1.0)
        self._zc = (y - self._zm) / self._zs
        return self._zc

    def _noise_z(self) -> float:
        return self.noise

    # -- fitting ------------------------------------------------------------------------
    def fit(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> None:
        """Set the data and refit hyperparameters (warm-started from the last fit)."""
        self.x, self.y, self._zc = np.asarray(x, float), np.asarray(y, float), None
        self._lam = None  # the warp is chosen here and kept until the next fit
        if not self.describe and len(self.y) > 2 and self.y.std() > 0 and skew(self.y) > _SKEW:
            self._lam = float(yeojohnson((self.y - self.y.mean()) / self.y.std())[1])
        if self.fixed_noise is not None:  # frozen in standardised units until the next fit
            self.noise = max(self.fixed_noise / self._scale()[1] ** 2, 1e-6)
        if len(self.y) >= 2:
            self._fit_hyper(rng)
        self._refactor()

    def _fit_hyper(self, rng: np.random.Generator) -> None:
        idx = np.arange(len(self.y))
        if len(idx) > self.max_fit:  # keep the best quarter, fill with a random sample
            order = np.argsort(self.y)
            best = order[: self.max_fit // 4]
            rest = rng.choice(order[self.max_fit // 4 :], self.max_fit - len(best), replace=False)
            idx = np.concatenate([best, rest])
        x, z = self.x[idx], self._z()[idx]
        fixed = None if self.fixed_noise is None else self._noise_z()
        d = self.dim
        bounds = [_BOUNDS_LS] * d + [_BOUNDS_AMP] + ([_BOUNDS_NOISE] if fixed is None else [])
        starts = [np.array([*self.ls_means] + [0.0] + ([math.log(1e-2)] if fixed is None else []))]
        if self._theta is not None and len(self._theta) == len(starts[0]):
            # warm start; with plenty of data the last optimum alone is a good start
            starts = [self._theta] if len(idx) > 50 else [self._theta, *starts]
        best = None
        for theta0 in starts:
            res = minimize(
                _neg_log_posterior, theta0, args=(x, z, fixed, self.ls_means), jac=True, method="L-BFGS-B",
                bounds=bounds, options={"maxiter": 60},
            )  # fmt: skip
            if best is None or res.fun < best.fun:
                best = res
        theta = best.x
        self._theta = theta
        self.ls, self.amp = np.exp(theta[:d]), math.exp(theta[d])
        if fixed is None:
            self.noise = math.exp(theta[d + 1])

    def _refactor(self) -> None:
        k = matern52(self.x, self.x, self.ls, self.amp)
        k[np.diag_indices_from(k)] += self._noise_z() + _JITTER
        self._low = np.linalg.cholesky(k)
        self._alpha = self._believed = None

    def add(self, x: np.ndarray, y: float) -> None:
        """Append one observation with the current hyperparameters: O(n^2)."""
        x = np.asarray(x, float)[None, :]
        self._low = _extend(self._low, self.x, x, self.ls, self.amp, self._noise_z() + _JITTER)
        self.x = np.vstack([self.x, x])
        self.y, self._zc, self._alpha, self._believed = np.append(self.y, float(y)), None, None, None

    # -- posterior ----------------------------------------------------------------------
    def predict(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and std (of the latent function) in standardised units."""
        z = self._z()
        kxs = matern52(self.x, xs, self.ls, self.amp)
        v = solve_triangular(self._low, kxs, lower=True)
        beta = solve_triangular(self._low, z, lower=True)
        mu = v.T @ beta
        var = self.amp - (v * v).sum(0)
        return mu, np.sqrt(np.maximum(var, 1e-12))

    def believing(self, pending: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The inputs and Cholesky factor with pending points added as near-noiseless
        observations, kept while data and pending stay: the factor's first block is the data's,
        its last rows condition on the trials in flight (gp_fantasies)."""
        key = np.ascontiguousarray(pending, float).tobytes()
        if self._believed is None or self._believed[0] != key:
            low = _extend(self._low, self.x, pending, self.ls, self.amp, _JITTER_PENDING)
            self._believed = (key, np.vstack([self.x, pending]), low)
        return self._believed[1], self._believed[2]

    def weights(self) -> np.ndarray:
        """K^-1 z: the posterior mean is k(x, X) @ weights. Kept until the data change: a
        suggestion reads it for the incumbent and at every step of the gradient climb."""
        if self._alpha is None:
            self._alpha = cho_solve((self._low, True), self._z())
        return self._alpha

    def train_mean(self) -> np.ndarray:
        """Posterior mean at the observed points, O(n^2): K a = z - noise a."""
        return self._z() - (self._noise_z() + _JITTER) * self.weights()

    def to_units(self, mu: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std in objective units; through a warp, the median and half the 68% band."""
        self._z()

        def back(z: np.ndarray) -> np.ndarray:
            t = z * self._zs + self._zm
            if self._warp is None:
                return t
            m0, s0, lam = self._warp
            return _yeojohnson_inverse(t, lam) * s0 + m0

        return back(mu), (back(mu + sd) - back(mu - sd)) / 2.0


def _yeojohnson_inverse(t: np.ndarray, lam: float) -> np.ndarray:
    pos, neg = np.maximum(t, 0.0), np.minimum(t, 0.0)
    if abs(lam) < 1e-9:
        up = np.expm1(pos)
    else:
        up = np.maximum(pos * lam + 1.0, 1e-12) ** (1.0 / lam) - 1.0
    if abs(lam - 2.0) < 1e-9:
        down = -np.expm1(-neg)
    else:
        down = 1.0 - np.maximum(1.0 - (2.0 - lam) * neg, 1e-12) ** (1.0 / (2.0 - lam))
    return np.where(t >= 0, up, down)


def _extend(low: np.ndarray, x: np.ndarray, new: np.ndarray, ls, amp, noise: float) -> np.ndarray:
    """Cholesky factor of the kernel matrix over x followed by new rows."""
    n, m = len(x), len(new)
    k12 = matern52(x, new, ls, amp)
    k22 = matern52(new, new, ls, amp) + noise * np.eye(m)
    l21 = solve_triangular(low, k12, lower=True).T if n else np.empty((m, 0))
    s = k22 - l21 @ l21.T
    l22 = np.linalg.cholesky(s + 1e-10 * np.eye(m))
    out = np.zeros((n + m, n + m))
    out[:n, :n], out[n:, :n], out[n:, n:] = low, l21, l22
    return out
