"""Who supervises a run: a token that tells a live process from a dead one (and from a reused pid)."""

from __future__ import annotations

import os
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
