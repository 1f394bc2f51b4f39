"""Where to look next: a space-filling start, then the GP's acquisition over candidates.

Points live in the unit cube that BayesOptimizer's codec maps flags into; the model is _gp.GP.
"""

from __future__ import annotations

import numpy as np

from hpwidgets.core.search.optimizers.gp_faces import face_weight
from hpwidgets.core.search.optimizers.gp_fantasies import Fantasies
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
        view = self._view(pending)
        values = self._acquire(view, cands, pending)
        if len(self.gp.y) <= 200:
            return self._refined(view, cands, values, pending)
        # Past 200 points a gradient step costs too much: small random steps around the winner.
        best = _sel(values, cands, pending)
        local = np.vstack([best[None], self.codec.perturb(np.repeat(best[None], 64, 0), 0.02, self.rng)])
        return _sel(self._acquire(view, local, pending, hedge=False), local, pending)

    def _view(self, pending: np.ndarray) -> Fantasies | None:
        """How the trials in flight enter this suggestion: draws of their outcomes, or nothing."""
        if not len(pending) or self._exploiting(pending):
            return None
        return Fantasies(self.gp, pending, self.rng, self._incumbent())

    def _refined(self, view: Fantasies | None, cands: np.ndarray, values: np.ndarray,
                 pending: np.ndarray) -> np.ndarray:  # fmt: skip
        """The best candidates moved uphill by L-BFGS-B, snapped, and compared with all candidates."""
        order = np.argsort(-values)
        _, first = np.unique(cands[order].round(6), axis=0, return_index=True)
        starts = cands[order[np.sort(first)[:5]]]
        kind = self._kind(pending)
        if view is None:
            climb = Posterior(self.gp).climb(kind, self._incumbent(), self.kappa, self.xi)
        else:
            climb = view.climb(kind, self.kappa, self.xi)
        moved = self.codec.snap(refine(climb, starts, self._ordered, 30))
        allc = np.vstack([cands, moved])
        return _sel(np.concatenate([values, self._acquire(view, moved, pending, hedge=False)]), allc, pending)

    def _exploiting(self, pending: np.ndarray) -> bool:
        n_left = None if self.budget is None else self.budget - self.n_obs - len(pending)
        return n_left is not None and n_left <= self.exploit

    def _kind(self, pending: np.ndarray) -> int:
        if self._exploiting(pending):
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

    def _acquire(self, view: Fantasies | None, cands: np.ndarray, pending: np.ndarray,
                 hedge: bool = True) -> np.ndarray:  # fmt: skip
        """The acquisition at each candidate; with gp_hedge, ``hedge`` draws this round's kind."""
        if self._exploiting(pending):
            return -self.gp.predict(cands)[0]  # the last trials go where the model expects the minimum
        kinds = {"LCB": 0, "EI": 1, "PI": 2}
        weight = face_weight(cands, self._ordered, self._half_steps)  # no trial at a face for its std alone
        if view is None:
            mu, sd = self.gp.predict(cands)
            sd = sd * weight

            def score(kind: int) -> np.ndarray:
                return _acq(kind, mu, sd, self._incumbent(), self.kappa, self.xi)
        else:

            def score(kind: int) -> np.ndarray:
                return view.values(kind, cands, self.kappa, self.xi, weight)  # the draws keep trials apart: the whole kappa

        if self.acq != "gp_hedge":
            return score(kinds[self.acq])
        if not hedge:
            return score(self._last_choice)
        values = [score(k) for k in range(3)]
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
