"""The files of one run directory: written atomically and privately, read only when they are ours."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from typing import Any

from hpwidgets.core.errors import StoreError
from hpwidgets.core.records import RunRecord, checked_fields
from hpwidgets.core.store import safety as store_safety
from hpwidgets.core.store.safety import UnsafePathError, report


def write_private(path: str, data: bytes) -> None:
    """Write a file atomically with mode 0600, whatever the umask; a full disk is one StoreError."""
    try:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    except OSError as exc:
        raise StoreError.writing(exc, path) from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise StoreError.writing(exc, path) from None
        raise



class OutputLog:
    """A run's output.log: a failing write (a full disk) is one StoreError naming the file."""

    def __init__(self, fh, path: str) -> None:
        self._fh, self.path = fh, path

    def write(self, text: str) -> int:
        try:
            return self._fh.write(text)
        except OSError as exc:
            raise StoreError.writing(exc, self.path) from None

    def close(self) -> None:
        try:
            self._fh.close()
        except OSError:
            pass  # what could not be flushed was already reported by write

    def __enter__(self) -> OutputLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_record(runs_dir: str, name: str, keep_text: bool = False) -> Any:
    """The record in runs/<name>, checked; None (with one line on stderr) when it is unusable.
    ``keep_text``: (record, its JSON text) instead, the text as read when checking changed
    nothing in it (a rebuild then encodes nothing again), else None."""
    read = read_fields(runs_dir, name)
    if read is None:
        return None
    fields, text, _ = read
    record = RunRecord.from_json(fields)
    return (record, text) if keep_text else record


def read_fields(runs_dir: str, name: str, report: Callable[[str, str], None] = report) -> tuple | None:
    """The checked fields of the record in runs/<name> (``records.checked_fields``), its JSON
    text when checking changed nothing in it (else None), and its file's identity as read
    (mtime_ns, size, inode); None when it is unusable, with one ``report(path, why)``."""
    folder = os.path.join(runs_dir, name)
    path = os.path.join(folder, "run.json")
    try:
        store_safety.check(folder)
    except UnsafePathError as exc:
        report(folder, str(exc))
        return None
    try:
        raw, st = store_safety.read_private_stat(path)
    except FileNotFoundError:
        return None  # a run directory being created or deleted right now
    except UnsafePathError as exc:
        report(path, str(exc))
        return None
    except OSError as exc:
        report(path, exc.strerror or str(exc))
        return None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        report(path, f"not JSON: {exc.msg} (line {exc.lineno} column {exc.colno})")
        return None
    except ValueError:
        report(path, "not JSON: not UTF-8 text")
        return None
    try:
        fields = checked_fields(data)
    except (ValueError, TypeError) as exc:
        report(path, str(exc))
        return None
    if fields["id"] != name:
        report(path, f"its id {fields['id']!r} does not match its directory")
        return None
    identity = (st.st_mtime_ns, st.st_size, st.st_ino)
    if not (all(k in data for k in _REQUIRED) and len(fields["scalars"]) == len(data.get("scalars") or {})):
        return fields, None, identity
    try:
        return fields, raw.decode("utf-8"), identity
    except UnicodeDecodeError:  # JSON in UTF-16 or -32: encoded again
        return fields, None, identity


_REQUIRED = ("batch", "operation", "flags")  # what RunRecord.checked fills in when it is missing
