"""Helpers shared by the CLI and fault tests: the real `hpw` command, process groups."""

import os
import subprocess
import sys


def hpw(*args: str, env=None, input: str | None = None, cwd=None):
    """Run the real `hpw` command line in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "hpwidgets.cli", *args],
        capture_output=True, text=True, env=env, input=input, cwd=cwd, timeout=120,
    )


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
