"""The acquisition's std is damped within a tenth of a range of the box's faces."""

from __future__ import annotations

import numpy as np

from hpwidgets.core.search.optimizers.bayes import BayesOptimizer
from hpwidgets.core.search.optimizers.codec import Codec
from hpwidgets.core.search.optimizers.gp_faces import face_weight
from hpwidgets.core.search.space import Integer, Real

ORDERED = np.array([0, 1])


def test_the_weight_falls_linearly_to_a_floor_at_the_faces_on_ordered_columns_only():
    # Column 2 is a category's one-hot column: its 0 and 1 are not faces.
    u = np.array([[0.5, 0.5, 0.0], [0.05, 0.5, 1.0], [0.05, 0.95, 0.0], [0.0, 0.5, 0.0], [0.1, 0.9, 1.0]])
    assert np.allclose(face_weight(u, ORDERED), [1.0, 0.5, 0.25, 1e-3, 1.0], rtol=1e-12, atol=0)


def test_an_integers_end_values_count_from_the_edge_of_their_own_share_of_the_range():
    # A 0/1 flag is all ends: measured from the middle of the gap between its two values it is
    # never near a face, so it cannot switch exploration off for the whole space. An integer of
    # 8 values (k = 7) keeps its ends 1/14 from a face; a real's end is at 0.
    codec = Codec({"x": Real(0.0, 1.0), "b": Integer(0, 1), "n": Integer(1, 8)})
    half = codec.half_steps(np.array([0, 1, 2]))
    assert half.tolist() == [0.0, 0.5, 1 / 14]
    u = np.array([[0.5, 0.0, 0.5], [0.5, 1.0, 1.0], [0.0, 1.0, 0.5]])
    assert np.allclose(face_weight(u, np.array([0, 1, 2]), half), [1.0, 10 / 14, 1e-3], rtol=1e-12, atol=0)


def test_a_flat_objective_sends_no_trial_to_a_face():
    # Ten trials in the middle of the range, all with the same loss: the std alone is highest at
    # the two ends, where the undamped bound goes (x = -2.0 and 2.0 among these 11 trials).
    # Damped, every trial stays out of the outer tenths of the range, |x| <= 1.6.
    opt = BayesOptimizer({"x": Real(-2.0, 2.0)}, "gp", seed=0, random_starts=2)
    rng = np.random.default_rng(0)
    for x in np.linspace(-0.5, 0.5, 10):
        opt.tell({"x": float(x)}, 0.0 + 1e-3 * rng.standard_normal())
    xs = []
    for _ in range(11):
        p = opt.ask()
        xs.append(p["x"])
        opt.tell(p, 0.0 + 1e-3 * rng.standard_normal())
    assert max(abs(x) for x in xs) <= 1.6 + 1e-9, xs
