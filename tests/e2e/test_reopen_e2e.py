"""A notebook is a record of the search: save, close, reopen (JupyterLab 4 and Notebook 7, with
default settings) and export (nbconvert) keep each batch's picture, table and CSV download, also
for a batch whose kernel went away in the middle. Screenshots go to tests/e2e/artifacts/."""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys

import pytest

from hpwidgets.core.results import compare
from hpwidgets.core.store.runstore import Store

from .conftest import _processes_using
from .test_notebook_e2e import LOAD, SLEEPY, batch_of, done_count, progress, table_rows, view

pytestmark = pytest.mark.e2e

# A reopened notebook's widget manager greets its fresh kernel, which has not imported ipywidgets
# yet; JupyterLab logs the refused control comm. No hpwidgets code runs on that page.
REOPEN_NOISE = ((r"^Comm not found for comm id", "the widget manager's handshake with a fresh kernel"),)
# Notebook 7 served by the same server as JupyterLab logs these at start-up, before any output.
NOTEBOOK7_NOISE = ((r"reading 'schema'|Command 'filebrowser:open-path' not registered",
                    "Notebook 7's own start-up beside JupyterLab"),)


def picture_shown(nb, scope) -> bool:
    picture = scope.locator("img.hpw-plot")
    return picture.count() == 1 and picture.evaluate("img => img.complete && img.naturalWidth > 0")


def downloaded_csv(nb, scope, name: str) -> list[str]:
    with nb.page.expect_download() as info:
        scope.locator("a.hpw-csv-link").click()
    download = info.value
    saved = nb.artifact(name)
    download.save_as(saved)
    return saved.read_text(encoding="utf-8").splitlines()


def test_a_finished_batch_survives_save_close_and_reopen(open_notebook, lab):
    nb = open_notebook("reopen.ipynb", [LOAD, "%hprun train.py x=[-2,0,2] --wait"])
    nb.run_cell(0)
    nb.run_cell(1)
    shown = view(nb, 1)
    nb.wait_until(lambda: progress(nb, shown).startswith("Completed: 3 of 3 done"), "the batch to complete")
    header, rows = table_rows(shown)
    nb.save()
    nb.page.close()  # the tab
    lab.end_sessions()  # the kernel is gone, as on the next day
    store = Store(str(lab.home))
    batch = batch_of(store, rows)
    expected = compare.to_csv(store.runs(batch=batch)).splitlines()

    for ui in ("lab", "notebook"):
        again = open_notebook("reopen.ipynb", ui=ui, allow=REOPEN_NOISE + (NOTEBOOK7_NOISE if ui == "notebook" else ()))
        record = again.cell(1).locator(".hpw-record:visible")
        again.wait_until(lambda nb=again, shown=record: shown.count() == 1 and picture_shown(nb, shown),
                         f"the record in {ui}")
        assert progress(again, record).startswith("Completed: 3 of 3 done")
        assert table_rows(record) == (header, rows)
        assert again.cell(1).get_by_text("Error displaying widget").count() == 0
        assert again.cell(1).locator(".hpw-dashboard:visible").count() == 0
        lines = downloaded_csv(again, record, f"6-reopened-{ui}.csv")
        assert lines[0] == expected[0] and sorted(lines[1:]) == sorted(expected[1:])
        again.screenshot(f"6-reopened-{ui}", record)


def test_a_batch_cut_off_by_a_kernel_restart_keeps_its_latest_state(open_notebook, lab, tmp_path):
    (lab.root / "sleepy.py").write_text(SLEEPY.replace("0.2", "0.4"))
    nb = open_notebook("cutoff.ipynb", [LOAD, "%hprun sleepy.py x=[0.0:1.0] --optimizer random --max-trials 12 "
                                              "--random-seed 3"])
    nb.run_cell(0)
    nb.run_cell(1)
    live = nb.cell(1).locator(".hpw-dashboard:visible")
    nb.wait_until(lambda: done_count(progress(nb, live)) >= 4, "4 finished trials")
    hidden_record = nb.cell(1).locator(".hpw-record .hpw-progress")  # rewritten every 2 s
    nb.wait_until(lambda: done_count(hidden_record.first.text_content() or "") >= 4, "a record with 4 done")
    # The kernel goes away mid-batch: its widgets disconnect and the cell falls back to the record.
    nb.allow_console_error(r"widget model not found|Comm not found|Kernel is dead",
                           "the test restarts the kernel under live widgets on purpose")
    (session,) = [s for s in lab.api("sessions") if s["path"].endswith("cutoff.ipynb")]
    kernel_pids = _processes_using(f"kernel-{session['kernel']['id']}.json")
    assert kernel_pids
    for pid in kernel_pids:  # the kernel dies (out of memory, a segfault): the server restarts it
        os.kill(pid, signal.SIGKILL)
    record = view(nb, 1)
    nb.wait_until(lambda: nb.cell(1).locator(".hpw-record:visible").count() == 1, "the record to show")
    line = progress(nb, record)
    finished = done_count(line)
    assert 4 <= finished < 12, line
    nb.page.locator(".jp-Dialog button.jp-mod-accept").click()  # "The kernel ... appears to have died"
    assert "If its kernel is gone, the batch ended here: %hprun --resume" in nb.text(record.locator(".hpw-note"))
    assert nb.cell(1).locator("button.hpw-stop:visible").count() == 0  # nothing pretends to run
    header, rows = table_rows(record)
    statuses = [r[header.index("status")] for r in rows]
    # the top 5, then any running trial not among them (with its latest step and value)
    assert len(rows) >= 5 and statuses[:5].count("completed") == min(finished, 5)
    assert set(statuses[5:]) <= {"running"}
    nb.screenshot("7-kernel-gone", record)
    nb.save()

    # nbconvert's export of the saved notebook keeps the same record, picture and rows.
    out = tmp_path / "export"
    subprocess.run([sys.executable, "-m", "nbconvert", "--to", "html", "--output-dir", str(out),
                    str(lab.root / "cutoff.ipynb")], check=True, capture_output=True, timeout=120)
    html = (out / "cutoff.html").read_text(encoding="utf-8")
    assert f"{finished} of 12 done" in html
    assert html.count("<td>completed</td>") == min(finished, 5)  # the top 5 rows, finished trials first
    picture = re.search(r'<img alt="hpwidgets plot" class="hpw-plot" src="data:image/png;base64,([^"]+)"', html)
    assert picture and base64.b64decode(picture.group(1)).startswith(b"\x89PNG")
    page = nb.page.context.new_page()
    page.goto((out / "cutoff.html").as_uri())
    assert page.locator(".hpw-record:visible").count() == 1
    assert page.locator(".hpw-record:visible img.hpw-plot").evaluate("img => img.naturalWidth") > 0
    page.screenshot(path=str(nb.artifact("7-exported.png")), full_page=True)
