"""Helpers shared by the CLI and fault tests: the real `hpw` command, process groups; and the
front end's message types read from its JSDoc, beside Python's."""

import json
import os
import re
import subprocess
import sys
import types
import typing
from typing import Any


def hpw(*args: str, env=None, input: str | None = None, cwd=None):
    """Run the real `hpw` command line in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "hpwidgets.cli", *args],
        capture_output=True, text=True, env=env, input=input, cwd=cwd, timeout=120,
    )


def group_alive(pgid: int) -> bool:
    """A process of group ``pgid`` still runs: an exited one this machine's init has not reaped
    yet does not count (killpg(pgid, 0) still reaches it, for up to seconds after it ended)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                state, _ppid, group = fh.read().rsplit(b")", 1)[1].split()[:3]
        except OSError:  # gone meanwhile
            continue
        if int(group) == pgid and state != b"Z":
            return True
    return False


def pid_alive(pid: int) -> bool:
    """Alive and not a zombie (an exited process this machine's init has not reaped yet)."""
    from hpwidgets.core.processes.owners import is_zombie

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not is_zombie(pid)


def js_typedefs(source: str) -> dict[str, dict[str, str]]:
    """The message types a front-end module declares (``@typedef {{ key: type, ... }} Name``):
    name -> key -> its JS type as written."""
    found = re.findall(r"@typedef \{\{(.*?)\}\} (\w+)", source)
    return {name: {k: t.strip() for k, t in re.findall(r"(\w+):\s*([^,]+)", body)} for body, name in found}


def as_js_typedef(typed: type) -> dict[str, str]:
    """A TypedDict's keys with their types as a JSDoc typedef writes them (str -> string, ...)."""

    def js(hint: Any) -> str:
        if typing.get_origin(hint) in (types.UnionType, typing.Union):
            return " | ".join(js(a) for a in typing.get_args(hint))
        if typing.get_origin(hint) is list:
            return js(typing.get_args(hint)[0]) + "[]"
        if typing.get_origin(hint) is typing.Literal:
            return " | ".join(json.dumps(a) for a in typing.get_args(hint))
        names = {str: "string", bool: "boolean", int: "number", float: "number", type(None): "null"}
        return names.get(hint, getattr(hint, "__name__", str(hint)))

    return {k: js(h) for k, h in typing.get_type_hints(typed).items()}
