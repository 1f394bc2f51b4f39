"""Run a command in its own process group and kill the whole group on timeout or cancel.

The group's leader, a trial's bootstrap, is a subreaper (``process_tree.py``): every kill
reaches its whole process tree too, processes that made a session of their own included.

No trial can hang its batch: when the trial's main process exits, the rest of its group is
killed at once, and its output is read for at most ``DRAIN_SECONDS`` more (a double-forked
daemon may hold the pipe forever). A kill is SIGTERM, then SIGKILL after ``GRACE_SECONDS``.
Output is read in chunks; a line longer than ``MAX_LINE`` characters is passed on in pieces
of that length, so a giant line is never held whole.
"""

from __future__ import annotations

import codecs
import os
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


class _Lines:
    """Bytes in, lines out: complete lines, and pieces of ``MAX_LINE`` characters of longer ones."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self.on_line = on_line
        self._decode = codecs.getincrementaldecoder("utf-8")(errors="replace").decode
        self._pending = ""

    def feed(self, data: bytes, final: bool = False) -> None:
        text = self._pending + self._decode(data, final)
        carry = ""
        if text.endswith("\r") and not final:  # maybe half of a \r\n: decide with the next chunk
            text, carry = text[:-1], "\r"
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as text mode had
        start = 0
        while True:
            end = text.find("\n", start, start + MAX_LINE + 1)
            if end >= 0:
                self.on_line(text[start:end])
                start = end + 1
            elif len(text) - start > MAX_LINE:  # no newline in reach: pass a piece on
                self.on_line(text[start:start + MAX_LINE])
                start += MAX_LINE
            else:
                break
        self._pending = text[start:] + carry
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
) -> tuple[int | None, str | None]:
    """Run ``argv``; return (exit code, "timeout"/"cancel" if we killed it, else None)."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
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
    lines = _Lines(on_line)
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
