"""Which batches a live process is running: an advisory lock on ``batches/<id>.lock``.

The process that runs a batch holds the lock until the batch ends; the kernel drops it when
that process dies, even by SIGKILL, so a lock that can be taken means no one runs the batch
(``--resume`` would otherwise run its trials a second time, next to the owner's).
"""

from __future__ import annotations

import fcntl
import os
import time

from hpwidgets.core.store import safety


def _path(folder: str, batch_id: str) -> str:
    return os.path.join(folder, f"{batch_id}.lock")


def acquire(folder: str, batch_id: str, patience: float = 0.0, start: bool = True) -> int | None:
    """The lock's file descriptor, held until ``release``; None when a live process holds it.

    ``folder`` is the store's batches directory. ``patience``: seconds to try again, for a start
    that must not take ``is_running``'s brief look (a listing of batches) for a running owner.
    ``start``: the lock's time is set to now, so ``newest_running`` finds the batch started last
    (a look by ``is_running`` leaves it)."""
    safety.private_dir(folder)
    fd = safety.open_private(_path(folder, batch_id), os.O_RDWR | os.O_CREAT)  # ours, or refused
    deadline = time.monotonic() + patience
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if start:
                    os.utime(fd)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return None
                time.sleep(0.01)
    except BaseException:
        os.close(fd)
        raise


def release(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # closing drops the lock


LOOK = 0.25  # seconds a start waits out a look by is_running (which holds the lock for microseconds)


def is_running(folder: str, batch_id: str) -> bool:
    """True while a live process runs the batch (and holds its lock). It looks by taking the lock
    for an instant, so a start at that instant waits up to ``LOOK`` (``acquire(patience=LOOK)``)."""
    if not os.path.exists(_path(folder, batch_id)):
        return False
    fd = acquire(folder, batch_id, start=False)
    release(fd)
    return fd is None


def newest_running(folder: str) -> str | None:
    """The batch a live process runs that started (or resumed) last; None when none runs."""
    if not os.path.isdir(folder):
        return None
    started = []
    for name in os.listdir(folder):
        if name.endswith(".lock") and safety.is_name(name[:-5]):
            try:
                started.append((os.stat(os.path.join(folder, name)).st_mtime, name[:-5]))
            except FileNotFoundError:  # removed by a purge meanwhile
                continue
    return next((batch_id for _, batch_id in sorted(started, reverse=True) if is_running(folder, batch_id)), None)
