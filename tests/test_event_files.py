"""TensorBoard event files under a run directory: read without TensorFlow, as they grow, into the
series tensorboard's own loader reads; broken files are read as far as they can be framed."""

from __future__ import annotations

import json
import os
import struct

from hpwidgets import api
from hpwidgets.core.records import Status
from hpwidgets.core.run.output.event_files import EventFile, EventFiles, masked_crc
from tests.support.waiting import wait_for

TB = os.path.join(os.path.dirname(__file__), "data", "stacks", "tensorboard")


def expected() -> dict:
    with open(os.path.join(os.path.dirname(TB), "tensorboard.json")) as fh:
        return {k: [tuple(p) for p in v] for k, v in json.load(fh)["series"].items()}


def fixture_file(name: str = "torch") -> str:
    for folder, _, names in os.walk(TB):
        for n in names:
            if n.endswith(".torch") == (name == "torch"):
                return os.path.join(folder, n)
    raise AssertionError(name)


def test_the_files_give_what_tensorboards_own_loader_reads():
    found = EventFiles(TB).read_new()
    series: dict = {}
    for tag, step, value in found:
        series.setdefault(tag, []).append((step, value))
    assert series == expected()  # simple values (PyTorch) and one-element tensors (tf.summary), exact


def test_a_file_read_as_it_grows_gives_each_record_once(tmp_path):
    data = open(fixture_file(), "rb").read()
    path = tmp_path / "events.out.tfevents.1.grow"
    reader, got = EventFile(str(path)), []
    with open(path, "wb") as fh:
        for start in range(0, len(data), 7):  # 7 bytes at a time: records cut anywhere
            fh.write(data[start:start + 7])
            fh.flush()
            got += reader.read_new()
    assert [(t, s) for t, s, _ in got] == [("loss", 1), ("val/loss", 1), ("loss", 2), ("val/loss", 2), ("loss", 3),
                                          ("val/loss", 3)]


def test_a_truncated_file_gives_its_whole_records(tmp_path):
    data = open(fixture_file(), "rb").read()
    path = tmp_path / "events.out.tfevents.1.cut"
    path.write_bytes(data[:-10])
    assert [t for t, _, _ in EventFile(str(path)).read_new()] == ["loss", "val/loss", "loss", "val/loss", "loss"]


def test_a_record_failing_its_crc_is_skipped_and_a_broken_length_ends_the_file(tmp_path):
    data = bytearray(open(fixture_file(), "rb").read())
    frames, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        frames.append(pos)
        pos += 16 + length
    body = frames[1] + 12  # the first scalar's record (after the file's version): flip a byte of its body
    data[body + 3] ^= 0xFF
    path = tmp_path / "events.out.tfevents.1.bad"
    path.write_bytes(bytes(data))
    assert [t for t, _, _ in EventFile(str(path)).read_new()][:2] == ["val/loss", "loss"]
    data[frames[4]] ^= 0xFF  # a length that fails its CRC: the rest cannot be framed
    path.write_bytes(bytes(data))
    reader = EventFile(str(path))
    assert [t for t, _, _ in reader.read_new()] == ["val/loss", "loss"] and reader.broken
    garbage = tmp_path / "events.out.tfevents.1.junk"
    garbage.write_bytes(os.urandom(64) + b"\x00" * 12)
    assert EventFile(str(garbage)).read_new() == []


def test_a_framed_record_that_is_no_event_is_skipped(tmp_path):
    body = b"\x2a\xff\xff"  # field 5 as bytes, with a length past the end
    header = struct.pack("<Q", len(body))
    record = header + struct.pack("<I", masked_crc(header)) + body + struct.pack("<I", masked_crc(body))
    path = tmp_path / "events.out.tfevents.1.odd"
    path.write_bytes(record + open(fixture_file(), "rb").read())
    assert len(EventFile(str(path)).read_new()) == 6


GATED = """
import os, shutil, time
x = 1
src = ""
gate = ""
data = open(src, "rb").read()
os.makedirs("logs", exist_ok=True)
with open("logs/events.out.tfevents.1.trial", "wb") as fh:
    fh.write(data[:{cut}])
    fh.flush()
    while not os.path.exists(gate):
        time.sleep(0.02)
    fh.write(data[{cut}:])
"""


def test_a_trials_event_files_reach_the_curves_while_it_runs(home, write_script, tmp_path):
    src = fixture_file()
    data = open(src, "rb").read()
    frames, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        pos += 16 + length
        frames.append(pos)
    path = write_script(GATED.replace("{cut}", str(frames[1])))  # the file's version, then loss at step 1
    gate = str(tmp_path / "gate")
    batch = api.run(path, {"src": src, "gate": gate}, minimize="logs/loss", background=True)
    try:
        assert wait_for(lambda: [list(batch.snapshot().curve(r.id)) for r in batch.snapshot().runs] == [[(1, 1.0)]],
                        "the event file's first value in the running trial's curve")
    finally:
        open(gate, "w").close()
        batch.wait(60)
    run, = batch.runs
    assert (run.status, run.step, run.scalars["logs/loss"]) == (Status.COMPLETED, 3, 0.3333333432674408)
    assert [s for s, _ in batch.snapshot().curve(run.id)] == [1, 2, 3]
