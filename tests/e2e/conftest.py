"""Real-browser fixtures: a JupyterLab server, headless Chromium, and a notebook page to drive.

``lab`` (session) starts ``jupyter lab`` on 127.0.0.1 with a fixed token, temp root, settings,
workspaces, config and runtime folders, a kernel spec for this very Python (so the kernel imports
this checkout's hpwidgets) and HPWIDGETS_HOME pointing to a temp run store. ``chromium``
(session) is the system Chromium driven by Playwright. ``open_notebook`` (per test) writes a
notebook into the server root, opens it in a fresh browser context and returns a ``Notebook``
that runs cells, waits on selectors and fails the test on any JavaScript error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

E2E = Path(__file__).resolve().parent
REPO = E2E.parents[1]
ARTIFACTS = E2E / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
TOKEN = "hpw-e2e-token"
KERNEL = "hpw-e2e"
KERNEL_DISPLAY = "Python 3 (hpwidgets e2e)"
VIEWPORT = {"width": 1280, "height": 1000}

# Console errors that say nothing about hpwidgets, as (pattern, why it is noise). Empty: runs on
# this machine (JupyterLab 4.6, Chromium, background networking off) log no console error at all,
# so every one fails the test. Add an entry only with a pattern as narrow as the message.
IGNORED_CONSOLE_ERRORS: list[tuple[str, str]] = []

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


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> Lab:
    base = tmp_path_factory.mktemp("lab")
    root, settings, workspaces = base / "root", base / "settings", base / "workspaces"
    data, config, runtime, home = base / "data", base / "config", base / "runtime", base / "hpw-home"
    for folder in (root, settings, workspaces, data, config, runtime):
        folder.mkdir()
    # The kernel: this interpreter, so it imports the hpwidgets under test.
    _write_json(
        data / "kernels" / KERNEL / "kernel.json",
        {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
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
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
    }
    log = base / "lab.log"
    last_error: Exception | None = None
    for _attempt in range(3):  # a free port can be taken between the probe and the bind
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
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
        yield server
        _stop_lab(server)
        return
    raise RuntimeError(f"could not start jupyter lab: {last_error}")


# -- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-liberation)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# Records each frame the dashboard's plot shows: a fingerprint of its pixels and the progress
# line at that moment, pushed on every <img class="hpw-plot"> load (a capture listener sees
# them all, so no update is missed between two polls).
FRAME_RECORDER = """
window.__hpwFrames = [];
document.addEventListener("load", (event) => {
  const img = event.target;
  if (!(img instanceof HTMLImageElement) || !img.matches("img.hpw-plot")) return;
  let hash = 2166136261;
  try {
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      hash = Math.imul(hash ^ (data[i] + 3 * data[i + 1] + 7 * data[i + 2]), 16777619) >>> 0;
    }
  } catch (e) { hash = "error: " + e; }
  const dash = img.closest(".hpw-dashboard");
  const progress = dash && dash.querySelector(".hpw-progress");
  window.__hpwFrames.push({
    t: performance.now(), hash: String(hash), width: img.naturalWidth,
    src: img.src.slice(0, 40), progress: progress ? progress.textContent : "",
  });
}, true);
"""


class JavaScriptError(AssertionError):
    pass


class Notebook:
    """One notebook open in JupyterLab; every wait also fails fast on a JavaScript error."""

    def __init__(self, page: Any, lab: Lab, name: str) -> None:
        self.page, self.lab, self.name = page, lab, name
        self.errors: list[str] = []
        self.ignored: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _on_console(self, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        location = message.location or {}
        where = f" ({location.get('url', '')}:{location.get('lineNumber', '')})"
        if any(re.search(pattern, text + where) for pattern, _why in IGNORED_CONSOLE_ERRORS):
            self.ignored.append(text + where)
            return
        self.errors.append(f"console.error: {text}{where}")

    def check_errors(self) -> None:
        if self.errors:
            raise JavaScriptError("JavaScript errors in the browser:\n" + "\n".join(self.errors))

    # -- waiting -------------------------------------------------------------------------

    def wait_until(self, predicate: Any, what: str, timeout: float = 60, poll: float = 0.1) -> Any:
        """Poll ``predicate()`` until it returns something truthy; fail on timeout or a JS error."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_errors()
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
            self.page.wait_for_timeout(poll * 1000)  # lets Playwright deliver events meanwhile

    # -- the notebook --------------------------------------------------------------------

    def open(self) -> Notebook:
        self.page.goto(f"{self.lab.url}/lab/tree/{self.name}?token={TOKEN}&reset")
        status = self.page.locator(".jp-StatusBar-TextItem[title^='Change kernel']")
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        self.wait_until(
            lambda: re.search(r"\| Idle$", status.first.text_content() or "") if status.count() else None,
            "the kernel to be idle",
        )
        return self

    def cell(self, index: int) -> Any:
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def run_cell(self, index: int, wait: bool = True, timeout: float = 60) -> Any:
        cell = self.cell(index)
        cell.locator(".jp-InputArea-editor").click()
        self.page.keyboard.press("Shift+Enter")
        if wait:
            self.wait_cell(index, timeout)
        return cell

    def wait_cell(self, index: int, timeout: float = 60) -> None:
        prompt = self.cell(index).locator(".jp-InputPrompt")
        self.wait_until(
            lambda: re.fullmatch(r"\[\d+\]:", (prompt.text_content() or "").strip()),
            f"cell {index} to finish",
            timeout,
        )

    def output_text(self, index: int) -> str:
        return self.cell(index).locator(".jp-OutputArea").inner_text()

    def wait_output(self, index: int, text: str, timeout: float = 60) -> str:
        """Cell ``index``'s output once it contains ``text`` (the reply may beat the stream)."""
        return self.wait_until(
            lambda: text in (out := self.output_text(index)) and out,
            f"{text!r} in the output of cell {index}",
            timeout,
        )

    def text(self, locator: Any) -> str:
        return (locator.first.text_content() or "").strip() if locator.count() else ""

    def artifact(self, name: str) -> Path:
        """A path in tests/e2e/artifacts/ (gitignored) for a file kept after the run."""
        ARTIFACTS.mkdir(exist_ok=True)
        return ARTIFACTS / name

    def frames(self) -> list[dict]:
        """The plot frames FRAME_RECORDER saw: {t, hash, width, src, progress} each."""
        return self.page.evaluate("window.__hpwFrames")

    def screenshot(self, name: str, focus: Any = None) -> Path:
        """A full-page PNG in tests/e2e/artifacts/, ``focus`` (a locator) scrolled into view."""
        if focus is not None:
            focus.scroll_into_view_if_needed()
        path = self.artifact(f"{name}.png")
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def open_notebook(chromium, lab):
    """``open_notebook(name, cells)``: the notebook written into the server root and opened."""
    contexts, notebooks = [], []

    def open_(name: str, cells: list[str]) -> Notebook:
        lab.write_notebook(name, cells)
        context = chromium.new_context(viewport=VIEWPORT, accept_downloads=True)
        context.add_init_script(FRAME_RECORDER)
        contexts.append(context)
        notebook = Notebook(context.new_page(), lab, name)
        notebooks.append(notebook)
        return notebook.open()

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
        for context in contexts:
            context.close()
        try:  # free the CPU for the next test: end this test's kernels
            for session in lab.api("sessions"):
                lab.api(f"sessions/{session['id']}", method="DELETE")
        except (urllib.error.URLError, OSError, ValueError):
            pass
