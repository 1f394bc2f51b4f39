"""What real training stacks print, recorded from the libraries (tests/data/stacks/), read into the
series each library recorded itself, steps included; and a recorded output run as a trial."""

from __future__ import annotations

import json
import os

import pytest

from hpwidgets import api
from hpwidgets.core.run.executors.subprocess_group import Segments
from hpwidgets.core.run.output.reader import OutputReader
from hpwidgets.core.run.scalars import ScalarLog
from hpwidgets.core.store.runstore import Store
from tests.helpers import hpw

STACKS = os.path.join(os.path.dirname(__file__), "data", "stacks")
# Each stack prints its values rounded: Lightning's bar to 3 significant digits, Hugging Face's
# Trainer to 4, Keras to 4 decimals, LightGBM and XGBoost to 5 or 6.
PRINTED = {"keras_v1": 1e-3, "keras_v2": 1e-3, "lightning": 5e-3, "transformers": 1e-3, "xgboost": 1e-4,
           "lightgbm": 1e-4}


def read(stack: str, chunk: int = 4096, settled: list | None = None) -> tuple[ScalarLog, list[str]]:
    """The recorded bytes through the same path a trial's output takes, in pipe-sized chunks;
    ``settled`` collects the values a pruner would be told, as they become final."""
    log, lines = ScalarLog(), []
    reader = OutputReader(log)

    def on_segment(segment: str) -> None:
        line, _ = reader.feed(segment)
        if line is not None:
            lines.append(line)
        if settled is not None:
            settled.extend(log.take_settled())

    segments = Segments(on_segment)
    data = open(os.path.join(STACKS, f"{stack}.out"), "rb").read()
    for start in range(0, len(data), chunk):
        segments.feed(data[start:start + chunk])
    segments.feed(b"", final=True)
    last = reader.flush()
    return log, lines + ([last] if last is not None else [])


def recorded(stack: str) -> dict[str, list[tuple[int, float]]]:
    with open(os.path.join(STACKS, f"{stack}.json")) as fh:
        return {k: [(int(s), float(v)) for s, v in points] for k, points in json.load(fh)["series"].items()}


@pytest.mark.parametrize("stack", sorted(PRINTED))
def test_a_stacks_output_gives_the_series_the_library_recorded(stack):
    log, _ = read(stack)
    want = recorded(stack)
    assert sorted(log.series) == sorted(want)
    for name, points in want.items():
        got = log.series[name]
        assert [s for s, _ in got] == [s for s, _ in points], name
        assert [v for _, v in got] == pytest.approx([v for _, v in points], rel=PRINTED[stack], abs=1e-4), name


@pytest.mark.parametrize(("stack", "name"), [("keras_v1", "loss"), ("keras_v1", "val_loss"),
                                            ("lightning", "train_loss"), ("lightning", "val_loss")])
def test_a_pruner_is_told_each_epochs_final_value_once_never_a_bar_in_mid_epoch(stack, name):
    settled: list = []
    read(stack, settled=settled)
    told = [(step, value) for key, step, value in settled if key == name]
    want = recorded(stack)[name]
    assert [s for s, _ in told] == [s for s, _ in want]
    assert [v for _, v in told] == pytest.approx([v for _, v in want], rel=PRINTED[stack], abs=1e-4)


def test_the_step_is_the_counter_each_library_prints():
    assert recorded("keras_v2")["loss"][0][0] == 1  # Keras: Epoch 1/4
    assert recorded("lightning")["val_loss"][0][0] == 0  # Lightning: Epoch 0
    assert recorded("xgboost")["validation_1-logloss"][0][0] == 0  # XGBoost: [0]
    assert recorded("lightgbm")["valid_1-auc"][0][0] == 1  # LightGBM: [1]
    assert recorded("transformers")["eval_loss"][0][0] == 1  # Hugging Face: 'epoch': 1.0
    assert [read(s)[0].step for s in ("keras_v1", "lightning", "xgboost", "lightgbm", "transformers")] == [
        4, 3, 11, 13, 3]


def test_a_terminal_view_keeps_one_line_per_keras_epoch_and_no_backspace():
    _, lines = read("keras_v1", chunk=7)
    assert len(lines) == 8 and lines[0::2] == [f"Epoch {n}/4" for n in range(1, 5)]
    assert all("\x08" not in line and "\r" not in line for line in lines)
    assert lines[-1].endswith("- loss: 0.5028 - val_accuracy: 0.8000 - val_loss: 0.4663")


def test_a_keras_trial_stores_the_terminal_view_and_its_series(home, write_script):
    out = os.path.join(STACKS, "keras_v1.out")
    path = write_script(f"""
import sys, time
lr = 0.1
data = open({out!r}, "rb").read()
for start in range(0, len(data), 512):  # as a bar draws: in pieces, over time
    sys.stdout.buffer.write(data[start:start + 512])
    sys.stdout.buffer.flush()
    time.sleep(0.001)
""", name="keras_script.py")
    batch = api.run(path, {"lr": 0.1}, minimize="val_loss")
    store = Store()
    run, = batch.runs
    assert (run.step, run.scalars["val_loss"]) == (4, 0.4663)
    assert [s for s, _ in store.series(run.id)["val_loss"]] == [1, 2, 3, 4]
    text = store.output(run.id)
    assert text.count("\n") == 8 and "\x08" not in text and "\r" not in text
    shown = hpw("cat", run.id[:8], "--tail", "2")
    assert shown.stdout.splitlines() == ["Epoch 4/4", text.splitlines()[-1]]
