"""Who supervises a run: a token that tells a live process from a dead one (and from a reused pid)."""

from __future__ import annotations

import os
import signal
import socket

from hpwidgets.core.run.process_tree import kill_tree
from hpwidgets.core.store import safety
from hpwidgets.core.store.run_files import write_private


def _stat_fields(pid: int) -> list[bytes]:
    """The fields of /proc/PID/stat after the command name (state first); [] when unreadable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            # the command name may hold spaces: fields after the last ')' are fixed
            return fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return []


def start_time(pid: int) -> str:
    fields = _stat_fields(pid)
    return fields[19].decode() if len(fields) > 19 else "?"


def is_zombie(pid: int) -> bool:
    """An exited process its parent has not reaped yet: it holds no lock and runs nothing (a
    container whose init reaps slowly keeps such pids around)."""
    return _stat_fields(pid)[:1] == [b"Z"]


def current_token() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{start_time(pid)}"


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
    if is_zombie(pid):
        return False
    return start == "?" or start_time(pid) == start


TRIAL_PID = "trial.pid"  # in the run directory: the trial's process group, to reap orphans


def write_trial_pid(run_dir: str, pid: int) -> None:
    # atomically: a reader (the orphan reaper, Stop) never sees an empty or half-written file
    write_private(os.path.join(run_dir, TRIAL_PID), f"{pid}:{start_time(pid)}".encode("ascii"))


def real_uid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def kill_orphan_trial(run_dir: str) -> bool:
    """Kill the process group of a trial whose supervisor died; True if one was still there.

    Only a group led by a process of ours whose start time matches the one written at spawn: a
    planted or stale ``trial.pid`` never makes us kill someone else's processes.
    """
    path = os.path.join(run_dir, TRIAL_PID)
    try:
        pid_text, start = safety.read_private(path).decode("ascii").split(":", 1)
        pid = int(pid_text)
    except safety.UnsafePathError as exc:
        safety.report(path, str(exc))
        return False
    except PermissionError:  # another user's private file: named, as any file not ours
        try:
            safety.check(path)
            safety.report(path, "it cannot be read (permission denied)")
        except safety.UnsafePathError as exc:
            safety.report(path, str(exc))
        return False
    except (OSError, ValueError):
        return False
    if pid <= 1 or start == "?" or start_time(pid) != start:  # gone, or the pid was reused
        return False
    try:
        if real_uid(pid) != os.geteuid() or os.getpgid(pid) != pid:
            return False
        kill_tree(pid)  # the leader is the trial's subreaper: other sessions are in its tree
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True
