"""Run a command in its own process group and kill the whole group on timeout or cancel."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable

from ..cancel import CancelToken

GRACE_SECONDS = 2.0  # between SIGTERM and SIGKILL


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
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


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
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    if on_spawn is not None:
        on_spawn(proc.pid)
    killed: list[str] = []
    lock = threading.Lock()

    def kill(why: str) -> None:
        with lock:
            if killed or proc.poll() is not None:
                return
            killed.append(why)
        threading.Thread(target=kill_group, args=(proc.pid, GRACE_SECONDS, proc), daemon=True).start()

    key = cancel.register(lambda: kill("cancel"))
    timer = None
    if timeout:
        timer = threading.Timer(timeout, kill, args=("timeout",))
        timer.daemon = True
        timer.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            on_line(line.rstrip("\n"))
        code = proc.wait()
    finally:
        cancel.unregister(key)
        if timer:
            timer.cancel()
        if proc.poll() is None:  # an error in on_line: do not leave the trial behind
            kill_group(proc.pid, 0.5, proc)
        else:
            try:  # children the script left in its group: no orphans
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    return code, (killed[0] if killed else None)
