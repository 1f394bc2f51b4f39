"""Partial dependence and importance (core/search/explain.py) on a separable function with known parts."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hpwidgets as hp

FLAGS = {"a": "[-1.0:1.0]", "lr": "loguniform[1e-4:1e-1]", "opt": "[adam,sgd]", "c": "[-1.0:1.0]"}


def part_a(a):
    return 3 * (a - 0.3) ** 2  # dominates


def part_lr(lr):
    return 0.4 * (np.log10(lr) + 2.5) ** 2


def separable(a=0.0, lr=0.01, opt="adam", c=0.0):
    return {"loss": float(part_a(a) + part_lr(lr) + (0.5 if opt == "sgd" else 0.0) + 0.0 * c)}


def negated(a=0.0, lr=0.01, opt="adam", c=0.0):
    return {"score": -separable(a, lr, opt, c)["loss"]}


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    batch = hp.run(separable, flags=FLAGS, max_trials=40, random_seed=3, store=str(tmp_path_factory.mktemp("s")))
    assert batch.finished.counts["completed"] == 40
    return batch.snapshot().explanation()


def _corr(found, name, truth):
    part = found.partials[name]
    return np.corrcoef(part.mean, truth(np.array(part.xs)))[0, 1]


def test_each_partial_curve_follows_its_true_part_after_40_trials(found):
    assert _corr(found, "a", part_a) > 0.9
    assert _corr(found, "lr", part_lr) > 0.9
    opt = found.partials["opt"]
    assert opt.xs == ("adam", "sgd") and opt.mean[1] > opt.mean[0]  # sgd costs 0.5 more
    flat = found.partials["c"].mean
    assert np.ptp(flat) < 0.02 * np.ptp(found.partials["a"].mean)  # c does nothing
    assert all((p.sd > 0).all() for p in found.partials.values())


def test_importance_ranks_the_dominant_flag_first_and_the_dead_one_last(found):
    assert list(found.importance)[0] == "a"
    assert list(found.importance)[-1] == "c"
    assert math.isclose(sum(found.importance.values()), 1.0)
    assert found.importance["c"] < 0.01
    assert found.contour.names[0] == "a" and found.contour.mean.shape == (len(found.contour.ys), len(found.contour.xs))


def test_a_maximized_objective_reads_in_its_own_units(tmp_path):
    batch = hp.run(negated, flags=FLAGS, max_trials=40, random_seed=3, maximize="score", store=str(tmp_path))
    found = batch.snapshot().explanation()
    assert _corr(found, "a", lambda a: -part_a(a)) > 0.9
    assert list(found.importance)[0] == "a" and list(found.importance)[-1] == "c"


def test_too_few_trials_explain_nothing(tmp_path):
    batch = hp.run(separable, flags={"a": "[-1.0:1.0]"}, max_trials=2, random_seed=1, store=str(tmp_path))
    assert batch.snapshot().explanation() is None
