"""Drive one notebook page in JupyterLab: run cells, wait on selectors, fail on any JavaScript error."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .conftest import Lab

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TOKEN = "hpw-e2e-token"

# Console errors that say nothing about hpwidgets, as (pattern, why it is noise). Empty: runs on
# this machine (JupyterLab 4.6, Chromium, background networking off) log no console error at all,
# so every one fails the test. Add an entry only with a pattern as narrow as the message.
IGNORED_CONSOLE_ERRORS: list[tuple[str, str]] = []


# Records each frame the dashboard's plot and learning curves show: a fingerprint of its pixels
# and the progress line at that moment, pushed on every <img class="hpw-plot"> (kind "plot") or
# curves image (kind "curves") load (a capture listener sees them all, so no update is missed
# between two polls).
FRAME_RECORDER = """
window.__hpwFrames = [];
document.addEventListener("load", (event) => {
  const img = event.target;
  if (!(img instanceof HTMLImageElement)) return;
  const kind = img.matches("img.hpw-plot") ? "plot" : img.closest(".hpw-curves") ? "curves" : null;
  if (kind === null) return;
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
  const dash = img.closest(".hpw-dashboard, .hpw-record");
  const progress = dash && dash.querySelector(".hpw-progress");
  window.__hpwFrames.push({
    kind, t: performance.now(), hash: String(hash), width: img.naturalWidth,
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
        self.allowed: list[tuple[str, str]] = []
        self.ui = "lab"
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)

    def _on_page_error(self, exc: Any) -> None:
        text = f"pageerror: {exc}"
        if any(re.search(pattern, text) for pattern, _why in [*IGNORED_CONSOLE_ERRORS, *self.allowed]):
            self.ignored.append(text)
            return
        self.errors.append(text)

    def _on_console(self, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        location = message.location or {}
        where = f" ({location.get('url', '')}:{location.get('lineNumber', '')})"
        if any(re.search(pattern, text + where) for pattern, _why in [*IGNORED_CONSOLE_ERRORS, *self.allowed]):
            self.ignored.append(text + where)
            return
        self.errors.append(f"console.error: {text}{where}")

    def check_errors(self) -> None:
        if self.errors:
            raise JavaScriptError(f"JavaScript errors in the browser ({self.name}, {self.ui}):\n" + "\n".join(self.errors))

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

    def open(self, ui: str = "lab") -> Notebook:
        self.ui = ui
        if ui == "notebook":  # Notebook 7: its own page, the same cells and outputs
            self.page.goto(f"{self.lab.url}/notebooks/{self.name}?token={TOKEN}")
            self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            return self
        self.page.goto(f"{self.lab.url}/lab/tree/{self.name}?token={TOKEN}&reset")
        status = self.page.locator(".jp-StatusBar-TextItem[title^='Change kernel']")
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        self.wait_until(
            lambda: re.search(r"\| Idle$", status.first.text_content() or "") if status.count() else None,
            "the kernel to be idle",
        )
        return self

    def allow_console_error(self, pattern: str, why: str) -> None:
        """Let one narrow console error through in this test only, saying why."""
        self.allowed.append((pattern, why))

    def save(self) -> None:
        """Save with the keyboard, as a user does, and wait until the file on disk has changed."""
        path = self.lab.root / self.name
        before = path.stat().st_mtime_ns
        self.cell(0).locator(".jp-InputPrompt").click()  # command mode: Ctrl+S saves the notebook
        self.page.keyboard.press("Control+s")
        self.wait_until(lambda: path.stat().st_mtime_ns != before, f"{self.name} to be saved")

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

    def frames(self, kind: str = "plot") -> list[dict]:
        """The frames of ``kind`` ("plot" or "curves") FRAME_RECORDER saw: {t, hash, width, src,
        progress} each."""
        return [f for f in self.page.evaluate("window.__hpwFrames") if f["kind"] == kind]

    def screenshot(self, name: str, focus: Any = None) -> Path:
        """A full-page PNG in tests/e2e/artifacts/, ``focus`` (a locator) scrolled into view."""
        if focus is not None:
            focus.scroll_into_view_if_needed()
        path = self.artifact(f"{name}.png")
        self.page.screenshot(path=str(path), full_page=True)
        return path
