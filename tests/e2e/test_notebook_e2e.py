"""hpwidgets in a real JupyterLab and Chromium: magics, live dashboard, CSV download, Stop, panel.

Each test opens its own notebook (its own kernel) on the session's server; the run store is the
server's HPWIDGETS_HOME, read here with ``Store``. Any JavaScript error fails the test (see
conftest.py). A full-page screenshot after each step goes to tests/e2e/artifacts/.
"""

from __future__ import annotations

import re
import time

import pytest

from hpwidgets.core.records import Status
from hpwidgets.core.results import compare
from hpwidgets.core.store.runstore import Store

pytestmark = pytest.mark.e2e

LOAD = "%load_ext hpwidgets"
# When a batch ends, its live view is cleared and the cell shows its static record (the same
# plan, progress line, picture and table, with a CSV link): the record is what saved and
# reopened notebooks keep. `_` is the Batch the magic returned; once this cell has printed, the
# batch has ended and the record on the page is the last one.
SETTLE = 'print("batch", _.wait().finished.status)'
SLEEPY = 'import time\n\nx = 0.5\n\ntime.sleep(0.2)\nprint(f"loss: {x}")\n'


def view(nb, cell: int):
    """What cell ``cell`` shows of its batch: the live dashboard while its kernel runs it, else
    its static record (exactly one of the two is visible)."""
    return nb.cell(cell).locator(".hpw-dashboard:visible, .hpw-record:visible")


def progress(nb, scope) -> str:
    """The dashboard's progress line (``Completed: 3 of 3 done · ...``)."""
    return nb.text(scope.locator(".hpw-progress"))


def done_count(line: str) -> int:
    match = re.search(r"(\d+) of \d+ done", line)
    return int(match.group(1)) if match else -1


def table_rows(scope) -> tuple[list[str], list[list[str]]]:
    """The runs table's header and rows as the page shows them."""
    table = scope.locator(".hpw-table table.hpw-rows")
    header = [t.strip() for t in table.locator("thead th").all_text_contents()]
    rows = [
        [t.strip() for t in row.locator("td").all_text_contents()] for row in table.locator("tbody tr").all()
    ]
    return header, rows


def settle(nb, cell: int, dash, status: str) -> None:
    """Run the SETTLE cell, then wait for the record that replaces the live view, with its picture."""
    nb.run_cell(cell)
    nb.wait_output(cell, f"batch {status}")
    nb.wait_until(lambda: progress(nb, dash).startswith(f"{status.capitalize()}: "), "the last dashboard")
    nb.wait_until(lambda: nb.cell(cell - 1).locator(".hpw-dashboard:visible").count() == 0, "the live view to go")
    picture = dash.locator("img.hpw-plot")
    nb.wait_until(lambda: picture.evaluate("img => img.complete && img.naturalWidth > 0"), "the last picture")


def batch_of(store: Store, rows: list[list[str]]) -> str:
    """The id of the one batch whose runs the table rows show (their first cell: a short run id)."""
    shown = {row[0] for row in rows}
    batches = {r.batch for r in store.runs() if r.short_id in shown}
    assert len(batches) == 1, batches
    return batches.pop()


def test_grid_of_three(open_notebook):
    nb = open_notebook("grid.ipynb", [LOAD, "%hprun train.py x=[-2,0,2]", SETTLE])
    nb.run_cell(0)
    nb.run_cell(1)
    dash = view(nb, 1)
    nb.wait_until(
        lambda: len(table_rows(dash)[1]) == 3 and progress(nb, dash).startswith("Completed: 3 of 3 done"),
        "3 table rows and 'Completed: 3 of 3 done'",
    )
    settle(nb, 2, dash, "completed")
    header, rows = table_rows(dash)
    assert header[:2] == ["run", "status"] and {"x", "loss"} <= set(header)
    assert sorted(float(row[header.index("x")]) for row in rows) == [-2.0, 0.0, 2.0]
    assert {row[1] for row in rows} == {"completed"}
    nb.screenshot("1-grid", dash)


def test_gp_search_redraws_live_with_true_curve_then_csv_download(open_notebook, lab):
    nb = open_notebook(
        "gp.ipynb",
        [
            f"{LOAD}\nimport numpy as np",
            "def truth(x):\n    return np.sin(5*x)*(1-np.tanh(x**2))",
            "%hprun train.py x=[-2.0:2.0] --optimizer gp --max-trials 10 --truth truth --random-seed 4",
            SETTLE,
        ],
    )
    for cell in range(3):
        nb.run_cell(cell)
    dash = view(nb, 2)
    nb.wait_until(
        lambda: progress(nb, dash).startswith("Completed: 10 of 10 done"), "the gp batch to complete"
    )
    settle(nb, 3, dash, "completed")

    # Step 2: the picture changed while trials were left to run (not only at the end), and the
    # last frame, with all 10 trials, was shown too. Frames come from notebook_page.FRAME_RECORDER.
    frames = nb.wait_until(
        lambda: (f := nb.frames()) and any(done_count(x["progress"]) == 10 for x in f) and f,
        "the plot's frame with 10 finished trials",
    )
    live = [f for f in frames if 0 <= done_count(f["progress"]) < 10]
    summary = [(done_count(f["progress"]), f["hash"]) for f in frames]
    print(f"{len(frames)} plot frames, {len(live)} while running:", summary)
    assert not [f for f in frames if f["hash"].startswith("error")], summary
    assert len({f["hash"] for f in live}) >= 5, summary
    assert len({done_count(f["progress"]) for f in live}) >= 3, summary
    plot = dash.locator("img.hpw-plot")
    assert "hpw-truth" in (plot.get_attribute("class") or "").split(), "the plot does not draw the true curve"
    header, rows = table_rows(dash)
    assert nb.text(dash.locator(".hpw-caption")) == "Top 5 of 10 runs by loss (lowest first)"
    losses = [float(row[header.index("loss")]) for row in rows]
    assert len(losses) == 5 and losses == sorted(losses)
    nb.screenshot("2-gp", dash)

    # Step 3: Download CSV saves every run of the batch (not only the 5 shown), as the store has them;
    # the record's link carries the CSV itself, so it needs no kernel.
    with nb.page.expect_download() as info:
        dash.locator("a.hpw-csv-link").click()
    download = info.value
    saved = nb.artifact("3-download.csv")
    download.save_as(saved)
    lines = saved.read_text(encoding="utf-8").splitlines()
    store = Store(str(lab.home))
    batch = batch_of(store, rows)
    assert download.suggested_filename == f"hpw-{batch[:8]}.csv"
    runs = store.runs(batch=batch)
    expected = compare.to_csv(runs).splitlines()
    assert lines[0] == expected[0]
    assert len(lines) - 1 == len(runs) == 10
    assert sorted(lines[1:]) == sorted(expected[1:])
    nb.screenshot("3-csv", dash)


def test_stop_a_long_batch_while_the_kernel_stays_free(open_notebook, lab):
    (lab.root / "sleepy.py").write_text(SLEEPY)
    nb = open_notebook(
        "stop.ipynb",
        [
            LOAD,
            "%hprun sleepy.py x=[0.0:1.0] --optimizer random --max-trials 50 --random-seed 7",
            'print("kernel is free:", 6 * 7, "| batch done:", _.done)',
            SETTLE,
        ],
    )
    nb.run_cell(0)
    nb.run_cell(1)
    dash = view(nb, 1)
    nb.wait_until(lambda: done_count(progress(nb, dash)) >= 3, "3 finished trials")

    nb.run_cell(2)  # the batch runs on its own thread: this cell runs and prints meanwhile
    nb.wait_output(2, "kernel is free: 42 | batch done: False")
    line = progress(nb, dash)
    assert not line.startswith(("Completed", "Stopped")) and done_count(line) < 50, line
    nb.screenshot("4-kernel-free", nb.cell(2))

    # Click while a trial has just started (as the store says), so that one surely runs when Stop
    # arrives: in the 1-5 ms between two trials (of 250 ms each) nothing would be terminated.
    store = Store(str(lab.home))
    batch = batch_of(store, table_rows(dash)[1])

    def trial_just_started() -> bool:
        now = time.time()
        runs = store.runs(batch=batch)
        return any(r.status is Status.RUNNING and r.started and now - r.started < 0.08 for r in runs)

    nb.wait_until(trial_just_started, "a trial that started less than 80 ms ago", poll=0.005)
    dash.locator("button.hpw-stop").click()
    settle(nb, 3, dash, "stopped")
    assert nb.cell(1).locator("button.hpw-stop:visible").count() == 0  # nothing left that pretends to run

    runs = store.runs(batch=batch)
    statuses = [r.status for r in runs]
    assert len(runs) < 50
    assert statuses.count(Status.COMPLETED) >= 3
    assert [s for s in statuses if not s.is_finished()] == []
    (stopped,) = [r for r in runs if r.status is Status.TERMINATED]
    assert stopped.reason == "stopped before it finished"
    assert statuses.count(Status.COMPLETED) + 1 == len(runs)
    assert progress(nb, dash).startswith(
        f"Stopped: {len(runs) - 1} of 50 done · 0 running · 0 failed · 1 terminated"  # --resume reruns it
    )
    nb.screenshot("4-stopped", dash)


def test_control_panel_runs_a_batch(open_notebook, lab):
    nb = open_notebook("panel.ipynb", ['import hpwidgets as hp\nhp.panel("train.py")'])
    nb.run_cell(0)
    panel = nb.cell(0).locator(".hpw-panel")
    x_box = panel.locator(".widget-text").filter(has=nb.page.locator("label", has_text=re.compile(r"^x$")))
    x_input = x_box.locator("input")
    assert x_input.input_value() == "0.1"  # the script's default
    x_input.fill("[-1,1]")
    x_input.press("Tab")
    panel.locator("button.hpw-run").click()
    dash = panel.locator(".hpw-dashboard")
    nb.wait_until(
        lambda: len(table_rows(dash)[1]) == 2 and progress(nb, dash).startswith("Completed: 2 of 2 done"),
        "2 table rows and 'Completed: 2 of 2 done'",
    )
    header, rows = table_rows(dash)
    assert sorted(float(row[header.index("x")]) for row in rows) == [-1.0, 1.0]
    store = Store(str(lab.home))
    runs = store.runs(batch=batch_of(store, rows))
    assert sorted(r.flags["x"] for r in runs) == [-1.0, 1.0]
    assert {r.status for r in runs} == {Status.COMPLETED}
    nb.wait_until(lambda: panel.locator("button.hpw-run").is_enabled(), "Run to be enabled again")
    assert nb.text(panel.locator(".hpw-error")) == ""
    nb.screenshot("5-panel", dash)


# Trial 1 reports 20 steps over 4 s; trial 2 reports a step 1 nine times worse and is pruned.
CURVES = (
    'open("curves.py", "w").write("import time\\nx = 1\\nfor step in range(1, 21):\\n'
    '    print(f\\"loss: {x / step} (step {step})\\", flush=True)\\n    time.sleep(0.2)\\n")'
)


def test_learning_curves_move_during_one_trial_and_mark_the_pruned_one(open_notebook):
    nb = open_notebook("curves.ipynb", [
        f"{LOAD}\n{CURVES}",
        "%hprun curves.py x=[1,9] --prune median -Fp min-trials=1",
        SETTLE,
    ])
    nb.run_cell(0)
    nb.run_cell(1)
    dash = view(nb, 1)
    nb.wait_until(lambda: progress(nb, dash).startswith("Completed: 2 of 2 done"), "the batch to end", 60)
    settle(nb, 2, dash, "completed")  # the record now: the same line, curves and table
    frames = nb.frames("curves")
    during = [f for f in frames if done_count(f["progress"]) == 0]  # while the 4-second trial ran
    summary = [(f["progress"][:40], f["hash"]) for f in frames]
    print(f"{len(frames)} curves frames, {len(during)} during the first trial:", summary)
    assert not [f for f in frames if f["hash"].startswith("error")], summary
    assert len({f["hash"] for f in during}) >= 3, summary
    assert any("1 running (#1 step " in f["progress"] for f in during), summary
    line = progress(nb, dash)
    assert line.startswith("Completed: 2 of 2 done · 0 running · 0 failed · 1 pruned · best loss 0.05 "), line
    assert nb.text(dash.locator(".hpw-curves-caption")) == "0 running, 1 finished, 1 pruned"
    header, rows = table_rows(dash)
    # the pruned row's status opens on its reason and output (summary, then details, as text)
    assert [row[header.index("status")] for row in rows] == ["completed", "prunedpruned at step 1\nloss: 9.0 (step 1)"]
    assert [row[header.index("step")] for row in rows] == ["20", "1"]
    # sharp: its natural size at least the shown size times the device pixel ratio (drawn for 2)
    natural, shown, ratio = dash.locator(".hpw-curves img").evaluate(
        "img => [img.naturalWidth, img.getBoundingClientRect().width, window.devicePixelRatio]")
    assert natural >= shown * max(ratio, 2) and shown == 368, (natural, shown, ratio)
    nb.screenshot("6-curves", dash)


# A script printing as Keras's fit(verbose=1) does: `Epoch N/M`, then a bar redrawn with \b and \r
# whose last redraw of the epoch carries val_loss. Six epochs of 0.6 s each; lr sets how good it is.
KERAS_LIKE = (
    'open("keras_like.py", "w").write("import sys, time\\nlr = 0.1\\nfor epoch in range(1, 7):\\n'
    '    print(f\\"Epoch {epoch}/6\\", flush=True)\\n    for batch in range(1, 5):\\n'
    '        bar = f\\"{batch}/4 \\u2501\\u2501\\u2501 0s 2ms/step - loss: {lr * 5 / (epoch + batch / 4):.4f}\\"\\n'
    '        if batch == 4:\\n            bar += f\\" - val_loss: {lr * 6 / epoch:.4f}\\"\\n'
    '        sys.stdout.write(\\"\\\\r\\" + bar + (\\"\\\\n\\" if batch == 4 else \\"\\\\b\\" * len(bar)))\\n'
    '        sys.stdout.flush()\\n        time.sleep(0.15)\\n")'
)


def test_a_keras_format_search_moves_its_curves_prunes_and_ranks_by_the_objective(open_notebook, lab):
    nb = open_notebook("keras.ipynb", [
        f"{LOAD}\n{KERAS_LIKE}",
        "%hprun keras_like.py lr=[0.2,0.9,0.1,0.8] --prune asha -Fp reduction=2 --minimize val_loss",
        SETTLE,
    ])
    nb.run_cell(0)
    nb.run_cell(1)
    dash = view(nb, 1)
    nb.wait_until(lambda: progress(nb, dash).startswith("Completed: 4 of 4 done"), "the batch to end", 90)
    settle(nb, 2, dash, "completed")
    frames = nb.frames("curves")
    during = [f for f in frames if done_count(f["progress"]) == 0]  # while the first trial ran
    summary = [(f["progress"][:60], f["hash"]) for f in frames]
    print(f"{len(frames)} curves frames, {len(during)} during the first trial:", summary)
    assert len({f["hash"] for f in during}) >= 3, summary  # the curve grew epoch by epoch
    assert any("1 running (#1 step " in f["progress"] for f in during), summary
    line = progress(nb, dash)
    assert line.startswith("Completed: 4 of 4 done · 0 running · 0 failed · 2 pruned · best val_loss 0.1 "), line
    header, rows = table_rows(dash)
    assert [row[header.index("lr")] for row in rows][:2] == ["0.1", "0.2"]  # best first by val_loss
    assert [row[header.index("status")][:6] for row in rows] == ["comple", "comple", "pruned", "pruned"]
    assert [row[header.index("step")] for row in rows][:2] == ["6", "6"]
    store = Store(lab.home)
    ours = [r for r in store.runs() if r.status is Status.COMPLETED and "val_loss" in r.scalars]  # the lab is shared
    best = min(ours, key=lambda r: r.scalars["val_loss"])
    output = store.output(best.id)
    assert output.count("\n") == 12 and "\x08" not in output and "\r" not in output  # one line per epoch
    nb.screenshot("7-keras", dash)
