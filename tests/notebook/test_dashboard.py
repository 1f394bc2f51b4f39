"""The dashboard through its synced widget state: progress, Stop, table rows, CSV, plot, fallback."""

from __future__ import annotations

import base64
import io
import time

import PIL.Image
import pytest

from hpwidgets.core.errors import OptionError
from hpwidgets.core.results import compare
from hpwidgets.core.run.batch import prepare
from hpwidgets.core.search.plan import RunOptions
from hpwidgets.core.store.runstore import Store
from hpwidgets.notebook.dashboard import Dashboard

PAYLOAD = "<img src=x onerror=alert(1)>"
PNG = b"\x89PNG\r\n\x1a\n"


def square(x=0.0, name="a"):
    return {"loss": (x - 1) ** 2, "acc": 1.0 - abs(x - 1) / 10}


def grid_batch(home, xs="[3,1,2,0]", **flags):
    return prepare(square, {"x": xs, **flags}, RunOptions(), Store(str(home)))


def test_root_classes(home):
    dash = Dashboard(grid_batch(home))
    assert dash.widget._dom_classes == ("hpw-dashboard", f"hpw-live-{dash.batch.id[:12]}")
    assert dash.progress._dom_classes == ("hpw-progress",)
    assert dash.stop_button._dom_classes == ("hpw-stop",)
    assert dash.image._dom_classes == ("hpw-plot",)
    assert dash.table._dom_classes == ("hpw-table",)
    assert dash.header.value == ('<pre class="hpw-plan" style="margin:0">You are about to run square as a batch '
                                 '(4 trials)\n  name: a\n  x: [3.0, 1.0, 2.0, 0.0]</pre>')


def test_table_rows_after_a_batch_are_the_top_n_by_the_objective(home):
    batch = grid_batch(home)
    dash = Dashboard(batch, top=3)
    batch.start()
    assert dash.wait_drawn(5)  # the refresh thread draws the last frame
    ids = {r.flags["x"]: r.short_id for r in batch.runs}
    assert dash.table.columns == ["run", "status", "loss", "name", "x", "acc", "time"]
    assert [row[:6] for row in dash.table.rows] == [
        [ids[1], "completed", "0", "a", "1", "1"],
        [ids[2], "completed", "1", "a", "2", "0.9"],
        [ids[0], "completed", "1", "a", "0", "0.9"],
    ]
    assert all(row[6].endswith("s") for row in dash.table.rows)  # 0.0s: a person's time, not 0:00:00
    assert dash.table.caption == "Top 3 of 4 runs by loss (lowest first)"


def test_flag_values_travel_raw_and_every_html_is_escaped(home):
    batch = grid_batch(home, xs="[1]", name=PAYLOAD)
    dash = Dashboard(batch)
    batch.start()
    assert dash.wait_drawn(5)  # the refresh thread draws the last frame
    assert dash.table.rows[0][3] == PAYLOAD  # the front end escapes (js/table.test.mjs)
    escaped = "&lt;img src=x onerror=alert(1)&gt;"
    for html in (dash.table.to_html(), dash.record_bundle()["text/html"], dash.header.value):
        assert escaped in html
        assert PAYLOAD not in html


def test_progress_reaches_3_of_3_from_a_background_batch(workdir, home):
    batch = prepare("sleepy.py", {"x": "[0,1,0]"}, RunOptions(), Store(str(home)))
    dash = Dashboard(batch, interval=0.01)
    seen: list[str] = []
    dash.progress.observe(lambda change: seen.append(change["new"]), "value")
    assert "0 of 3 done · 0 running · 0 failed · 0.00s elapsed" in dash.progress.value
    batch.start(background=True)
    batch.wait(30)
    assert dash.wait_drawn(5)
    final = dash.progress.value
    assert "Completed: 3 of 3 done · 0 running · 0 failed · best loss 0 (x=0) · " in final
    assert "ETA" not in final
    assert any("1 of 3 done" in text for text in seen)  # it moved while the batch ran
    button = dash.stop_button
    assert (button.disabled, button.description, button.button_style) == (True, "Finished", "")


def test_stop_button_keeps_finished_runs_and_terminates_the_running_one(workdir, home):
    store = Store(str(home))
    batch = prepare("sleepy.py", {"x": "[0,1,2,3,4]"}, RunOptions(), store)
    dash = Dashboard(batch, interval=0.01)
    batch.start(background=True)
    deadline = time.monotonic() + 30
    while not any(r.flags["x"] == 2 and r.status.value == "running" for r in dash.batch.snapshot().runs):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    started = time.monotonic()
    dash.stop_button.click()
    batch.wait(20)
    assert time.monotonic() - started < 10  # the 30 s trial was killed
    assert dash.wait_drawn(5)
    assert dash.stop_button.disabled and dash.stop_button.description == "Stopped"
    assert {r.flags["x"]: r.status.value for r in batch.runs} == {0: "completed", 1: "completed", 2: "terminated"}
    assert {r.flags["x"]: r.status.value for r in store.runs()} == {0: "completed", 1: "completed", 2: "terminated"}
    assert batch.finished.status == "stopped"
    assert dash.progress.value.startswith('<span style="font-family:monospace">Stopped: 2 of 5 done · 0 running · '
                                          '0 failed · 1 terminated · best loss 0 (x=0)')


def test_csv_action_sends_the_batch_csv(home):
    batch = grid_batch(home, xs="[1,2]", name="=HYPERLINK(1)")
    dash = Dashboard(batch, top=1)
    batch.start()
    assert dash.wait_drawn(5)  # the refresh thread draws the last frame
    sent = []
    dash.table.send = sent.append
    dash.table._handle_custom_msg({"type": "csv"}, [])
    assert len(sent) == 1
    message = sent[0]
    assert message["type"] == "csv"
    assert message["name"] == f"hpw-{batch.id[:8]}.csv"
    lines = message["text"].splitlines()
    assert lines[0] == "run,operation,started,time,status,label,name,x,step,acc,loss"
    assert len(lines) == 3  # every run of the batch, not only the top 1 shown
    cells = lines[1].split(",")
    assert cells[6] == "'=HYPERLINK(1)"  # a spreadsheet would run it: quoted
    assert cells[9:] == ["1.0", "0.0"]


def test_unknown_messages_are_ignored(home):
    dash = Dashboard(grid_batch(home))
    sent = []
    dash.table.send = sent.append
    dash.table._handle_custom_msg({"type": "other"}, [])
    dash.table._handle_custom_msg("csv", [])
    assert sent == []


def test_plot_image_changes_with_each_finished_trial(home, sync_refresh):
    batch = grid_batch(home)
    dash = Dashboard(batch)
    images = [bytes(dash.image.value)]
    dash.image.observe(lambda change: images.append(bytes(change["new"])), "value")
    batch.start()
    assert dash.wait_drawn(5)  # the refresh thread draws the last frame
    assert len(images) == 5  # the empty plot, then one frame per trial
    assert len(set(images)) == 5
    assert all(png.startswith(PNG) for png in images)
    assert dash.png == images[-1]


def test_gp_plot_draws_the_surrogate_band_after_each_trial(home, sync_refresh):
    batch = prepare(square, {"x": "[-2.0:2.0]"}, RunOptions(optimizer="gp", max_trials=6, random_seed=1,
                                                          opt_flags={"random-starts": "2"}),
                    Store(str(home)), want_model=True)
    dash = Dashboard(batch, truth=lambda x: (x - 1) ** 2)
    models = []
    batch.events.subscribe(lambda e: models.append(e) if type(e).__name__ == "ModelUpdated" else None)
    images = [bytes(dash.image.value)]
    dash.image.observe(lambda change: images.append(bytes(change["new"])), "value")
    batch.start()
    assert dash.wait_drawn(5)  # the refresh thread draws the last frame
    assert len(models) == 5  # a surrogate after each trial from the second (2 random starts) on
    assert dash.plot._band is not None
    assert len(models[-1].xs) == 200
    assert len(set(images)) == len(images) == 1 + 6 + len(models)


def test_truth_needs_one_numeric_searched_flag(home):
    with pytest.raises(OptionError) as info:
        Dashboard(grid_batch(home, name="[a,b]"), truth=lambda x: x)
    assert str(info.value) == ("Invalid value for truth: '<lambda>' (accepted: a batch that searches one "
                               "numeric flag (this one searches: name, x))")


def test_the_record_replaces_the_live_view_when_the_batch_ends(home):
    batch = grid_batch(home, xs="[1,2]")
    dash = Dashboard(batch)
    updates = {"record": [], "live": []}

    class Handle:
        def __init__(self, part):
            self.part = part

        def update(self, obj):
            updates[self.part].append(obj._repr_mimebundle_())

    dash.record_handle, dash.live_handle = Handle("record"), Handle("live")
    batch.start()
    assert dash.wait_drawn(5)  # the refresh thread draws the last frame
    assert updates["live"] == [{"text/plain": ""}]  # no widget view left to fail in a reopened notebook
    bundle = updates["record"][-1]
    assert sorted(bundle) == ["image/png", "text/html", "text/plain"]
    assert base64.b64decode(bundle["image/png"]) == dash.png
    assert bundle["text/plain"].startswith("You are about to run square as a batch (2 trials)\nCompleted: 2 of 2 done")
    html = bundle["text/html"]
    assert f'src="data:image/png;base64,{bundle["image/png"]}"' in html
    assert "<td>completed</td>" in html and "Completed: 2 of 2 done" in html
    assert "Recorded at" not in html  # a finished batch's record does not say it may have been cut off
    key = batch.id[:12]
    assert f'class="hpw-record hpw-record-{key}"' in html
    assert f".hpw-live-{key}:not(.jupyter-widgets-disconnected)" in html
    link = html.split('class="hpw-csv-link" download="')[1]
    name, href = link.split('" href="data:text/csv;charset=utf-8;base64,')
    assert name == f"hpw-{batch.id[:8]}.csv"
    csv_text = base64.b64decode(href.split('"')[0]).decode()
    assert csv_text == compare.to_csv(batch.runs)


def test_a_record_written_while_running_says_so(home):
    batch = grid_batch(home, xs="[1,2]")
    dash = Dashboard(batch)
    html = dash.record_bundle()["text/html"]
    assert "0 of 2 done" in html
    assert f"If its kernel is gone, the batch ended here: %hprun --resume {batch.id[:8]} finishes it." in html


def test_the_record_of_a_batch_whose_trials_are_all_done_offers_no_resume(finished):
    from hpwidgets.core.run.batch import resume

    store, batch_id, _ = finished  # one completed trial, one pruned
    html = Dashboard(resume(batch_id, store)).record_bundle()["text/html"]  # not started: nothing left to run
    assert "2 of 2 done · 0 running · 0 failed · 1 pruned · best loss 1 (x=1)" in html
    assert "Recorded at" not in html


def test_top_must_be_positive(home):
    with pytest.raises(OptionError) as info:
        Dashboard(grid_batch(home), top=0)
    assert str(info.value) == "Invalid value for top: 0 (accepted: a positive integer)"


def test_hp_run_show_displays_the_dashboard(home, shown):
    import hpwidgets as hp

    batch = hp.run(square, {"x": "[2,1,3]"}, show=True, top=2, store=str(home))
    dash = shown[0].dashboard
    assert [o.part for o in shown] == ["record", "live"]
    assert isinstance(dash, Dashboard) and dash.batch is batch
    assert batch.done
    assert [row[4] for row in dash.table.rows] == ["1", "2"]
    assert "Completed: 3 of 3 done" in dash.progress.value


def test_hp_run_show_in_the_background_with_truth(home, shown):
    import hpwidgets as hp

    batch = hp.run(square, {"x": "[-2.0:2.0]"}, optimizer="random", max_trials=4, random_seed=7, show=True,
                   background=True, truth=lambda x: (x - 1) ** 2, store=str(home))
    batch.wait(30)
    dash = shown[0].dashboard
    assert dash.wait_drawn(5)
    assert dash.plot.points == 4
    assert dash.plot._truth_line is not None


def crashing(x=0.0):
    if x > 1:
        raise ZeroDivisionError("the learning rate ate the gradient")
    return {"acc": x}


def test_a_failed_trial_explains_itself_in_the_status_line_and_the_table(home):
    batch = prepare(crashing, {"x": "[1,2]"}, RunOptions(maximize="acc"), Store(str(home)))
    dash = Dashboard(batch)
    batch.start()
    assert dash.wait_drawn(5)
    reason = "exit code 1: ZeroDivisionError: the learning rate ate the gradient"
    assert f"1 failed (last: {reason})" in dash.progress.value
    failed = [i for i, row in enumerate(dash.table.rows) if row[1] == "failed"]
    assert len(failed) == 1
    details = dash.table.details[failed[0]]
    assert details.startswith(reason + "\nTraceback (most recent call last):")
    assert details.endswith("ZeroDivisionError: the learning rate ate the gradient")
    assert "<details><summary>failed</summary><pre>exit code 1: ZeroDivisionError" in dash.record_bundle()["text/html"]


def no_acc(x=0.0):
    return {"loss": x, "val_loss": 2 * x}


def test_a_batch_whose_objective_never_appears_says_so_in_one_line(home):
    batch = prepare(no_acc, {"x": "[1,2]"}, RunOptions(maximize="acc"), Store(str(home)))
    dash = Dashboard(batch)
    batch.start()
    assert dash.wait_drawn(5)
    line = "No trial printed acc, the column this batch would maximize; the trials printed: loss, val_loss"
    assert batch.snapshot().missing_objective() == line
    assert dash.table.caption == "Runs in trial order: none printed acc."
    assert f'<div class="hpw-note">{line}</div>' in dash.record_bundle()["text/html"]


def climb(x=1.0):
    """A generator objective: each yield is a step."""
    for step in range(1, 4):
        yield x / step


def test_curves_panel_streams_steps_and_marks_pruned_trials(home, sync_refresh):
    batch = prepare(climb, {"x": "[1,4,0.5]"}, RunOptions(prune="median", prune_flags={"min-trials": "1"}),
                    Store(str(home)))
    dash = Dashboard(batch, top=5)
    assert dash.curves_box.layout.display == "none"  # no curve yet
    curves, rows = [], []
    dash.curves_image.observe(lambda change: curves.append(bytes(change["new"])), "value")
    dash.table.observe(lambda change: rows.append(change["new"]), "rows")
    batch.start()
    assert dash.wait_drawn(5)
    ids = {r.flags["x"]: r.short_id for r in batch.runs}
    assert dash.table.columns == ["run", "status", "loss", "x", "step", "time"]
    seen = [row[:5] for frame in rows for row in frame]
    # the running trial's row, live: its latest step and value
    assert [ids[1], "running", "0.5", "1", "2"] in seen
    assert [ids[0.5], "running", "0.166667", "0.5", "3"] in seen
    assert [row[:5] for row in dash.table.rows] == [[ids[0.5], "completed", "0.166667", "0.5", "3"],
                                                    [ids[1], "completed", "0.333333", "1", "3"],
                                                    [ids[4], "pruned", "4", "4", "1"]]
    assert dash.curves_box.layout.display is None
    assert len(curves) >= 4 and len(set(curves)) == len(curves) and curves[-1].startswith(PNG)
    assert dash.curves.lines == {"running": 0, "finished": 2, "pruned": 1}
    assert dash.curves_caption.value == '<span style="font-size:12px">0 running, 2 finished, 1 pruned</span>'
    assert "1 pruned" in dash.progress.value and 'class="hpw-curves"' in dash.record_bundle()["text/html"]
    assert dash.plot.key(batch.snapshot())[2] == 1  # the loss-vs-flag plot draws the pruned cross
    xs, ys = dash.plot._pruned_marks[0].get_data()
    assert (list(xs), list(ys)) == ([4.0], [4.0])  # at its flag, at its last value
    assert batch.events.errors == []  # no view failed quietly
    # drawn at twice the size it is shown at: sharp on a screen of device pixel ratio 2, never upscaled
    natural = PIL.Image.open(io.BytesIO(curves[-1])).size
    assert (dash.curves_image.width, natural) == ("368", (736, 480))
    assert '<img alt="learning curves" width="368" src="data:image/png' in dash.record_bundle()["text/html"]
