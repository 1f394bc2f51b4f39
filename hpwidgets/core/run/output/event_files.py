"""TensorBoard event files a trial writes anywhere under its run directory, read as they grow.

A small reader of our own, not TensorFlow's or tensorboard's: those pull in protobuf, grpc and
numpy for what is a framed record format (TFRecord: a length, its CRC, the bytes, their CRC)
holding a few protobuf fields, and tbparse loads whole files into pandas, where a running trial
needs only the records added since the last look. Each file is read from where the last read
ended; a record not yet complete is read on the next look; a record whose CRC fails is skipped,
and a broken length ends the reading of that file (nothing after it can be framed).

Scalars are ``Summary.Value`` entries with a ``simple_value`` (PyTorch's and tensorboardX's
``add_scalar``) or a one-element float tensor (TensorFlow 2's and Keras's ``tf.summary.scalar``),
at the ``Event``'s step. A scalar's name is its tag, prefixed by the event file's directory
relative to the run directory when it lies deeper (Keras writes ``train/`` and ``validation/``:
``validation/epoch_loss``), as TensorBoard names runs.
"""

from __future__ import annotations

import os
import struct

NAME_PART = "tfevents"  # events.out.tfevents.<time>.<host>...
READ_MAX = 16 << 20  # bytes read from one file at one look
_DTYPE_SIZE = {1: ("<f", 4), 2: ("<d", 8)}  # DT_FLOAT, DT_DOUBLE


def _crc_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC-32C of ``data``."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _fields(buf: bytes):
    """(field number, wire type, value) of a protobuf message; raises ValueError when malformed."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"wire type {wire}")
        if pos > end:
            raise ValueError("truncated field")
        yield number, wire, value


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def event_scalars(record: bytes) -> list[tuple[str, int, float]]:
    """The (tag, step, value) scalars of one serialized ``Event``; [] for any other event."""
    step, summaries = 0, []
    for number, wire, value in _fields(record):
        if number == 2 and wire == 0:
            step = value if value < 1 << 63 else value - (1 << 64)
        elif number == 5 and wire == 2:
            summaries.append(value)
    out = []
    for summary in summaries:
        for number, wire, value in _fields(summary):
            if number == 1 and wire == 2:
                found = _value(value)
                if found is not None:
                    out.append((found[0], step, found[1]))
    return out


def _value(buf: bytes) -> tuple[str, float] | None:
    tag, number_found = None, None
    for number, wire, value in _fields(buf):
        if number == 9 and wire == 2 and _plugin(value) not in ("", "scalars"):
            return None  # another plugin's tensor (HParams, text, ...): not a scalar
        if number == 1 and wire == 2:
            tag = value.decode("utf-8", "replace")
        elif number == 2 and wire == 5:
            number_found = struct.unpack("<f", value)[0]
        elif number == 8 and wire == 2:
            number_found = _tensor(value)
    return None if tag is None or number_found is None else (tag, number_found)


def _plugin(metadata: bytes) -> str:
    """The plugin name in a ``SummaryMetadata``; "" when none is named."""
    for number, wire, value in _fields(metadata):
        if number == 1 and wire == 2:
            for inner, inner_wire, name in _fields(value):
                if inner == 1 and inner_wire == 2:
                    return name.decode("utf-8", "replace")
    return ""


def _tensor(buf: bytes) -> float | None:
    """A one-element float or double tensor's value."""
    dtype, values = None, []
    for number, wire, value in _fields(buf):
        if number == 1 and wire == 0:
            dtype = value
        elif number == 4 and wire == 2:
            values.append(("content", value))
        elif number in (5, 6) and wire == 2:  # packed float_val / double_val
            size = 4 if number == 5 else 8
            values += [("one", value[i:i + size]) for i in range(0, len(value), size)]
        elif number == 5 and wire == 5 or number == 6 and wire == 1:
            values.append(("one", value))
    if dtype not in _DTYPE_SIZE or len(values) != 1:
        return None
    fmt, size = _DTYPE_SIZE[dtype]
    data = values[0][1]
    return struct.unpack(fmt, data)[0] if len(data) == size else None


class EventFile:
    """One event file, read from where the last read ended."""

    def __init__(self, path: str, prefix: str = "") -> None:
        self.path, self.prefix = path, prefix
        self.offset = 0
        self.broken = False  # a length failed its CRC: nothing after it can be framed

    def read_new(self) -> list[tuple[str, int, float]]:
        if self.broken:
            return []
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read(READ_MAX)
        except OSError:
            return []
        out, pos = [], 0
        while len(data) - pos >= 12:
            header = data[pos:pos + 8]
            (length,) = struct.unpack("<Q", header)
            if struct.unpack("<I", data[pos + 8:pos + 12])[0] != masked_crc(header):
                self.broken = True
                break
            end = pos + 12 + length + 4
            if end > len(data):
                break  # not written whole yet: the next look reads it
            body = data[pos + 12:pos + 12 + length]
            if struct.unpack("<I", data[end - 4:end])[0] == masked_crc(body):
                try:
                    out += [(self.prefix + tag, step, value) for tag, step, value in event_scalars(body)]
                except ValueError:
                    pass  # framed and checked, yet not an Event: skipped
            pos = end
        self.offset += pos
        return out


class EventFiles:
    """Every event file under a run directory, the new ones found at each look."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.files: dict[str, EventFile] = {}

    def read_new(self) -> list[tuple[str, int, float]]:
        """The scalars written since the last call, file by file in name order."""
        for folder, dirs, names in os.walk(self.root):
            dirs.sort()
            for name in names:
                if NAME_PART in name:
                    path = os.path.join(folder, name)
                    if path not in self.files:
                        rel = os.path.relpath(folder, self.root)
                        self.files[path] = EventFile(path, "" if rel == "." else rel.replace(os.sep, "/") + "/")
        out = []
        for path in sorted(self.files):
            out += self.files[path].read_new()
        return out
