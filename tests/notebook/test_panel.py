"""hp.panel: a form from the script's flags that runs the engine with its dashboard."""

from __future__ import annotations

from ipywidgets import Dropdown

import hpwidgets as hp
from hpwidgets.core.store.runstore import Store
from hpwidgets.notebook.dashboard import Dashboard
from hpwidgets.notebook.panel import Panel
from tests.support.waiting import wait_for


def test_form_has_a_box_per_flag_prefilled_with_its_default(workdir):
    panel = hp.panel("train.py")
    assert isinstance(panel, Panel)
    assert {name: box.value for name, box in panel.fields.items()} == {"noise": "0.1", "x": "0.1"}
    assert [value for _label, value in panel.optimizer.options] == ["", "grid", "random", "gp", "forest", "gbrt"]
    assert panel.max_trials.value == "" and panel.seed.value == ""
    assert panel.widget._dom_classes == ("hpw-panel",)
    assert panel._repr_mimebundle_()["text/plain"] == "hpwidgets panel for train.py (flags: x, noise)"  # script order
    assert panel.flags() == {}


def _stop_buttons(widget):
    found = [widget] if "hpw-stop" in getattr(widget, "_dom_classes", ()) else []
    for child in getattr(widget, "children", ()):
        found += _stop_buttons(child)
    return found


def test_run_starts_the_batch_in_the_background_with_its_dashboard(workdir, home):
    panel = hp.panel("train.py", store=Store(str(home)))
    panel.fields["x"].value = "[-2,0,2]"
    panel.fields["noise"].value = ""  # an empty box keeps the default
    panel.seed.value = "3"
    panel.run_button.click()
    assert panel.error.value == ""
    assert panel.run_button.disabled and not panel.stop_button.disabled
    (dashboard_widget,) = panel.output.children
    assert isinstance(panel.dashboard, Dashboard) and dashboard_widget is panel.dashboard.widget
    assert _stop_buttons(panel.widget) == [panel.dashboard.stop_button]  # one Stop, not two
    panel.batch.wait(30)
    assert panel.batch.finished.counts == {"completed": 3, "failed": 0, "terminated": 0, "pruned": 0}
    assert [r.flags for r in panel.batch.runs] == [{"noise": 0.1, "x": x} for x in (-2.0, 0.0, 2.0)]
    assert panel.batch.plan.seed == 3
    wait_for(lambda: not panel.run_button.disabled, "the Run button enabled again")
    assert panel.stop_button.disabled


def test_errors_show_in_the_panel_as_one_line(workdir, home):
    panel = hp.panel("train.py", store=Store(str(home)))
    panel.fields["x"].value = "[-2:"
    panel.run_button.click()
    assert panel.error.value == (
        '<span style="color:#b00020">Invalid value for flag &#x27;x&#x27;: &#x27;[-2:&#x27;: missing closing '
        "&#x27;]&#x27; (accepted: a value, a list [a,b,...], a range [low:high] or [low:high:first], "
        "uniform[low:high], loguniform[low:high], range[start:end:step], linspace[start:end:count] or "
        "logspace[start:end:count:base])</span>")
    assert panel.output.children == () and panel.batch is None
    panel.fields["x"].value = "[-2.0:2.0]"
    panel.max_trials.value = "many"
    panel.run_button.click()
    assert panel.error.value == ('<span style="color:#b00020">Invalid value for max trials: &#x27;many&#x27; '
                                 "(accepted: a whole number, or empty for the default)</span>")
    assert Store(str(home)).runs() == []


def test_stop_ends_a_long_batch(workdir, home):
    store = Store(str(home))
    panel = hp.panel("sleepy.py", store=store)
    panel.fields["x"].value = "[0,2,3]"
    panel.run_button.click()
    wait_for(lambda: any(r.flags["x"] == 2 and r.status.value == "running" for r in panel.dashboard.batch.snapshot().runs),
             "trial x=2 running")
    panel.stop_button.click()
    panel.batch.wait(20)
    assert {r.flags["x"]: r.status.value for r in store.runs()} == {0: "completed", 2: "terminated"}
    wait_for(lambda: not panel.run_button.disabled, "the Run button enabled again")


def test_a_flag_with_choices_is_a_dropdown_with_a_grid_of_all(workdir, home):
    (workdir / "choose.py").write_text(
        "import argparse\np = argparse.ArgumentParser()\n"
        "p.add_argument('--opt', choices=['adam', 'sgd'], default='sgd')\n"
        "p.add_argument('--lr', type=float, default=0.1)\nargs = p.parse_args()\n"
        "print('loss:', args.lr if args.opt == 'sgd' else 2 * args.lr)\n")
    panel = hp.panel("choose.py", store=Store(str(home)))
    opt = panel.fields["opt"]
    assert isinstance(opt, Dropdown)
    assert opt.options == (("adam", "adam"), ("sgd", "sgd"), ("all: [adam,sgd]", "[adam,sgd]"))
    assert opt.value == "sgd" and panel.flags() == {}
    opt.value = "[adam,sgd]"
    assert panel.flags() == {"opt": "[adam,sgd]"}
    panel.run_button.click()
    panel.batch.wait(30)
    assert sorted((r.flags["opt"], r.scalars["loss"]) for r in panel.batch.runs) == [("adam", 0.2), ("sgd", 0.1)]
