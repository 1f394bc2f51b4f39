"""Real kernels: the example notebook end to end (nbclient), and live updates after a cell returns."""

from __future__ import annotations

import base64
import re
import shutil
import time
from pathlib import Path

import pytest

from hpwidgets.notebook import tutorial

EXAMPLES = Path(tutorial.__file__).resolve().parents[2] / "examples"

WIDGET = "application/vnd.jupyter.widget-view+json"


def outputs_of(nb, source_start):
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(source_start)]
    return cell.outputs


def test_example_notebook_end_to_end(tmp_path, home):
    folder = tmp_path / "examples"
    folder.mkdir()
    for name in ("optimize.ipynb", "train.py", "train_sgd.py"):
        shutil.copy(EXAMPLES / name, folder / name)
    out = tmp_path / "out"
    nb, written = tutorial.run(folder / "optimize.ipynb", out, timeout=120)
    assert [p.name for p in written] == ["optimize.html", "optimize.png", "results.csv"]

    grid = outputs_of(nb, "%hprun train.py x=[-2,0,2]")
    assert [o.output_type for o in grid] == ["display_data", "display_data"]  # no <Batch ...> line
    assert sorted(grid[0].data) == ["image/png", "text/html", "text/plain"]  # the record: no widget to lose
    assert "Completed: 3 of 3 done · 0 running · 0 failed" in grid[0].data["text/html"]
    assert grid[1].data == {"text/plain": ""}  # the live view, cleared when the batch ended

    gp = outputs_of(nb, "%hprun train.py x=[-2.0:2.0] --optimizer gp")[0].data
    assert gp["text/plain"].startswith("You are about to run train.py with gp optimizer (10 trials, minimize loss)"
                                       "\nCompleted: 10 of 10 done · 0 running · 0 failed · best loss ")
    assert (out / "optimize.png").read_bytes() == base64.b64decode(gp["image/png"])  # the tagged cell's plot

    table = outputs_of(nb, "%hpcompare --top 5")[0]
    lines = table.text.splitlines()
    assert lines[0].split() == ["run", "operation", "started", "time", "status", "label", "noise", "x", "step", "loss"]
    assert len(lines) == 6
    losses = [float(line.split()[-1]) for line in lines[1:]]
    assert losses == sorted(losses)

    assert outputs_of(nb, "%hpcompare --csv")[0].text == "wrote 13 runs to results.csv\n"
    csv_lines = (out / "results.csv").read_text().splitlines()
    assert csv_lines[0] == "run,operation,started,time,status,label,noise,x,step,loss"
    assert len(csv_lines) == 14
    assert not (folder / "results.csv").exists()  # moved next to the HTML

    panel = outputs_of(nb, 'hp.panel("train.py")')[0].data
    assert panel["text/plain"] == "hpwidgets panel for train.py (flags: x, noise)"

    sgd = outputs_of(nb, "%hprun train_sgd.py")[0].data
    assert sgd["text/plain"].startswith("You are about to run train_sgd.py with random search (8 trials)\n"
                                        "Completed: 8 of 8 done · 0 running · 0 failed · ")
    assert " pruned · best loss " in sgd["text/plain"]  # seeded: some trials are pruned
    assert 'class="hpw-curves"' in sgd["text/html"]

    html = (out / "optimize.html").read_text()
    assert len(re.findall(r'<img [^>]*class="hpw-plot[ "]', html)) == 3  # nbconvert reorders attributes
    assert "Completed: 10 of 10 done" in html and "hpw-rows" in html


class Kernel:
    """A real ipykernel over jupyter_client; keeps every iopub message, whatever its parent."""

    def __init__(self, cwd):
        from jupyter_client.manager import start_new_kernel

        self.manager, self.client = start_new_kernel(kernel_name="python3", cwd=str(cwd))
        self.messages: list[dict] = []

    def execute(self, code: str, timeout: float = 60) -> list[dict]:
        msg_id = self.client.execute(code)
        mine = []
        while True:
            msg = self.client.get_iopub_msg(timeout=timeout)
            self.messages.append(msg)
            if msg["parent_header"].get("msg_id") == msg_id:
                mine.append(msg)
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    return mine

    def wait_for(self, predicate, what: str, timeout: float = 60) -> dict:
        for msg in self.messages:
            if predicate(msg):
                return msg
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.client.get_iopub_msg(timeout=deadline - time.monotonic())
            self.messages.append(msg)
            if predicate(msg):
                return msg
        raise AssertionError(f"{what} never happened within {timeout:g} s")

    def close(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel(workdir):
    k = Kernel(workdir)
    yield k
    k.close()


def _progress(msg, text):
    state = msg["content"].get("data", {}).get("state", {}) if msg["msg_type"] == "comm_msg" else {}
    return text in str(state.get("value", ""))


def test_background_batch_updates_the_dashboard_after_the_cell_returns(kernel, workdir):
    kernel.execute("%load_ext hpwidgets")
    cell = kernel.execute("b = %hprun gated.py x=[0,1,2]")  # returns while its trials wait for the gate
    assert [m["msg_type"] for m in cell if m["msg_type"] == "error"] == []
    record, live = [m for m in cell if m["msg_type"] == "display_data"]
    assert WIDGET not in record["content"]["data"] and "hpw-record" in record["content"]["data"]["text/html"]
    assert sorted(live["content"]["data"]) == [WIDGET, "text/plain"]
    printed = "".join(m["content"]["text"] for m in kernel.execute("print(b.done)") if m["msg_type"] == "stream")
    assert printed == "False\n"  # the kernel is idle, the batch runs
    (workdir / "go").touch()
    kernel.wait_for(lambda m: _progress(m, "Completed: 3 of 3 done"), "a progress message saying all 3 done")
    record_id, live_id = (m["content"]["transient"]["display_id"] for m in (record, live))

    def update_of(display_id, text):
        return lambda m: (m["msg_type"] == "update_display_data"
                          and m["content"]["transient"]["display_id"] == display_id
                          and text in str(m["content"]["data"]))

    final = kernel.wait_for(update_of(record_id, "Completed: 3 of 3 done"),
                            "the record updated to all 3 done")
    assert base64.b64decode(final["content"]["data"]["image/png"]).startswith(b"\x89PNG")
    cleared = kernel.wait_for(update_of(live_id, ""), "the live view cleared")
    assert cleared["content"]["data"] == {"text/plain": ""}  # the widget view is gone: the record shows
    done = kernel.execute("print(b.finished.counts)")
    assert [m["content"]["text"] for m in done if m["msg_type"] == "stream"] == [
        "{'completed': 3, 'failed': 0, 'terminated': 0, 'pruned': 0}\n"]
