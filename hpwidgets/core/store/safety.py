"""Trust nothing in a store that we did not write: owner, mode and symlinks are checked before use.

On a shared server another user may create the store before its owner does, or plant symlinks
or files in it. A path that is a symlink, is owned by another user, or is writable by group or
others is refused with one line naming it and the fix; nothing is read from it, written to it,
chmodded or executed. Every check looks at the path itself (``lstat``, ``O_NOFOLLOW``), never
at what a link points to.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
import tempfile

from hpwidgets.core.errors import StoreError

ID_FORMAT = re.compile(r"[0-9a-f]{32}\Z")  # run and batch ids: uuid4().hex
_reported: set[str] = set()


class UnsafePathError(StoreError):
    """A path in the store is a symlink, someone else's, or writable by others."""


def is_id(text: object) -> bool:
    return isinstance(text, str) and ID_FORMAT.match(text) is not None


def is_name(text: object) -> bool:
    """A plain file name: joined to a folder, it stays in that folder."""
    return isinstance(text, str) and bool(text) and "/" not in text and "\0" not in text and not text.startswith(".")


def problem(path: str, st: os.stat_result) -> str | None:
    """Why ``path`` (as ``lstat`` saw it) must not be used, or None when it is ours and private."""
    if stat.S_ISLNK(st.st_mode):
        return f"Refusing {path}: it is a symlink (fix: remove it; hpwidgets makes its own files there)"
    me = os.geteuid()
    if st.st_uid != me:
        return (f"Refusing {path}: it is owned by uid {st.st_uid}, not by you (uid {me}) "
                "(fix: use a store of your own, e.g. set HPWIDGETS_HOME, or have its owner remove it)")
    if st.st_mode & 0o022:
        return (f"Refusing {path}: it is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o}) "
                f"(fix: chmod go-w {path} if you trust what is in it, or remove it)")
    return None


def check(path: str) -> None:
    """Raise UnsafePathError unless ``path`` is missing or ours and private."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    why = problem(path, st)
    if why:
        raise UnsafePathError(why)


def private_dir(path: str) -> None:
    """Make ``path`` a directory of ours with mode 0700, or refuse the one that is there."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            check(path)  # a symlink (or a file) where our directory should be
        raise
    try:
        st = os.fstat(fd)
        why = problem(path, st)
        if why:
            raise UnsafePathError(why)
        if stat.S_IMODE(st.st_mode) != 0o700:
            os.fchmod(fd, 0o700)  # ours and not a link: the umask may have widened it
    finally:
        os.close(fd)


def open_private(path: str, flags: int = os.O_RDONLY, mode: int = 0o600) -> int:
    """``os.open`` that never follows a symlink and refuses a file that is not ours and private."""
    return _opened(path, flags, mode)[0]


def _opened(path: str, flags: int, mode: int) -> tuple[int, os.stat_result]:
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            check(path)  # says it is a symlink
        raise
    st = os.fstat(fd)
    why = problem(path, st)
    if why:
        os.close(fd)
        raise UnsafePathError(why)
    return fd, st


def read_private(path: str) -> bytes:
    return read_private_stat(path)[0]


def read_private_stat(path: str) -> tuple[bytes, os.stat_result]:
    """``read_private``, and the file's ``fstat`` taken once it was opened and before it was read:
    its identity as read (a file replaced since then has another)."""
    fd, st = _opened(path, os.O_RDONLY, 0o600)
    try:
        chunks = [os.read(fd, st.st_size + 1)]  # the whole file at once, then its end
        while chunks[-1]:
            chunks.append(os.read(fd, 1 << 16))
    finally:
        os.close(fd)
    return b"".join(chunks), st


def read_secret(path: str) -> bytes:
    """``read_private`` for a file whose content we run (a ``%%hprun`` cell, the notebook values
    it unpickles): one that group or others can read is refused as well."""
    fd = open_private(path)
    with os.fdopen(fd, "rb") as fh:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o044:
            raise UnsafePathError(f"Refusing {path}: it is readable by group or others (mode {mode:04o}) "
                                  "(fix: remove it; hpwidgets writes it again, 0600)")
        return fh.read()


def local_cache_dir() -> str:
    """A private directory on local disk for the index of a store on a network file system.

    ``XDG_CACHE_HOME`` when set; otherwise a per-user name under the temporary directory, which
    another user may have created first: it is made 0700 by us or refused, never trusted.
    """
    base = os.environ.get("XDG_CACHE_HOME")
    if base:
        os.makedirs(base, mode=0o700, exist_ok=True)
        private_dir(os.path.join(base, "hpwidgets"))
        return os.path.join(base, "hpwidgets")
    path = os.path.join(tempfile.gettempdir(), f"hpwidgets-{os.geteuid()}")
    private_dir(path)
    return path


def report(path: str, why: str) -> None:
    """One line on stderr, once per file and reason in a process: what was skipped and why."""
    key = f"{path}\0{why}"
    if key not in _reported:
        _reported.add(key)
        print(f"hpwidgets: skipped {path}: {why}", file=sys.stderr)
