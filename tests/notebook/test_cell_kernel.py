"""%%hprun and %hpplot in a real kernel: notebook names reach the trials as copies; pictures are PNGs."""

from __future__ import annotations

import base64

from tests.notebook.test_kernel import WIDGET, kernel  # noqa: F401 - the fixture

CELL = """%%hprun x=[0.0,1.0] lr=[0.1,0.01] --workers 2 --wait
x = 0.5
lr = 0.1
loss = x + offset + sum(data) + np.log10(lr)
data.append(5)
print(f"loss: {loss}")
"""


def test_a_cell_trial_in_a_kernel_uses_notebook_names_and_leaves_them(kernel):  # noqa: F811
    kernel.execute("%load_ext hpwidgets")
    kernel.execute("import numpy as np\ndata = [1, 2]\noffset = 10.0")
    cell = kernel.execute(CELL, timeout=120)
    assert [m["content"].get("ename") for m in cell if m["msg_type"] == "error"] == []
    record = [m for m in cell if m["msg_type"] in ("display_data", "update_display_data")
              and "Completed: 4 of 4 done" in m["content"]["data"].get("text/html", "")]
    assert record and WIDGET not in record[-1]["content"]["data"]
    shown = kernel.execute("print(data, offset)")
    assert [m["content"]["text"] for m in shown if m["msg_type"] == "stream"] == ["[1, 2] 10.0\n"]
    losses = kernel.execute("import hpwidgets as hp\nprint(sorted(hp.compare()['loss'].tolist()))")
    assert [m["content"]["text"] for m in losses if m["msg_type"] == "stream"] == ["[11.0, 12.0, 12.0, 13.0]\n"]
    plot = kernel.execute("%hpplot --kind parallel")
    (result,) = [m for m in plot if m["msg_type"] == "execute_result"]
    assert base64.b64decode(result["content"]["data"]["image/png"]).startswith(b"\x89PNG")
