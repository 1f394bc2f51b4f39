"""Who supervises a run: a token that tells a live process from a dead one (and from a reused pid)."""

from __future__ import annotations

import os
import signal
import socket


def _start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            # the command name may hold spaces: fields after the last ')' are fixed
            return fh.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return "?"


def current_token() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def is_alive(token: str | None) -> bool:
    """False only when the owner is surely gone; a run owned on another host counts as alive."""
    if not token:
        return False
    try:
        host, pid_text, start = token.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return start == "?" or _start_time(pid) == start


TRIAL_PID = "trial.pid"  # in the run directory: the trial's process group, to reap orphans


def write_trial_pid(run_dir: str, pid: int) -> None:
    with open(os.path.join(run_dir, TRIAL_PID), "w", encoding="ascii") as fh:
        fh.write(f"{pid}:{_start_time(pid)}")


def kill_orphan_trial(run_dir: str) -> bool:
    """Kill the process group of a trial whose supervisor died; True if one was still there."""
    try:
        with open(os.path.join(run_dir, TRIAL_PID), encoding="ascii") as fh:
            pid_text, start = fh.read().split(":", 1)
        pid = int(pid_text)
    except (OSError, ValueError):
        return False
    if start == "?" or _start_time(pid) != start:  # gone, or the pid now belongs to another process
        return False
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True
