"""Real-browser fixtures: a JupyterLab server, headless Chromium, and a notebook page to drive.

``lab`` (session) starts ``jupyter lab`` on 127.0.0.1 under a JupyterHub-like base URL with a fixed token, temp root, settings,
workspaces, config and runtime folders, a kernel spec for this very Python (so the kernel imports
this checkout's hpwidgets) and HPWIDGETS_HOME pointing to a temp run store. ``chromium``
(session) is the system Chromium driven by Playwright, ``lab_context`` (session) the browser
profile the tests share, as a user's browser. ``open_notebook`` (per test) writes a notebook
into the server root, opens it in a page of its own and returns a ``Notebook``
that runs cells, waits on selectors and fails the test on any JavaScript error. ``running_lab``
starts the same server from another environment (tests/test_install.py: an installed wheel).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .notebook_page import FRAME_RECORDER, TOKEN, Notebook

E2E = Path(__file__).resolve().parent
REPO = E2E.parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
KERNEL = "hpw-e2e"
KERNEL_DISPLAY = "Python 3 (hpwidgets e2e)"
VIEWPORT = {"width": 1280, "height": 1000}
BASE_URL = "/user/someone/"  # every page and request under a JupyterHub-like prefix


# -- the server ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))


@dataclass
class Lab:
    url: str
    root: Path
    home: Path
    log: Path
    runtime: Path
    proc: subprocess.Popen = field(repr=False)

    def api(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(
            f"{self.url}/api/{path}", method=method, headers={"Authorization": f"token {TOKEN}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def write_notebook(self, name: str, cells: list[str]) -> Path:
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": KERNEL_DISPLAY, "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        path = self.root / name
        nbformat.write(nb, path)
        return path

    def end_sessions(self) -> None:
        """Shut down every kernel of the server, as a culled session or the next day does."""
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _wait_for_api(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}"
            )
        try:
            with urllib.request.urlopen(f"{url}/api?token={TOKEN}", timeout=2) as response:
                if response.status == 200 and "version" in json.loads(response.read()):
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        time.sleep(0.1)
    raise RuntimeError(
        f"jupyter lab did not answer /api in {timeout:g} s:\n{log.read_text(errors='replace')[-4000:]}"
    )


def _processes_using(marker: str) -> list[int]:
    """Pids whose command line mentions ``marker`` (our temp runtime folder: our kernels)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            pids.append(int(entry.name))
    return pids


def _stop_lab(lab: Lab) -> None:
    try:  # kernels first: each kills its trials' process groups as it exits
        for kernel in lab.api("kernels"):
            lab.api(f"kernels/{kernel['id']}", method="DELETE")
    except (urllib.error.URLError, OSError, ValueError):
        pass
    if lab.proc.poll() is None:
        lab.proc.terminate()  # SIGTERM: the server stops its kernels and exits, no prompt
        try:
            lab.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(lab.proc.pid, signal.SIGKILL)
            lab.proc.wait(5)
    # Kernels run in sessions of their own; any left (a hung shutdown) die by their pid.
    for pid in _processes_using(str(lab.runtime)):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@contextlib.contextmanager
def running_lab(base: Path, python: str, pythonpath: str | None) -> Iterator[Lab]:
    """``jupyter lab`` of the environment of ``python``, its kernel that same interpreter, with
    ``pythonpath`` before any inherited one (None: no PYTHONPATH, so the environment's own
    installed hpwidgets is what runs), in folders under ``base``; stopped on exit."""
    root, settings, workspaces = base / "root", base / "settings", base / "workspaces"
    data, config, runtime, home = base / "data", base / "config", base / "runtime", base / "hpw-home"
    for folder in (root, settings, workspaces, data, config, runtime):
        folder.mkdir()
    # The kernel: the server's interpreter, so it imports the hpwidgets under test.
    _write_json(
        data / "kernels" / KERNEL / "kernel.json",
        {
            "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": KERNEL_DISPLAY,
            "language": "python",
            "metadata": {"debugger": False},
        },
    )
    # No news or update toast over the page; every cell in the DOM (no windowing).
    _write_json(
        settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
        {"fetchNews": "false", "checkForUpdates": False},
    )
    _write_json(
        settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
        {"windowingMode": "none"},
    )
    shutil.copy(REPO / "examples" / "train.py", root / "train.py")
    env = {
        **os.environ,
        "HPWIDGETS_HOME": str(home),
        "JUPYTER_PATH": os.pathsep.join(filter(None, [str(data), os.environ.get("JUPYTER_PATH")])),
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "PYTHONUNBUFFERED": "1",
    }
    if pythonpath is None:
        env.pop("PYTHONPATH", None)
    else:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, os.environ.get("PYTHONPATH")]))
    log = base / "lab.log"
    last_error: Exception | None = None
    for _attempt in range(3):  # a free port can be taken between the probe and the bind
        port = _free_port()
        url = f"http://127.0.0.1:{port}{BASE_URL.rstrip('/')}"
        command = [
            python,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.base_url={BASE_URL}",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={root}",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={workspaces}",
            "--LabApp.news_url=None",
            "--ServerApp.open_browser=False",
            f"--MappingKernelManager.default_kernel_name={KERNEL}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                command,
                cwd=root,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        server = Lab(url=url, root=root, home=home, log=log, runtime=runtime, proc=proc)
        try:
            _wait_for_api(url, proc, log)
        except RuntimeError as exc:
            last_error = exc
            _stop_lab(server)
            continue
        try:
            yield server
        finally:
            _stop_lab(server)
        return
    raise RuntimeError(f"could not start jupyter lab: {last_error}")


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> Iterator[Lab]:
    """The server of this interpreter, importing this checkout's hpwidgets."""
    with running_lab(tmp_path_factory.mktemp("lab"), sys.executable, str(REPO)) as server:
        yield server


# -- the browser ---------------------------------------------------------------------------


# the browser is tests/conftest.py's `chromium`: one Playwright per session, for e2e and install tests


@pytest.fixture(scope="session")
def lab_context(chromium):
    """The browser profile every e2e test opens its pages in, as a user's browser is: its cache
    keeps JupyterLab's bundles, and the code V8 compiled from them, from one test to the next. A
    fresh profile for each test loaded and compiled them again, most of Chromium's CPU."""
    context = chromium.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.add_init_script(FRAME_RECORDER)
    yield context
    context.close()


@pytest.fixture
def open_notebook(lab_context, lab):
    """``open_notebook(name, cells)``: the notebook written into the server root and opened."""
    notebooks = []

    def open_(name: str, cells: list[str] | None = None, ui: str = "lab",
              allow: tuple[tuple[str, str], ...] = ()) -> Notebook:
        """Write ``cells`` as notebook ``name`` (None: open the one saved there) and open it in
        JupyterLab (``ui="lab"``) or Notebook 7 (``ui="notebook"``), in a page of its own."""
        if cells is not None:
            lab.write_notebook(name, cells)
        notebook = Notebook(lab_context.new_page(), lab, name)
        for pattern, why in allow:  # narrow console errors this test expects, each with its reason
            notebook.allow_console_error(pattern, why)
        notebooks.append(notebook)
        return notebook.open(ui)

    yield open_
    try:
        for notebook in notebooks:
            try:  # a round trip: console events sent before it are delivered first
                notebook.page.evaluate("0")
            except Exception:  # a closed or crashed page: report what was collected
                pass
            if notebook.ignored:
                print("ignored console errors:", *notebook.ignored, sep="\n  ")
            notebook.check_errors()
    finally:
        for page in lab_context.pages:  # this test's, and any page it opened itself
            page.close()
        try:  # free the CPU for the next test: end this test's kernels
            for session in lab.api("sessions"):
                lab.api(f"sessions/{session['id']}", method="DELETE")
        except (urllib.error.URLError, OSError, ValueError):
            pass
