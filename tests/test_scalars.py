"""Printed lines to output scalars: Guild's one pair per line, and lines made only of pairs."""

from __future__ import annotations

import pytest

from hpwidgets.core.run.scalars import ScalarLog


@pytest.mark.parametrize(("line", "recorded", "step"), [
    ("loss: 0.12", [("loss", None, 0.12)], None),
    ("acc: 0.9 (step 2)", [("acc", 2, 0.9)], 2),
    ("step: 4", [], 4),
    ("  loss: -1.5e-3  ", [("loss", None, -0.0015)], None),
    ("epoch: 1 val_loss: 1.07 acc: 0.643", [("epoch", None, 1.0), ("val_loss", None, 1.07), ("acc", None, 0.643)],
     None),
    ("loss: 0.3 - val_loss: -0.4", [("loss", None, 0.3), ("val_loss", None, -0.4)], None),
    ("loss: 0.2, step: 5, lr: 0.1", [("loss", 5, 0.2)], 5),  # the step first; a flag's echo is not a result
    ("a: 1 | b: nan;", [("a", None, 1.0), ("b", None, float("nan"))], None),
    ("Epoch 3/10 - loss: 0.2", [], None),  # words that are not pairs: nothing, as Guild
    ("loss: 0.2 done", [], None),
    ("x: 1 y: two", [], None),
    ("note: loss: 0.2", [], None),
])
def test_a_line_gives_its_scalars(line, recorded, step):
    log = ScalarLog(ignore=frozenset({"lr"}))
    got = log.feed(line)
    assert repr(got) == repr(recorded) and log.step == step


def test_series_and_last_values_follow_the_lines():
    log = ScalarLog()
    for epoch in (1, 2):
        log.feed(f"step: {epoch}  loss: {1 / epoch}  acc: {epoch / 4}")
    assert log.series == {"loss": [(1, 1.0), (2, 0.5)], "acc": [(1, 0.25), (2, 0.5)]}
    assert (log.last, log.step) == ({"loss": 0.5, "acc": 0.5}, 2)
