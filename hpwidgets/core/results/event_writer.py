"""Write TensorBoard event files without TensorFlow: TFRecord framing and the few protobuf
messages a scalar and an HParams summary need (the reader is ``core/run/output/event_files.py``)."""

from __future__ import annotations

import os
import socket
import struct
import time

from hpwidgets.core.run.output.event_files import masked_crc


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 as protobuf writes it
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def message(number: int, data: bytes | str) -> bytes:
    """A length-delimited field: bytes, a string or an embedded message."""
    data = data.encode("utf-8") if isinstance(data, str) else data
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def double(number: int, value: float) -> bytes:
    return _varint(number << 3 | 1) + struct.pack("<d", value)


def float32(number: int, value: float) -> bytes:
    return _varint(number << 3 | 5) + struct.pack("<f", value)


def scalar_value(tag: str, value: float) -> bytes:
    """A ``Summary.Value`` with a simple value, as PyTorch's ``add_scalar`` writes."""
    return message(1, tag) + float32(2, value)


def plugin_value(tag: str, plugin: str, content: bytes) -> bytes:
    """A ``Summary.Value`` carrying a plugin's data (a zero float tensor, as tensorboard writes)."""
    metadata = message(1, message(1, plugin) + message(2, content))
    tensor = varint(1, 1) + message(2, b"") + message(5, struct.pack("<f", 0.0))  # DT_FLOAT, shape [], [0.0]
    return message(1, tag) + message(8, tensor) + message(9, metadata)


class EventWriter:
    """One event file in ``folder``: events appended, each framed and flushed at once."""

    def __init__(self, folder: str) -> None:
        os.makedirs(folder, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.hpwidgets"
        self.path = os.path.join(folder, name)
        self._fh = open(self.path, "wb")
        self.write(double(1, time.time()) + message(3, "brain.Event:2"))

    def event(self, step: int, values: list[bytes], wall_time: float | None = None) -> None:
        summary = b"".join(message(1, v) for v in values)
        self.write(double(1, time.time() if wall_time is None else wall_time) + varint(2, step) + message(5, summary))

    def write(self, event: bytes) -> None:
        header = struct.pack("<Q", len(event))
        self._fh.write(header + struct.pack("<I", masked_crc(header)) + event + struct.pack("<I", masked_crc(event)))
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
