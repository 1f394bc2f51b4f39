"""`hpw tensorboard`: the selected runs as a TensorBoard log directory (series as scalars, flags
and final scalars as HParams sessions), then TensorBoard on it when installed."""

from __future__ import annotations

import importlib.util
import os
import struct

import pytest

from hpwidgets import api
from hpwidgets.core.run.output.event_files import EventFiles
from hpwidgets.core.store.runstore import Store
from tests.helpers import hpw

SCRIPT = """
x = 1
for epoch in range(1, 4):
    print(f"Epoch {epoch}/3 - loss: {x / epoch} - val_loss: {2 * x / epoch}")
"""


def test_the_runs_series_and_final_scalars_are_written_as_tensorboard_reads_them(home, write_script, tmp_path):
    path = write_script(SCRIPT)
    api.run(path, {"x": [1, 2]})
    api.run(path, {"x": 3}, label="third")
    logdir = tmp_path / "tb"
    done = hpw("tensorboard", "--no-start", "--logdir", str(logdir), "-l", "x=")  # the filters of `hpw runs`
    assert done.stdout == f"Wrote 2 runs to {logdir}\n"
    store = Store()
    runs = {r.short_id: r for r in store.runs()}
    folders = sorted(n for n in os.listdir(logdir) if os.path.isdir(logdir / n))
    assert folders == sorted(f"{r.short_id} {r.label}" for r in runs.values() if r.label != "third")
    for name in folders:
        run = runs[name.split()[0]]
        found: dict = {}
        for tag, step, value in EventFiles(str(logdir / name)).read_new():  # HParams tensors are not scalars
            found.setdefault(tag, []).append([step, value])
        assert found == {k: [[s, _f32(v)] for s, v in points] for k, points in store.series(run.id).items()}
    again = hpw("tensorboard", "--no-start", "--logdir", str(logdir))  # an export of ours is replaced whole
    assert again.stdout == f"Wrote 3 runs to {logdir}\n" and len(os.listdir(logdir)) == 5  # mark, top file, 3 runs


def test_without_tensorboard_one_line_says_how_to_install_it(home, tmp_path):
    if importlib.util.find_spec("tensorboard") is not None:
        pytest.skip("tensorboard is installed here: `hpw tensorboard` would start it")
    done = hpw("tensorboard", "--logdir", str(tmp_path / "tb"))
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1] == (
        f"TensorBoard is not installed: `pip install tensorboard`, then `tensorboard --logdir {tmp_path / 'tb'}`")


def _f32(value: float) -> float:
    """The value as a simple value holds it (32 bits)."""
    return struct.unpack("<f", struct.pack("<f", value))[0]
