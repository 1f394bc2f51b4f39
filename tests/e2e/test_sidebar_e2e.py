"""The Runs sidebar in a real JupyterLab (under a JupyterHub-like base URL) and Chromium: a
detached batch listed with live progress, its view (plot, table, CSV), Stop, and every flag value
shown as text."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hpwidgets.core.records import Status
from hpwidgets.core.store.runstore import Store

pytestmark = pytest.mark.e2e

# x < 3 ends after 1.5 s; x >= 3 sleeps 120 s, long enough to be stopped
SCRIPT = textwrap.dedent("""
    import time
    x = 0
    note = "n"
    time.sleep(1.5 if x < 3 else 120)
    print(f"loss: {x}")
""")
XSS = "<img src=x onerror=alert(1)>"


def _processes_running(script: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(script).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_the_runs_sidebar_follows_opens_and_stops_a_detached_batch(lab, open_notebook, monkeypatch):
    monkeypatch.setenv("HPWIDGETS_HOME", str(lab.home))
    script = lab.root / "sidebar_sleepy.py"
    script.write_text(SCRIPT)
    nb = open_notebook("sidebar.ipynb", ["1"])
    page = nb.page
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.locator(".jp-SideBar [data-id='hpwidgets-runs']").click()
    page.locator(".hpw-runs-list").wait_for(timeout=30_000)
    out = subprocess.run([sys.executable, "-m", "hpwidgets.cli", "run", str(script), "x=[0,1,2,3]",
                          f"note={XSS}", "-y", "--detach"], capture_output=True, text=True, timeout=120,
                         cwd=lab.root)
    assert out.returncode == 0, out.stderr
    store = Store(str(lab.home))
    batch_id = store.resolve_batch(out.stdout.split()[1])

    item = page.locator(f".hpw-runs-item[data-batch='{batch_id}']")
    item.wait_for(timeout=30_000)
    assert nb.text(item.locator(".hpw-runs-flags")) == f"grid · note={XSS} x=[0,1,2,3]"  # text, not markup
    assert page.locator(".hpw-runs img").count() == 0

    counts = item.locator(".hpw-runs-counts")
    seen = [nb.text(counts)]
    nb.wait_until(lambda: (now := nb.text(counts)) != seen[-1] and seen.append(now) is None,
                  "the progress to change", timeout=30)
    assert [re.match(r"\d+ of 4 done", s) is not None for s in seen] == [True, True]
    assert int(seen[1][0]) > int(seen[0][0])
    assert nb.text(item.locator(".hpw-runs-state")) == "running"

    item.locator(".hpw-runs-open").click()  # its view in the main area
    view = page.locator(f"#hpwidgets-batch-view-{batch_id} .hpw-view")
    view.locator("img.hpw-plot").wait_for(timeout=30_000)
    nb.wait_until(lambda: view.locator(".hpw-rows tbody tr").count() >= 3, "three runs in the table", timeout=30)
    assert view.locator("td", has_text=XSS).count() >= 1 and view.locator("td img").count() == 0
    with page.expect_download() as download:
        view.locator(".hpw-csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert download.value.suggested_filename == f"hpw-{batch_id[:8]}.csv"
    assert sorted(r["run"] for r in rows) == sorted(r.id[:8] for r in store.runs(batch=batch_id)) or \
        sorted(r["run"] for r in rows) == sorted(r.id for r in store.runs(batch=batch_id))
    assert {r["note"] for r in rows} == {XSS}

    nb.wait_until(lambda: any(r.flags["x"] == 3 and r.status is Status.RUNNING
                              for r in store.runs(batch=batch_id)), "the sleeping trial to start", timeout=30)
    # its record says running from the fork on; the exec that puts the script in its command line follows
    nb.wait_until(lambda: _processes_running(script), "the sleeping trial's process to show its script", timeout=30)
    nb.screenshot("sidebar-running")
    item.locator(".hpw-runs-stop").click()
    message = page.locator(".hpw-runs-message")
    nb.wait_until(lambda: nb.text(message).startswith("Stopped"), "the Stop to answer", timeout=60)
    assert nb.text(message) == f"Stopped batch {batch_id[:8]}: 3 of 4 done · 1 terminated"
    assert _processes_running(script) == []  # no trial left
    statuses = sorted((r.flags["x"], r.status) for r in store.runs(batch=batch_id))
    assert statuses == [(0, Status.COMPLETED), (1, Status.COMPLETED), (2, Status.COMPLETED), (3, Status.TERMINATED)]
    listing = subprocess.run([sys.executable, "-m", "hpwidgets.cli", "runs"], capture_output=True, text=True,
                             env={**os.environ, "HPWIDGETS_HOME": str(lab.home)}, timeout=60).stdout
    for r in store.runs(batch=batch_id):
        assert re.search(rf"{r.short_id}\s.*\s{r.status.value}\s", listing)
    nb.wait_until(lambda: nb.text(item.locator(".hpw-runs-state")) == "unfinished", "the listing to show the end", 15)
    assert item.locator(".hpw-runs-stop").count() == 0
    nb.wait_until(lambda: view.get_attribute("data-running") == "false", "the view to show the end", 15)
    nb.screenshot("sidebar-stopped", view)


def test_notebook_7_shows_the_runs_panel_as_a_tab_and_stops_a_batch_of_another_process(lab, chromium, monkeypatch):
    from .conftest import VIEWPORT
    from .notebook_page import ARTIFACTS, TOKEN

    script = lab.root / "tree_quick.py"
    script.write_text(SCRIPT)
    out = subprocess.run([sys.executable, "-m", "hpwidgets.cli", "run", str(script), "x=[0,1]", f"note={XSS}", "-y"],
                         capture_output=True, text=True, timeout=120, cwd=lab.root,
                         env={**os.environ, "HPWIDGETS_HOME": str(lab.home)})
    assert out.returncode == 0, out.stderr
    batch_id = Store(str(lab.home)).resolve_batch(out.stdout.split("Batch ")[-1].split()[0])
    best = next(r for r in Store(str(lab.home)).runs(batch=batch_id) if r.flags["x"] == 0)
    context = chromium.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(f"{exc}\n{exc.stack}"))
        page.on("dialog", lambda dialog: errors.append(f"a dialog opened: {dialog.message}"))
        page.goto(f"{lab.url}/tree?token={TOKEN}")
        page.get_by_role("tab", name="Runs").click()
        item = page.locator(f".hpw-runs-item[data-batch='{batch_id}']")
        item.wait_for(timeout=30_000)
        assert (item.locator(".hpw-runs-state").text_content(), item.locator(".hpw-runs-counts").text_content()) == (
            "finished", f"2 of 2 done · best loss 0 ({best.short_id})")
        # a batch in another process (a kernel, a plain `hpw run`): its Stop sends a stop request
        other = subprocess.Popen([sys.executable, "-m", "hpwidgets.cli", "run", str(script), "x=[0,3]", "-y"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=lab.root,
                                 env={**os.environ, "HPWIDGETS_HOME": str(lab.home)}, start_new_session=True)
        try:
            running = page.locator(".hpw-runs-item.hpw-running", has_text="tree_quick.py")
            running.wait_for(timeout=30_000)
            store = Store(str(lab.home))
            other_id = running.get_attribute("data-batch")
            sleeping = lambda: any(r.flags["x"] == 3 and r.status is Status.RUNNING  # noqa: E731
                                   for r in store.runs(batch=other_id))
            deadline = time.monotonic() + 30
            while not sleeping() and time.monotonic() < deadline:
                page.wait_for_timeout(100)
            assert sleeping() and _processes_running(script)
            running.locator(".hpw-runs-stop").click()
            message = page.locator(".hpw-runs-message")
            message.filter(has_text="Stopped").wait_for(timeout=60_000)
            assert message.text_content() == f"Stopped batch {other_id[:8]}: 1 of 2 done · 1 terminated"
            assert other.wait(30) == 0 and _processes_running(script) == []
        finally:
            if other.poll() is None:
                os.killpg(other.pid, signal.SIGKILL)
                other.wait(30)
        item.locator(".hpw-runs-open").click()
        view = page.locator(f"#hpwidgets-batch-view-{batch_id} .hpw-view")
        view.locator("img.hpw-plot").wait_for(timeout=30_000)
        assert view.locator(".hpw-rows tbody tr").count() == 2 and view.locator("td img").count() == 0
        page.screenshot(path=str(ARTIFACTS / "sidebar-notebook7.png"), full_page=True)
        # Notebook 7.6's own settings loader throws this on its tree page, with or without this
        # extension (checked with hpwidgets disabled in page_config.json): not ours to fail on
        ours = [e for e in errors if not ("reading 'schema'" in e and "/static/notebook/notebook_core." in e)]
        assert ours == [], "\n".join(ours)
    finally:
        context.close()
