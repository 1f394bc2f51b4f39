"""The `hpw` command called in this process: its real parser and output, without starting and
importing Python again for each call. What only a process of its own shows (signals, exit on a
hangup, a detached supervisor) is tested with the real command (`tests.helpers.hpw`)."""

from __future__ import annotations

import io
import signal
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

from hpwidgets.cli import main


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def hpw_here(*args: str) -> Result:
    """``hpw ARGS`` in this process; the handlers `hpw run` sets for SIGTERM and SIGHUP are put
    back afterwards."""
    out, err = io.StringIO(), io.StringIO()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(args))
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    return Result(code, out.getvalue(), err.getvalue())
