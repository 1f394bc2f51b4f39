"""Fixtures for the notebook front: an IPython shell with the extension, scripts, fake displays."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# A trial that sleeps: x < 2 ends at once, x >= 2 would take 30 s (long enough to be stopped).
SLEEPY = textwrap.dedent("""
    import time
    x = 0
    time.sleep(0.05 if x < 2 else 30)
    print(f"loss: {x}")
""")


# The gate is waited for in a function: a module-level name would be a flag.
GATED = textwrap.dedent("""
    import os, time
    x = 0
    def wait_for_the_gate():
        for _ in range(6000):
            if os.path.exists(GATE):
                return
            time.sleep(0.01)
    wait_for_the_gate()
    print(f"loss: {x}")
""")


@pytest.fixture
def workdir(tmp_path, monkeypatch, home):
    """A temp folder holding train.py, sleepy.py and gated.py (its trials wait until the test
    creates the file `go` there, at most 60 s), made the current directory; a temp store."""
    folder = tmp_path / "work"
    folder.mkdir()
    shutil.copy(EXAMPLES / "train.py", folder / "train.py")
    (folder / "sleepy.py").write_text(SLEEPY)
    (folder / "gated.py").write_text(GATED.replace("GATE", repr(str(folder / "go"))))
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def ip(workdir):
    """A real IPython shell with `%load_ext hpwidgets` done."""
    from IPython.testing.globalipapp import get_ipython, start_ipython

    shell = start_ipython() or get_ipython()  # one shell per process: later calls return None
    shell.extension_manager.load_extension("hpwidgets")  # what %load_ext does, without its message
    yield shell
    shell.user_ns.pop("truth", None)


@pytest.fixture
def shown(monkeypatch):
    """What IPython.display.display received (the magics import it at call time)."""
    import IPython.display

    seen: list = []

    def fake_display(*objs, **kwargs):
        seen.extend(objs)
        return None

    monkeypatch.setattr(IPython.display, "display", fake_display)
    return seen


class SyncThrottle:
    """Stands in for Throttle: refreshes at once on the emitting thread, so tests see every step."""

    def __init__(self, refresh, interval=0.0, name=""):
        self.refresh = refresh

    def poke(self):
        self.refresh()

    def close(self):
        pass


@pytest.fixture
def sync_refresh(monkeypatch):
    from hpwidgets.notebook import dashboard

    monkeypatch.setattr(dashboard, "Throttle", SyncThrottle)
