"""A Dask trial's files: gathered on its worker, written back into its run directory.

In name order, up to ``files_max`` bytes in all; symbolic links and the names the store uses
for itself never come back, and nothing is written outside the run directory. TensorBoard event
files also come back while the trial runs, as they grow (``event_file_tails``, ``append_tail``),
so that the engine reads their scalars live, as it does for a trial on this machine.
"""

from __future__ import annotations

import os

from hpwidgets.core.processes.owners import TRIAL_PID
from hpwidgets.core.run.output.event_files import NAME_PART
from hpwidgets.core.run.scripts import SPEC_FILE

FILES_MAX = 100 * 1024 * 1024  # bytes of a trial's files brought back from its worker, by default
_STORE_NAMES = {"run.json", "output.log", "series.json", "sourcecode", TRIAL_PID, SPEC_FILE}


def collect(folder: str, files_max: int) -> tuple[list[tuple[str, bytes]], list[tuple[str, str]]]:
    """The trial's files (relative path, content) within ``files_max`` bytes in all, and the
    ones left out with why."""
    found: list[tuple[str, str]] = []
    for root, dirs, names in os.walk(folder):
        rel_root = os.path.relpath(root, folder)
        if rel_root == ".":
            dirs[:] = [d for d in dirs if d not in _STORE_NAMES]
        for name in names + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            found.append((os.path.normpath(os.path.join(rel_root, name)), os.path.join(root, name)))
    files, left = [], []
    total = 0
    for rel, path in sorted(found):
        if os.path.islink(path):
            left.append((rel, "a symbolic link"))
        elif rel in _STORE_NAMES:
            left.append((rel, "a name the run store uses"))
        else:
            size = os.path.getsize(path)
            if total + size > files_max:
                left.append((rel, f"{size} bytes, over the limit of {files_max} bytes in all"))
                continue
            with open(path, "rb") as fh:
                files.append((rel, fh.read()))
            total += size
    return files, left


TAIL_MAX = 1 << 20  # bytes of one event file sent at one look


def event_file_tails(folder: str, sent: dict[str, int], budget: int) -> list[tuple[str, int, bytes]]:
    """The bytes event files under ``folder`` gained since ``sent`` (relative path -> bytes sent,
    updated here) as (path, offset, bytes), at most ``budget`` bytes in all ever sent."""
    out = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "sourcecode")
        for name in sorted(names):
            path = os.path.join(root, name)
            if NAME_PART not in name or os.path.islink(path):
                continue
            rel = os.path.relpath(path, folder)
            at = sent.get(rel, 0)
            room = min(TAIL_MAX, budget - sum(sent.values()))
            if room <= 0:
                return out
            try:
                with open(path, "rb") as fh:
                    fh.seek(at)
                    data = fh.read(room)
            except OSError:
                continue
            if data:
                out.append((rel, at, data))
                sent[rel] = at + len(data)
    return out


def append_tail(run_dir: str, rel: str, at: int, data: bytes) -> bool:
    """Add a growing file's new bytes in the run directory, when they follow what it holds."""
    root = os.path.realpath(run_dir)
    dest = os.path.realpath(os.path.join(root, rel))
    if not dest.startswith(root + os.sep) or os.path.basename(rel) in _STORE_NAMES:
        return False
    os.makedirs(os.path.dirname(dest), mode=0o700, exist_ok=True)
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as fh:
        if fh.seek(0, os.SEEK_END) != at:
            return False  # a piece went missing: the whole file comes back at the end
        fh.write(data)
    return True


def write_back(run_dir: str, files: list[tuple[str, bytes]], left: list[tuple[str, str]]) -> list[str]:
    """Write a trial's files into its run directory (0700 folders, 0600 files); returns the notes."""
    root = os.path.realpath(run_dir)
    notes = []
    for rel, data in files:
        dest = os.path.realpath(os.path.join(root, rel))
        if not dest.startswith(root + os.sep):  # never outside the run directory
            notes.append(f"hpw: file {rel} was left on the worker (outside the run directory)")
            continue
        os.makedirs(os.path.dirname(dest), mode=0o700, exist_ok=True)
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    notes += [f"hpw: file {rel} was left on the worker ({why})" for rel, why in left]
    return notes
