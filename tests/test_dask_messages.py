"""The messages between a Dask trial's task and its runner (core/run/executors/messages.py) keep
every field on the way Dask carries them: results pickled, streamed lines as msgpack."""

from __future__ import annotations

from dataclasses import fields

import pytest

from hpwidgets.core.run.executors.messages import NewLines, TaskEnded, WorkerLost

distributed = pytest.importorskip("distributed")
msgpack = pytest.importorskip("msgpack")


def _carried(value):
    """A task's result as it comes back: pickled on the worker, unpickled here."""
    from distributed.protocol import pickle

    return pickle.loads(pickle.dumps(value))


def test_a_finished_task_comes_back_with_every_field():
    ended = TaskEnded(exit_code=3, killed="timeout", lines=("loss: 1.5", "done"),
                      files=(("model/w.bin", b"\x00\x01"),), left_out=(("big.bin", "2 bytes, over the limit"),))
    assert all(getattr(ended, f.name) != f.default for f in fields(TaskEnded))  # none left at its default
    assert _carried(ended) == ended


def test_a_lost_worker_comes_back_with_its_address():
    assert _carried(WorkerLost("tcp://127.0.0.1:40001")) == WorkerLost("tcp://127.0.0.1:40001")


def test_streamed_lines_keep_every_key_through_msgpack():
    sent = NewLines(mark="hpw-1-run-1", start=4, lines=["a", "b"])
    got = msgpack.unpackb(msgpack.packb(sent))
    assert got == sent and set(got) == set(NewLines.__annotations__)
