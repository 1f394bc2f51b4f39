"""Helpers shared by the CLI and fault tests: the real `hpw` command, waiting, process groups."""

import os
import subprocess
import sys
import time


def hpw(*args: str, env=None, input: str | None = None, cwd=None):
    """Run the real `hpw` command line in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "hpwidgets.cli", *args],
        capture_output=True, text=True, env=env, input=input, cwd=cwd, timeout=120,
    )


def wait_for(predicate, timeout: float = 30.0) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def group_alive(pgid: int) -> bool:
    return _alive(os.killpg, pgid)


def pid_alive(pid: int) -> bool:
    """Alive and not a zombie (an exited process this machine's init has not reaped yet)."""
    from hpwidgets.core.processes.owners import is_zombie

    return _alive(os.kill, pid) and not is_zombie(pid)


def _alive(signal_to, target: int) -> bool:
    try:
        signal_to(target, 0)
    except ProcessLookupError:
        return False
    return True
