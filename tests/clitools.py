"""Run the real `hpw` command in a subprocess (shared by the CLI and fault tests)."""

import subprocess
import sys


def hpw(*args: str, env=None, input: str | None = None, cwd=None):
    """Run the real `hpw` command line in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "hpwidgets.cli", *args],
        capture_output=True, text=True, env=env, input=input, cwd=cwd, timeout=120,
    )
