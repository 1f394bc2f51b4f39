"""Our gp's unit-cube codec and its suggestions: exact values, same seed same points, no
suggestion outside the space or on a pending point."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hpwidgets.core.search.optimizers.bayes import BayesOptimizer
from hpwidgets.core.search.optimizers.codec import Codec
from hpwidgets.core.search.space import Categorical, Integer, Real

SPACE = {
    "lr": Real(1e-5, 1.0, log=True),
    "n": Integer(-3, 7),
    "opt": Categorical(("adam", 3, "3", True, 1.5)),
    "w": Real(-2.0, 3.0),
}


def loss(p: dict) -> float:
    return (math.log10(p["lr"]) + 2.5) ** 2 + 0.1 * (p["n"] - 4) ** 2 + (p["opt"] != "adam") + p["w"] ** 2


def test_integer_categorical_and_log_values_round_trip_exactly():
    codec = Codec(SPACE)
    base = {"lr": 1e-3, "n": 0, "opt": "adam", "w": 0.5}
    for n in range(-3, 8):
        assert codec.decode(codec.encode({**base, "n": n}))["n"] == n
    for choice in SPACE["opt"].choices:  # 3, "3", True and 1.5 stay apart, types included
        back = codec.decode(codec.encode({**base, "opt": choice}))["opt"]
        assert back == choice and type(back) is type(choice)
    for lr in (1e-5, 1.0):  # the bounds exactly
        assert codec.decode(codec.encode({**base, "lr": lr}))["lr"] == lr
    # Every value the codec produces decodes to itself after a re-encoding (pending points,
    # finished trials and priors go back through encode).
    units = codec.from_raw(np.random.default_rng(0).random((2000, 4)))
    for u in units:
        params = codec.decode(u)
        again = codec.decode(codec.encode(params))
        assert again == params and [type(v) for v in again.values()] == [type(v) for v in params.values()]
    assert codec.onehot_columns() == [2, 3, 4, 5, 6]


def parallel_search(seed: int, trials: int = 24, workers: int = 3) -> list[dict]:
    """Keeps ``workers`` points pending; finishes the oldest each time. Checks every suggestion."""
    opt = BayesOptimizer(SPACE, "gp", seed=seed, max_trials=trials)
    noise = np.random.default_rng(seed).normal(0.0, 0.1, trials)
    pending: list[dict] = []
    asked: list[dict] = []
    while len(asked) < trials:
        while len(pending) < workers and len(asked) < trials:
            p = opt.ask()
            assert p is not None and p not in pending
            assert type(p["lr"]) is float and 1e-5 <= p["lr"] <= 1.0
            assert type(p["w"]) is float and -2.0 <= p["w"] <= 3.0
            assert type(p["n"]) is int and -3 <= p["n"] <= 7
            assert any(p["opt"] == c and type(p["opt"]) is type(c) for c in SPACE["opt"].choices)
            pending.append(p)
            asked.append(p)
        done = pending.pop(0)
        opt.tell(done, loss(done) + float(noise[len(asked) - len(pending) - 1]))
    return asked


def test_same_seed_same_suggestions_and_none_outside_the_space_or_pending():
    first = parallel_search(seed=5)
    assert parallel_search(seed=5) == first
    assert parallel_search(seed=6) != first
    assert len({tuple(sorted((k, repr(v)) for k, v in p.items())) for p in first}) > 20


def test_categories_share_what_the_ordered_flags_teach():
    # The model's one-hot columns start from a longer length scale than the ordered ones.
    opt = BayesOptimizer(SPACE, "gp", seed=1, max_trials=20)
    gp = opt._engine.gp
    assert list(gp.ls_means) == [math.log(0.3), math.log(0.3)] + [0.0] * 5 + [math.log(0.3)]


def test_acquisition_gradients_match_finite_differences():
    # The L-BFGS-B refinement of the acquisition climbs analytic gradients: for LCB, EI, PI and
    # the posterior mean.
    from hpwidgets.core.search.optimizers.gp_model import GP
    from hpwidgets.core.search.optimizers.gp_refine import Posterior

    rng = np.random.default_rng(0)
    x = rng.random((15, 3))
    gp = GP(3)
    gp.fit(x, np.sin(3 * x).sum(1) + 0.1 * rng.standard_normal(15), rng)
    post = Posterior(gp)
    x0 = rng.random(3)
    mu, _, sd, _ = post.at(x0)
    assert np.allclose([mu, sd], [v[0] for v in gp.predict(x0[None])], rtol=1e-6)
    for kind in range(4):
        climb = post.climb(kind, 0.1, 2.0, 0.01)
        steps = np.eye(3) * 1e-6
        numeric = [(climb(x0 + e)[0] - climb(x0 - e)[0]) / 2e-6 for e in steps]
        assert np.allclose(climb(x0)[1], numeric, rtol=1e-4, atol=1e-7)


def _fitted_with_two_in_flight(seed: int):
    from hpwidgets.core.search.optimizers.gp_model import GP

    rng = np.random.default_rng(seed)
    x = rng.random((12, 2))
    gp = GP(2)
    gp.fit(x, (x[:, 0] - 0.3) ** 2 + x[:, 1], rng)
    return gp, np.array([[0.5, 0.5], [0.0, 1.0]]), rng


def test_each_draw_conditions_the_model_on_the_outcomes_it_drew():
    # A draw's mean and std are the posterior's once the trials in flight are observed (nearly
    # noiselessly) at the draw's outcomes; the std is the same in every draw, the best value
    # so far is the draw's lowest outcome when it beats the incumbent.
    from scipy.linalg import cho_solve

    from hpwidgets.core.search.optimizers.gp_fantasies import Fantasies
    from hpwidgets.core.search.optimizers.gp_model import matern52

    gp, pending, rng = _fitted_with_two_in_flight(4)
    fant = Fantasies(gp, pending, rng, incumbent=-0.5, draws=3)
    at = np.array([[0.5, 0.5], [0.02, 0.98], [0.3, 0.1]])
    mu, sd, means = fant.predict(at)
    assert np.allclose(mu, gp.predict(at)[0])
    mu_p = matern52(pending, gp.x, gp.ls, gp.amp) @ gp.weights()
    xv, low = gp.believing(pending)
    n = len(gp.x)
    for draw in range(3):
        outcomes = mu_p + low[n:, n:] @ fant.eps[draw]
        z = np.concatenate([gp._z(), outcomes])
        direct = matern52(xv, at, gp.ls, gp.amp).T @ cho_solve((low, True), z)
        assert np.allclose(means[draw], direct, atol=1e-6)
        assert fant.best[draw] == min(-0.5, outcomes.min())
    assert sd[0] < 2e-3 < gp.predict(at)[1][0]  # at a trial in flight: known in every draw
    assert sd[2] == pytest.approx(gp.predict(at)[1][2], rel=0.05)  # far from both: as before


def test_fantasy_acquisition_gradients_match_finite_differences():
    from hpwidgets.core.search.optimizers.gp_fantasies import Fantasies

    gp, pending, rng = _fitted_with_two_in_flight(5)
    fant = Fantasies(gp, pending, rng, incumbent=float(gp.train_mean().min()))
    x0 = np.array([0.31, 0.04])
    for kind in range(3):
        climb = fant.climb(kind, 3.0, 0.01)
        value, grad = climb(x0)
        assert value > 0
        steps = np.eye(2) * 1e-6
        numeric = [(climb(x0 + e)[0] - climb(x0 - e)[0]) / 2e-6 for e in steps]
        assert np.allclose(grad, numeric, rtol=1e-4, atol=1e-7)
        weight = np.ones(1)
        assert fant.values(kind, x0[None], 3.0, 0.01, weight)[0] == pytest.approx(value)


def test_where_no_trial_has_been_the_model_expects_the_worst_value_seen():
    # The prior mean is the worst observed value, not the average: far from every trial the
    # posterior mean returns to it, so the bound is drawn there by its std alone.
    from hpwidgets.core.search.optimizers.gp_model import GP

    rng = np.random.default_rng(6)
    x = 0.25 * rng.random((10, 2))
    y = np.sin(25 * x[:, 0]) + x[:, 1]
    gp = GP(2)
    gp.fit(x, y, rng)
    mu, _ = gp.to_units(*gp.predict(np.array([[1.0, 1.0], x[0]])))
    assert mu[0] == pytest.approx(y.max(), abs=1e-5)  # the average would be y.mean(), -0.115
    assert mu[1] == pytest.approx(y[0], abs=0.05)
