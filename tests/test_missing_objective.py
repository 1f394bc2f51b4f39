"""An objective that will never come: the batch stops after the first trial that printed scalars
but not the objective, with one line naming what it printed and the closest name."""

from __future__ import annotations

from hpwidgets import api
from hpwidgets.core.records import Status
from hpwidgets.core.search.objective import Objective
from tests.helpers import hpw

KERAS_STYLE = """
import time
lr = 0.1
for epoch in range(1, 4):
    print(f"Epoch {epoch}/3 - loss: {lr / epoch:.4f} - val_loss: {lr * 2 / epoch:.4f} - val_acc: 0.91")
time.sleep(5 if lr > 0.15 else 0)  # the first trial ends first
"""


def test_the_closest_printed_name_is_suggested():
    objective = Objective("val_los")
    assert objective.missing(["val_loss", "loss", "val_acc"]) == (
        "No trial printed val_los, the column this batch would minimize; the trials printed: loss, val_acc, "
        "val_loss (did you mean val_loss?)")
    assert Objective("auc", "max").missing([]) == (
        "No trial printed auc, the column this batch would maximize; the trials printed: no scalars at all")


def test_a_mistyped_objective_stops_the_batch_after_one_trial(home, write_script):
    path = write_script(KERAS_STYLE)
    batch = api.run(path, {"lr": [0.1, 0.2, 0.3, 0.4, 0.9, 1.0]}, minimize="val_los", workers=2)
    statuses = [r.status for r in batch.runs]
    assert statuses[0] is Status.FAILED and len(statuses) == 2  # the trial beside it was stopped, no more began
    assert batch.finished.status == "failed"
    assert batch.snapshot().missing_objective().endswith("the trials printed: loss, val_acc, val_loss "
                                                         "(did you mean val_loss?)")


def test_the_cli_says_it_once_and_exits_1(home, write_script):
    path = write_script(KERAS_STYLE)
    done = hpw("run", path, "lr=[0.1,0.2,0.3]", "--minimize", "val_los", "-y")
    assert done.returncode == 1
    assert done.stdout.count("did you mean val_loss?") == 1
    assert "Batch" in done.stdout and "1 failed" in done.stdout and done.stdout.count("Running trial") == 1


def test_a_trial_that_printed_nothing_does_not_stop_the_batch(home, write_script):
    path = write_script("x = 1\nif x > 1:\n    print('loss: 0.5')\n")
    batch = api.run(path, {"x": [1, 2]})
    assert [r.status for r in batch.runs] == [Status.FAILED, Status.COMPLETED]
