"""The live plot without widgets: panels per searched flag, truth, band, best point, PNG output."""

from __future__ import annotations

import numpy as np
import pytest

from hpwidgets.core.errors import OptionError
from hpwidgets.core.records import Status
from hpwidgets.core.results.read_model import BatchState
from hpwidgets.core.run.events import ModelUpdated, TrialFinished
from hpwidgets.core.search.plan import RunOptions, build_plan
from hpwidgets.pictures.axes import truth_curve
from hpwidgets.pictures.plot import LivePlot as _LivePlot
from tests.support.records import record

FLAGS = {"x": (0.1, float), "n": (1, int), "opt": ("adam", str)}


def plan(flags, **options):
    return build_plan("train.py", FLAGS, flags, RunOptions(random_seed=1, **options))


class LivePlot:
    """The plot fed the way the dashboard feeds it: events into a read model, snapshots out."""

    def __init__(self, plan, **kwargs):
        self.plot, self.state = _LivePlot(plan, **kwargs), BatchState(plan)

    def add(self, record):
        self.state.apply(TrialFinished(record))

    def set_model(self, xs, mean, std):
        self.state.apply(ModelUpdated("x", tuple(xs), tuple(mean), tuple(std)))

    def render(self):
        return self.plot.render(self.state.snapshot())

    def __getattr__(self, name):
        return getattr(self.plot, name)


def test_one_flag_one_panel_with_truth_and_best():
    p = LivePlot(plan({"x": "[-2.0:2.0]"}), truth=np.sin)
    assert len(p.figure.axes) == 1
    ax = p.figure.axes[0]
    assert ax.get_xlabel() == "x"
    assert ax.get_xlim() == pytest.approx((-2.12, 2.12))
    assert p._truth_line.get_xdata()[0] == -2.0 and len(p._truth_line.get_xdata()) == 400
    for i, (x, loss) in enumerate([(0.5, 0.3), (-1.0, -0.4), (1.5, 0.1)]):
        p.add(record(i, loss, flags={"x": x}))
    assert p.render().startswith(b"\x89PNG")
    points, best = p._flag_panels[0][1:]
    assert list(points.get_xdata()) == [0.5, -1.0, 1.5]
    assert list(best.get_xdata()) == [-1.0] and list(best.get_ydata()) == [-0.4]
    assert p._title.get_text() == "3 completed of 20 trials; best loss -0.4"


def test_maximize_marks_the_highest():
    p = LivePlot(plan({"x": "[-2.0:2.0]"}, maximize="loss"))
    for i, loss in enumerate([0.3, 0.9, 0.1]):
        p.add(record(i, loss, flags={"x": float(i)}))
    p.render()
    assert list(p._flag_panels[0][2].get_ydata()) == [0.9]


def test_failed_and_valueless_trials_add_no_point():
    p = LivePlot(plan({"x": "[-2.0:2.0]"}))
    p.add(record(0, None, Status.FAILED, flags={"x": 0.0}))
    p.add(record(1, float("nan"), flags={"x": 0.0}))
    p.add(record(2, 0.5, Status.TERMINATED, flags={"x": 0.0}))
    p.render()
    assert p.points == 0 and list(p._flag_panels[0][1].get_xdata()) == []


def test_several_flags_get_a_panel_each_and_a_convergence_panel():
    p = LivePlot(plan({"x": "[-2.0:2.0]", "n": "[1:5]", "opt": "[adam,sgd]"}))
    visible = [ax for ax in p.figure.axes if ax.get_visible()]
    assert [ax.get_xlabel() for ax in visible] == ["n", "opt", "x", "trial"]
    assert [t.get_text() for t in visible[1].get_xticklabels()] == ["adam", "sgd"]
    for i, loss in enumerate([0.5, 0.2, 0.7, 0.1]):
        p.add(record(i, loss, flags={"x": 0.1 * i, "n": i + 1, "opt": "sgd" if i % 2 else "adam"}))
    p.render()
    assert list(p._flag_panels[1][1].get_xdata()) == [0.0, 1.0, 0.0, 1.0]  # categories by index
    _ax, dots, line = p._conv
    assert list(dots.get_xdata()) == [1.0, 2.0, 3.0, 4.0]
    assert list(line.get_ydata()) == [0.5, 0.2, 0.2, 0.1]  # best so far


def test_convergence_follows_trial_order_when_trials_finish_out_of_order():
    p = LivePlot(plan({"x": "[-2.0:2.0]", "n": "[1:5]"}))
    for i, loss in [(1, 0.2), (0, 0.5), (2, 0.3)]:
        p.add(record(i, loss, flags={"x": 0.0, "n": 1}))
    p.render()
    assert list(p._conv[2].get_ydata()) == [0.5, 0.2, 0.2]


def test_log_flag_gets_a_log_axis():
    build = build_plan("train.py", {"lr": (0.01, float)}, {"lr": "loguniform[1e-4:1e-1]"}, RunOptions(random_seed=1))
    p = LivePlot(build)
    assert p.figure.axes[0].get_xscale() == "log"


def test_gp_band_follows_the_model():
    p = LivePlot(plan({"x": "[-2.0:2.0]"}, optimizer="gp"))
    xs = np.linspace(-2, 2, 5)
    p.set_model(xs, xs * 0, np.ones(5))
    first = p.render()
    band = p._band
    assert band is not None
    assert list(p._mean.get_ydata()) == [0.0] * 5
    p.set_model(xs, xs, np.ones(5) * 0.5)
    second = p.render()
    assert p._band is not band and first != second
    assert list(p._mean.get_ydata()) == list(xs)


def test_y_limits_only_widen_so_the_background_is_reused():
    p = LivePlot(plan({"x": "[-2.0:2.0]"}))
    p.add(record(0, 0.0, flags={"x": 0.0}))
    p.add(record(1, 1.0, flags={"x": 1.0}))
    p.render()
    limits = p.figure.axes[0].get_ylim()
    background = p._background
    p.add(record(2, 0.5, flags={"x": 0.5}))
    p.render()
    assert p.figure.axes[0].get_ylim() == limits and p._background is background
    p.add(record(3, 5.0, flags={"x": 0.5}))
    p.render()
    assert p.figure.axes[0].get_ylim()[1] > 5.0 and p._background is not background


def test_truth_curve_vectorized_or_pointwise():
    xs = np.array([0.0, 1.0])
    assert truth_curve(lambda x: x * 2, xs).tolist() == [0.0, 2.0]
    assert truth_curve(lambda x: float(x) + 1, xs).tolist() == [1.0, 2.0]  # float() refuses arrays

    def broken(x):
        raise ValueError("nope")

    with pytest.raises(OptionError) as info:
        truth_curve(broken, xs)
    assert str(info.value) == ("Invalid value for truth: 'broken' (accepted: a function of one number "
                               "returning a number (it raised ValueError: nope))")


def test_no_searched_flag_shows_the_convergence_panel_only():
    p = LivePlot(plan({}))
    assert [ax.get_xlabel() for ax in p.figure.axes] == ["trial"]
    p.add(record(0, 0.5, flags={"x": 0.1}))
    assert p.render().startswith(b"\x89PNG")
    assert list(p._conv[2].get_ydata()) == [0.5]


def test_priors_are_drawn_apart_from_the_batch_and_counted():
    build = plan({"x": "[-2.0:2.0]"}, optimizer="gp")
    priors = [record(90 + i, loss, flags={"x": x}) for i, (x, loss) in enumerate([(1.0, 0.2), (-1.0, 0.9)])]
    p = LivePlot(build, priors=priors)
    p.add(record(0, 0.5, flags={"x": 0.0}))
    p.render()
    earlier = [line for line in p.figure.axes[0].get_lines() if line.get_label() == "earlier runs (2)"]
    assert len(earlier) == 1
    assert list(earlier[0].get_xdata()) == [1.0, -1.0] and list(earlier[0].get_ydata()) == [0.2, 0.9]
    assert earlier[0].get_markerfacecolor() == "none"  # hollow: not one of this batch's trials
    assert "earlier runs (2)" in p.legend
    assert list(p._flag_panels[0][2].get_xdata()) == [0.0]  # the best is this batch's own
    assert p._title.get_text() == "1 completed of 20 trials; best loss 0.5; 2 earlier runs as priors"


def test_curve_points_number_unstepped_values_by_their_order():
    from hpwidgets.pictures.curves import points

    assert points([]).shape == (0, 2)
    assert points([(None, 1.0), (None, 0.5)]).tolist() == [[1.0, 1.0], [2.0, 0.5]]
    assert points(((5, 0.3), (10, 0.2))).tolist() == [[5.0, 0.3], [10.0, 0.2]]
