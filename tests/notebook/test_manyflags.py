"""The dashboard's view by number of flags; the many-flag live view draws each trial's line once."""

from __future__ import annotations

import numpy as np
import pytest

from hpwidgets.core.errors import OptionError
from hpwidgets.core.results.read_model import BatchState
from hpwidgets.core.run.batch import prepare
from hpwidgets.core.run.events import TrialFinished
from hpwidgets.core.search.plan import RunOptions, build_plan
from hpwidgets.core.store.runstore import Store
from hpwidgets.notebook.dashboard import Dashboard
from hpwidgets.pictures.manyflags import ManyFlagsPlot, live_plot
from hpwidgets.pictures.plot import LivePlot
from tests.support.records import record as run_record
from tests.test_explain import FLAGS, separable

KNOWN = {"a": (0.0, float), "lr": (0.01, float), "opt": ("adam", str), "c": (0.0, float)}


def plan(names):
    return build_plan("t.py", KNOWN, {n: FLAGS[n] for n in names}, RunOptions(max_trials=50, random_seed=1))


def test_the_view_follows_the_number_of_flags():
    assert type(live_plot(plan(["a"]))) is LivePlot  # one flag: as it always was
    assert type(live_plot(plan(["a", "lr", "opt"]))) is LivePlot  # a readable panel per flag
    assert type(live_plot(plan(["a", "lr", "opt", "c"]))) is ManyFlagsPlot
    with pytest.raises(OptionError) as info:
        live_plot(plan(["a", "lr", "opt", "c"]), truth=lambda x: x)
    assert info.value.option == "truth"


def record(i, loss, a=0.0, lr=0.01, opt="adam", c=0.0):
    return run_record(i, loss, flags={"a": a, "lr": lr, "opt": opt, "c": c}, operation="t.py")


def test_each_trial_line_is_drawn_once_until_the_colours_change():
    state = BatchState(plan(["a", "lr", "opt", "c"]))
    view = ManyFlagsPlot(state.plan)
    for i, loss in enumerate([1.0, 2.0, 3.0]):
        state.apply(TrialFinished(record(i, loss)))
    assert view.render(state.snapshot()).startswith(b"\x89PNG")
    assert len(view.lines.get_segments()) == 3 and view.points == 3
    state.apply(TrialFinished(record(3, 2.5, a=1.0, lr=1e-4, opt="sgd")))
    view.render(state.snapshot())
    (line,) = view.lines.get_segments()  # only the new trial is drawn over the cached lines
    lo, hi = view._limits
    assert np.allclose(line[:, 1], [1.0, 0.5, 0.0, 1.0, (2.5 - lo) / (hi - lo)])  # a, c, lr (log), opt, loss
    assert np.allclose(view.top.get_ydata()[:4], [0.5, 0.5, 2 / 3, 0.0])  # the best: trial 0
    state.apply(TrialFinished(record(4, 40.0)))  # beyond the limits: every line is drawn again
    view.render(state.snapshot())
    assert len(view.lines.get_segments()) == 5
    assert view.title.get_text() == "5 completed of 50 trials; best loss 1"


def test_a_dashboard_of_four_flags_draws_parallel_coordinates(home, sync_refresh):
    batch = prepare(separable, FLAGS, RunOptions(max_trials=6, random_seed=2), Store(str(home)))
    dash = Dashboard(batch)
    assert isinstance(dash.plot, ManyFlagsPlot)
    batch.start()
    assert dash.wait_drawn(5)
    assert dash.plot.points == 6 and dash.png.startswith(b"\x89PNG")
