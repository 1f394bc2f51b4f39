"""Where to look next: a space-filling start, then the GP's acquisition over candidates.

Points live in the unit cube that BayesOptimizer's codec maps flags into; the model is _gp.GP.
"""

from __future__ import annotations

import numpy as np

from hpwidgets.core.search.optimizers.gp_faces import face_weight
from hpwidgets.core.search.optimizers.gp_model import GP
from hpwidgets.core.search.optimizers.gp_refine import Posterior, refine


class GPSearch:
    """Suggests points in the encoded unit space: space-filling design, then GP acquisition.

    ``codec`` provides ``ndims``, ``from_raw(R)`` (one [0, 1) coordinate per dimension to an
    encoding), ``snap(U)`` (nearest valid encodings), ``perturb(U, scale, rng)`` and
    ``half_steps(columns)`` (half the gap between an integer's encoded values).
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
        self.gp = GP(codec.ncols, noise=noise, onehot=codec.onehot_columns())
        self._ordered = np.setdiff1d(np.arange(codec.ncols), codec.onehot_columns())
        self._half_steps = codec.half_steps(self._ordered)
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
        mu, sd = self.gp.predict(cands, pending)
        values = self._acquire(mu, sd, cands, pending)
        if len(self.gp.y) <= 200:
            return self._refined(cands, values, pending)
        # Past 200 points a gradient step costs too much: small random steps around the winner.
        best = _sel(values, cands, pending)
        local = np.vstack([best[None], self.codec.perturb(np.repeat(best[None], 64, 0), 0.02, self.rng)])
        return _sel(self._score(local, pending), local, pending)

    def _score(self, points: np.ndarray, pending: np.ndarray) -> np.ndarray:
        """The acquisition at points, with the kind gp_hedge chose this round."""
        mu, sd = self.gp.predict(points, pending)
        return self._acquire(mu, sd, points, pending, hedge=False)

    def _refined(self, cands: np.ndarray, values: np.ndarray, pending: np.ndarray) -> np.ndarray:
        """The best candidates moved uphill by L-BFGS-B, snapped, and compared with all candidates."""
        order = np.argsort(-values)
        _, first = np.unique(cands[order].round(6), axis=0, return_index=True)
        starts = cands[order[np.sort(first)[:5]]]
        moved = self.codec.snap(refine(Posterior(self.gp, pending), starts, self._ordered, self._kind(pending),
                                       self._incumbent(), self._kappa(pending), self.xi, 30))  # fmt: skip
        allc = np.vstack([cands, moved])
        return _sel(np.concatenate([values, self._score(moved, pending)]), allc, pending)

    def _kappa(self, pending: np.ndarray) -> float:
        # Trials in flight shrink the std near them (GP.predict), so a kappa-3 bound would send
        # the others to far corners; half of it keeps them where the model expects good values
        # (bench/README.md: Branin, digits and Hartmann-3 with 4 workers).
        return self.kappa / 2 if len(pending) else self.kappa

    def _kind(self, pending: np.ndarray) -> int:
        n_left = None if self.budget is None else self.budget - self.n_obs - len(pending)
        if n_left is not None and n_left <= self.exploit:
            return 3
        return self._last_choice if self.acq == "gp_hedge" else {"LCB": 0, "EI": 1, "PI": 2}[self.acq]

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
        kappa = self._kappa(pending)
        sd = sd * face_weight(cands, self._ordered, self._half_steps)  # no trial at a face for its std alone
        if self.acq != "gp_hedge":
            return _acq(kinds[self.acq], mu, sd, self._incumbent(), kappa, self.xi)
        values = [_acq(k, mu, sd, self._incumbent(), kappa, self.xi) for k in range(3)]
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
