"""A small Gaussian process for BayesOptimizer: Matern-5/2 ARD kernel, fitted Gaussian noise.

Inputs live in the unit cube. Targets are standardised here. Hyperparameters are fitted by
maximum a posteriori (weak log-normal priors keep tiny samples from degenerate fits) on at most
``max_fit`` points; the exact posterior then uses every point through a Cholesky factor that is
extended row by row, so adding an observation costs O(n^2) instead of a refit's O(n^3).
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
# Log-normal priors (mean, sd) on log lengthscale, log signal variance, log noise variance.
_PRIOR_LS = (math.log(0.3), 1.0)
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


def _neg_log_posterior(theta: np.ndarray, x: np.ndarray, y: np.ndarray, fixed_noise: float | None):
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
    means = [_PRIOR_LS[0]] * d + [_PRIOR_AMP[0]] + ([_PRIOR_NOISE[0]] if fixed_noise is None else [])
    sds = [_PRIOR_LS[1]] * d + [_PRIOR_AMP[1]] + ([_PRIOR_NOISE[1]] if fixed_noise is None else [])
    z = (theta - np.array(means)) / np.array(sds)
    return nll + 0.5 * (z * z).sum(), grad + z / np.array(sds)


class GP:
    """Exact GP posterior over all points, hyperparameters refitted only when asked."""

    def __init__(self, dim: int, noise: float | None = None, max_fit: int = 200) -> None:
        self.dim = dim
        self.fixed_noise = noise  # variance in objective units, or None to fit it
        self.max_fit = max_fit
        self.ls = np.full(dim, 0.3)
        self.amp = 1.0
        self.noise = 1e-2
        self._theta: np.ndarray | None = None
        self.x = np.empty((0, dim))
        self.y = np.empty(0)
        self._low = np.empty((0, 0))
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
        self._zm, self._zs = (float(y.mean()), float(y.std() or 1.0)) if len(y) else (0.0, 1.0)
        self._zc = (y - self._zm) / self._zs
        return self._zc

    def _noise_z(self) -> float:
        return self.noise

    # -- fitting ------------------------------------------------------------------------
    def fit(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> None:
        """Set the data and refit hyperparameters (warm-started from the last fit)."""
        self.x, self.y, self._zc = np.asarray(x, float), np.asarray(y, float), None
        self._lam = None  # the warp is chosen here and kept until the next fit
        if len(self.y) > 2 and self.y.std() > 0 and skew(self.y) > _SKEW:
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
        starts = [np.array([_PRIOR_LS[0]] * d + [0.0] + ([math.log(1e-2)] if fixed is None else []))]
        if self._theta is not None and len(self._theta) == len(starts[0]):
            # warm start; with plenty of data the last optimum alone is a good start
            starts = [self._theta] if len(idx) > 50 else [self._theta, *starts]
        best = None
        for theta0 in starts:
            res = minimize(
                _neg_log_posterior, theta0, args=(x, z, fixed), jac=True, method="L-BFGS-B",
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

    def add(self, x: np.ndarray, y: float) -> None:
        """Append one observation with the current hyperparameters: O(n^2)."""
        x = np.asarray(x, float)[None, :]
        self._low = _extend(self._low, self.x, x, self.ls, self.amp, self._noise_z() + _JITTER)
        self.x = np.vstack([self.x, x])
        self.y, self._zc = np.append(self.y, float(y)), None

    # -- posterior ----------------------------------------------------------------------
    def predict(self, xs: np.ndarray, pending: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and std (of the latent function) in standardised units.

        Pending points enter as noiseless observations at their posterior mean (the "kriging
        believer"): the mean is unchanged, the variance near them collapses, so acquisition
        moves elsewhere.
        """
        z = self._z()
        kxs = matern52(self.x, xs, self.ls, self.amp)
        v = solve_triangular(self._low, kxs, lower=True)
        beta = solve_triangular(self._low, z, lower=True)
        mu = v.T @ beta
        var = self.amp - (v * v).sum(0)
        if pending is not None and len(pending):
            low = _extend(self._low, self.x, pending, self.ls, self.amp, _JITTER * 100)
            kps = matern52(pending, xs, self.ls, self.amp)
            vp = solve_triangular(low, np.vstack([kxs, kps]), lower=True)
            var = self.amp - (vp * vp).sum(0)
        return mu, np.sqrt(np.maximum(var, 1e-12))

    def train_mean(self) -> np.ndarray:
        """Posterior mean at the observed points, O(n^2): K a = z - noise a."""
        z = self._z()
        alpha = cho_solve((self._low, True), z)
        return z - (self._noise_z() + _JITTER) * alpha

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


class GPSearch:
    """Suggests points in the encoded unit space: space-filling design, then GP acquisition.

    ``codec`` provides ``ndims``, ``from_raw(R)`` (one [0, 1) coordinate per dimension to an
    encoding), ``snap(U)`` (nearest valid encodings) and ``perturb(U, scale, rng)``.
    """

    def __init__(
        self,
        codec,
        rng: np.random.Generator,
        n_init: int,
        acq: str = "LCB",
        kappa: float = 1.96,
        xi: float = 0.01,
        noise: float | None = None,
        budget: int | None = None,
        exploit: int = 0,
    ) -> None:
        self.codec, self.rng, self.n_init = codec, rng, n_init
        self.acq, self.kappa, self.xi = acq, kappa, xi
        self.budget, self.exploit = budget, exploit
        self.gp = GP(codec.ncols, noise=noise)
        self._design = _sobol(codec.ndims, rng)
        self._n_design = 0
        self._queue: list[tuple[np.ndarray, float]] = []
        self._fit_n = 0
        self._gains = np.zeros(3)  # gp_hedge: LCB, EI, PI
        self._proposals: np.ndarray | None = None
        self._last_choice = 0

    @property
    def n_obs(self) -> int:
        return len(self.gp.y) + len(self._queue)

    def add(self, u: np.ndarray, y: float) -> None:
        self._queue.append((np.asarray(u, float), float(y)))

    def _update(self) -> None:
        if not self._queue:
            return
        x = np.vstack([self.gp.x] + [u[None] for u, _ in self._queue])
        y = np.concatenate([self.gp.y, [v for _, v in self._queue]])
        self._queue = []
        if len(y) <= 50 or len(y) >= 1.15 * self._fit_n:  # refit rarely once data is plenty
            self.gp.fit(x, y, self.rng)
            self._fit_n = len(y)
        else:
            for u, v in zip(x[len(self.gp.y) :], y[len(self.gp.y) :]):
                self.gp.add(u, v)
        if self._proposals is not None:  # gp_hedge rewards: low predicted mean at proposals
            self._gains -= self.gp.predict(self._proposals)[0]
            self._proposals = None

    def suggest(self, pending: np.ndarray) -> np.ndarray:
        if self.n_obs + len(pending) < self.n_init or self.n_obs < 2:
            return self._next_design()
        self._update()
        cands = self._candidates()
        mu, sd = self.gp.predict(cands, pending if len(pending) else None)
        best = _sel(self._acquire(mu, sd, cands, pending), cands, pending)
        # Refine around the winner with small steps; keep it if nothing beats it.
        local = np.vstack([best[None], self.codec.perturb(np.repeat(best[None], 64, 0), 0.02, self.rng)])
        mu, sd = self.gp.predict(local, pending if len(pending) else None)
        return _sel(self._acquire(mu, sd, local, pending, hedge=False), local, pending)

    def _next_design(self) -> np.ndarray:
        i = self._n_design
        self._n_design += 1
        raw = self._design[i] if i < len(self._design) else self.rng.random(self.codec.ndims)
        return self.codec.from_raw(raw[None])[0]

    def _candidates(self) -> np.ndarray:
        n = len(self.gp.y)
        m = int(np.clip(1e8 / max(n, 1) ** 2, 256, 1024))  # bounded cost at large n
        glob = self.codec.from_raw(self.rng.random((m, self.codec.ndims)))
        top = self.gp.x[np.argsort(self.gp.y)[:4]]
        loc = [self.codec.perturb(np.repeat(top, m // 16, 0), s, self.rng) for s in (0.15, 0.04)]
        return np.vstack([glob, top, *loc])

    def _acquire(self, mu, sd, cands, pending, hedge: bool = True) -> np.ndarray:
        n_left = None if self.budget is None else self.budget - self.n_obs - len(pending)
        if n_left is not None and n_left <= self.exploit:
            return -mu  # the last trials go where the model expects the minimum
        kinds = {"LCB": 0, "EI": 1, "PI": 2}
        kappa = self.kappa
        if self.acq != "gp_hedge":
            return _acq(kinds[self.acq], mu, sd, self._incumbent(), kappa, self.xi)
        values = [_acq(k, mu, sd, self._incumbent(), self.kappa, self.xi) for k in range(3)]
        if not hedge:
            return values[self._last_choice]
        picks = np.array([np.argmax(v) for v in values])
        p = np.exp(self._gains - self._gains.max())
        self._last_choice = int(self.rng.choice(3, p=p / p.sum()))
        self._proposals = cands[picks]
        return values[self._last_choice]

    def _incumbent(self) -> float:
        return float(self.gp.train_mean().min())

    def posterior(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        if self.n_obs < 2:
            return None
        self._update()
        return self.gp.to_units(*self.gp.predict(u))


def _acq(kind: int, mu, sd, best: float, kappa: float, xi: float) -> np.ndarray:
    """Acquisition to maximise: 0 = LCB (negated), 1 = EI, 2 = PI, on standardised units."""
    from scipy.stats import norm

    if kind == 0:
        return -(mu - kappa * sd)
    z = (best - xi - mu) / sd
    if kind == 1:
        return (best - xi - mu) * norm.cdf(z) + sd * norm.pdf(z)
    return norm.cdf(z)


def _sel(values: np.ndarray, cands: np.ndarray, pending: np.ndarray) -> np.ndarray:
    """The best candidate that is not a pending point."""
    if len(pending):
        dist = np.abs(cands[:, None, :] - pending[None, :, :]).max(2).min(1)
        values = np.where(dist < 1e-9, -np.inf, values)
    return cands[int(np.argmax(values))]


def _sobol(d: int, rng: np.random.Generator) -> np.ndarray:
    from scipy.stats import qmc

    return qmc.Sobol(d, scramble=True, seed=rng).random_base2(6)
