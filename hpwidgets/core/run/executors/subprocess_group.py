"""Run a command in its own process group and kill the whole group on timeout or cancel.

The group's leader, a trial's bootstrap, is a subreaper (``process_tree.py``): every kill
reaches its whole process tree too, processes that made a session of their own included.

No trial can hang its batch: when the trial's main process exits, the rest of its group is
killed at once, and its output is read for at most ``DRAIN_SECONDS`` more (a double-forked
daemon may hold the pipe forever). A kill is SIGTERM, then SIGKILL after ``GRACE_SECONDS``.
Output is read in chunks and passed on in segments (lines, and redraws ending in ``\r``); a
segment longer than ``MAX_LINE`` characters is passed on in pieces of that length, so a giant
line is never held whole.
"""

from __future__ import annotations

import codecs
import os
import re
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable

from hpwidgets.core.run.cancel import CancelToken
from hpwidgets.core.run.process_tree import kill_tree

GRACE_SECONDS = 0.5  # between SIGTERM and SIGKILL
DRAIN_SECONDS = 0.5  # output read after the trial's main process exits
MAX_LINE = 1 << 20  # characters: longer lines are passed on in pieces
_CHUNK = 1 << 16
_TICK = 0.1  # how often the reader looks at the clock while the trial is silent
_CRLF = re.compile("\r+\n")
_REDRAWS = re.compile("\r{2,}")


def kill_group(pgid: int, grace: float = GRACE_SECONDS, proc: subprocess.Popen | None = None) -> None:
    """SIGTERM the group, then SIGKILL whatever is left of it after ``grace`` seconds."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    if proc is not None:
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    _sigkill(pgid)


def _sigkill(pgid: int) -> None:
    kill_tree(pgid)  # the leader is the trial's subreaper: its tree holds every descendant
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class Segments:
    """Bytes in, segments out: each line, and each part of one that ends in ``\\r`` with its
    ``\\r`` kept (a redraw: see ``output/terminal.py``); a segment longer than ``MAX_LINE``
    characters is passed on in pieces of that length. Each character is looked at once."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self.on_line = on_line
        self._decode = codecs.getincrementaldecoder("utf-8")(errors="replace").decode
        self._pending = ""  # text with no end in it yet
        self._cr = False  # the last chunk ended in \r: a redraw, or half of a \r\n

    def feed(self, data: bytes, final: bool = False) -> None:
        new = self._decode(data, final)
        if self._cr:
            new = "\r" + new
        self._cr = new.endswith("\r") and not final
        if self._cr:
            new = new.rstrip("\r") if new.endswith("\r\r") else new[:-1]
        if "\r" in new:
            new = _REDRAWS.sub("\r", _CRLF.sub("\n", new))  # \r\n ends a line; \r\r draws once
        text, start = self._pending + new, 0
        scan = len(self._pending)  # the pending text holds no end: look at the new text only
        nl, cr = text.find("\n", scan), text.find("\r", scan)
        while True:
            end = nl if cr < 0 or 0 <= nl < cr else cr
            if 0 <= end <= start + MAX_LINE:
                self.on_line(text[start:end] + ("\r" if end == cr else ""))
                start = end + 1
                if end == nl:
                    nl = text.find("\n", start)
                else:
                    cr = text.find("\r", start)
            elif len(text) - start > MAX_LINE:  # no end in reach: pass a piece on
                self.on_line(text[start:start + MAX_LINE])
                start += MAX_LINE
            else:
                break
        self._pending = text[start:]
        if final and self._pending:
            self.on_line(self._pending)
            self._pending = ""


def run_group(
    argv: list[str],
    cwd: str,
    env: dict[str, str],
    on_line: Callable[[str], None],
    cancel: CancelToken,
    timeout: float | None,
    on_spawn: Callable[[int], None] | None = None,
    pass_fds: tuple[int, ...] = (),
) -> tuple[int | None, str | None]:
    """Run ``argv``; return (exit code, "timeout"/"cancel" if we killed it, else None). The file
    descriptors ``pass_fds`` stay open in the child (a Dask trial's gate, ``scripts.GATE_FD``)."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        pass_fds=pass_fds,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: kernel interrupts do not reach it, killpg does
    )
    pgid = proc.pid
    killed: list[str] = []
    term_sent: list[float] = []
    lock = threading.Lock()

    def kill(why: str) -> None:
        """SIGTERM now (from any thread); the reader sends SIGKILL when the grace is over."""
        with lock:
            if killed or proc.returncode is not None:
                return
            killed.append(why)
            term_sent.append(time.monotonic())
        try:
            os.killpg(pgid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass

    deadline = None if timeout is None else time.monotonic() + timeout
    lines = Segments(on_line)
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    reader = selectors.DefaultSelector()
    reader.register(fd, selectors.EVENT_READ)
    key = cancel.register(lambda: kill("cancel"))
    try:
        if on_spawn is not None:
            on_spawn(proc.pid)
        exited_at = None
        listening = True
        while True:
            now = time.monotonic()
            if exited_at is None and proc.poll() is not None:
                _sigkill(pgid)  # the main process is gone: so is the rest of its group
                exited_at = now
            if exited_at is None:
                if deadline is not None and now >= deadline:
                    kill("timeout")
                if term_sent and now - term_sent[0] >= GRACE_SECONDS:
                    _sigkill(pgid)
                wait = _TICK
            else:
                wait = exited_at + DRAIN_SECONDS - now
                if wait <= 0 or not listening:
                    break  # whoever still holds the pipe left the group: stop listening
            if not listening:  # it closed its output and lives on: keep the clock
                try:
                    proc.wait(wait)
                except subprocess.TimeoutExpired:
                    pass
                continue
            if not reader.select(wait):
                continue
            try:
                data = os.read(fd, _CHUNK)
            except BlockingIOError:
                continue
            if data:
                lines.feed(data)
            else:
                listening = False
        lines.feed(b"", final=True)
        code = proc.wait()
    finally:
        cancel.unregister(key)
        reader.close()
        proc.stdout.close()
        if proc.poll() is None:  # an error in on_line or on_spawn: do not leave the trial behind
            kill_group(pgid, GRACE_SECONDS, proc)
        _sigkill(pgid)  # children the script left in its group: no orphans
        proc.wait()
    return code, (killed[0] if killed else None)
