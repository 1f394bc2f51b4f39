"""Printed lines to output scalars: Guild's pairs, the training stacks' lines, steps and redraws."""

from __future__ import annotations

import pytest

from hpwidgets.core.run.scalars import ScalarLog

NAN = float("nan")


@pytest.mark.parametrize(("line", "recorded", "step"), [
    ("loss: 0.12", [("loss", None, 0.12)], None),
    ("acc: 0.9 (step 2)", [("acc", 2, 0.9)], 2),
    ("step: 4", [], 4),
    ("  loss: -1.5e-3  ", [("loss", None, -0.0015)], None),
    ("epoch: 1 val_loss: 1.07 acc: 0.643", [("val_loss", 1, 1.07), ("acc", 1, 0.643)], 1),  # the epoch is the step
    ("loss: 0.3 - val_loss: -0.4", [("loss", None, 0.3), ("val_loss", None, -0.4)], None),
    ("loss: 0.2, step: 5, lr: 0.1", [("loss", 5, 0.2)], 5),  # a step pair; a flag's echo is not a result
    ("step: 7 epoch: 2 loss: 0.5", [("loss", 7, 0.5)], 7),  # a step pair wins over an epoch pair
    ("a: 1 | b: nan;", [("a", None, 1.0), ("b", None, NAN)], None),
    ("Epoch 3/15 - loss: 0.3102 - val_loss: 0.4211 - val_acc: 0.91",
     [("loss", 3, 0.3102), ("val_loss", 3, 0.4211), ("val_acc", 3, 0.91)], 3),
    ("Epoch 2/4", [], 2),  # Keras's epoch line: the step of the lines after it
    ("20/20 - 0s - 2ms/step - accuracy: 0.6187 - loss: 0.6483", [("accuracy", None, 0.6187), ("loss", None, 0.6483)],
     None),
    ("Epoch 0: 100%|██████████| 10/10 [00:00<00:00, 212.33it/s, v_num=0, val_loss=0.617, val_acc=0.688]",
     [("val_loss", 0, 0.617), ("val_acc", 0, 0.688)], 0),  # Lightning counts from 0; v_num is no metric
    ("{'eval_loss': '0.6924', 'eval_runtime': '0.0149', 'epoch': '1'}",
     [("eval_loss", 1, 0.6924), ("eval_runtime", 1, 0.0149)], 1),
    ("{'loss': 0.6931, 'grad_norm': 1.5, 'epoch': 0.5}", [("loss", 1, 0.6931), ("grad_norm", 1, 1.5)], 1),
    ("[0]\tvalidation_0-logloss:0.57993\tvalidation_1-logloss:0.60421",
     [("validation_0-logloss", 0, 0.57993), ("validation_1-logloss", 0, 0.60421)], 0),
    ("[3]\ttraining's binary_logloss: 0.499391\tvalid_1's auc: 0.827781",
     [("training-binary_logloss", 3, 0.499391), ("valid_1-auc", 3, 0.827781)], 3),
    ("lr=0.1 loss=0.25, acc=0.5", [("loss", None, 0.25), ("acc", None, 0.5)], None),
    ("val_loss=tensor(0.3100)", [("val_loss", None, 0.31)], None),  # PyTorch's printing
    ("loss: tensor(0.25, grad_fn=<MeanBackward0>) - acc: np.float64(0.5)", [("loss", None, 0.25), ("acc", None, 0.5)],
     None),
    ("loss: inf - val_loss: -inf", [("loss", None, float("inf")), ("val_loss", None, float("-inf"))], None),
    ("loss: 0.2 done", [], None),  # words after the pairs: not a result line
    ("x: 1 y: two", [], None),
    ("note: loss: 0.2", [], None),  # a prefix must end in a separator
    ("TPU available: False, using: 0 TPU cores", [], None),
    ("The number of training batches (10) is smaller: Trainer(log_every_n_steps=50)", [], None),
    ("[LightGBM] [Info] [binary:BoostFromScore]: pavg=0.443750 -> initscore=-0.225956", [], None),
    ("ETA: 0s - 12:30:45", [], None),
    ("", [], None),
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


def test_a_step_keeps_one_point_per_key_the_last_printed():
    log = ScalarLog()
    log.feed("Epoch 1/2")
    log.feed("5/20 - loss: 0.9", redraw=True)
    log.feed("20/20 - loss: 0.7 - val_loss: 0.8", redraw=True)
    assert log.series == {"loss": [(1, 0.7)], "val_loss": [(1, 0.8)]}


def test_a_redraw_showing_the_previous_frames_value_records_nothing_but_a_new_epoch_may_repeat_a_value():
    log = ScalarLog()
    log.feed("Epoch 0: 100%| [v_num=0, val_loss=0.617]", redraw=True)
    assert log.feed("Epoch 1: 10%| [v_num=0, val_loss=0.617]", redraw=True) == []  # carried over from epoch 0
    assert log.feed("Epoch 1: 100%| [v_num=0, val_loss=0.617, acc=0.8]", redraw=True) == [("acc", 1, 0.8)]
    log.feed("Epoch 2/2")
    log.feed("1/20 - loss: 0.5", redraw=True)
    assert log.feed("20/20 - loss: 0.4 - acc: 0.8", redraw=True) == [("loss", 2, 0.4), ("acc", 2, 0.8)]


def test_a_summary_repeating_an_earlier_round_records_nothing():
    log = ScalarLog()
    for step, value in ((1, 0.5), (2, 0.4), (3, 0.45)):
        log.feed(f"[{step}]\tvalid_0's l2: {value}")
    assert log.feed("[2]\tvalid_0's l2: 0.4") == []
    assert (log.series, log.step) == ({"valid_0-l2": [(1, 0.5), (2, 0.4), (3, 0.45)]}, 3)


@pytest.mark.parametrize("line", [
    "x" * (1 << 20),
    "loss: " + "9" * 100_000,  # a number too long to be a float stays a huge float, not a crash
    "\x00\xff\ufffd binary \x1b[31m",
    "loss: 0.3 " * 10_000,
])
def test_bad_input_is_read_or_skipped_without_error(line):
    log = ScalarLog()
    log.feed(line)
    assert log.step is None
