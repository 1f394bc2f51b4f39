"""The views of a search with several flags: axes, scales and labels as drawn; hp.plot, %hpplot, hpw plot."""

from __future__ import annotations

import os

import pytest
from IPython.core.error import UsageError

import hpwidgets as hp
from hpwidgets.core.errors import NothingToDraw, OptionError
from hpwidgets.pictures import flagplots
from tests.helpers import hpw
from tests.test_explain import FLAGS, separable


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    return hp.run(separable, flags=FLAGS, max_trials=40, random_seed=3, store=str(tmp_path_factory.mktemp("s")))


def test_partial_axes_log_for_loguniform_categories_for_choices(batch):
    fig = hp.plot(batch, kind="partial").figure
    panels = [ax for ax in fig.axes if ax.get_xlabel().endswith("%)")]  # one per flag, with its importance
    by_flag = {ax.get_xlabel().split(" (")[0]: ax for ax in panels}
    assert list(by_flag) == ["a", "c", "lr", "opt"]
    assert by_flag["lr"].get_xscale() == "log"
    assert by_flag["a"].get_xscale() == by_flag["c"].get_xscale() == "linear"
    assert [t.get_text() for t in by_flag["opt"].get_xticklabels()] == ["adam", "sgd"]
    assert by_flag["a"].get_xlabel() == "a (94%)"
    contour = next(ax for ax in fig.axes if ax.get_ylabel() == "lr")  # the two most important flags
    assert contour.get_xlabel() == "a" and contour.get_yscale() == "log"
    band, *beyond, trials = by_flag["a"].collections  # the ±2σ band, grey beyond the trials, the trials
    assert len(trials.get_offsets()) == 40
    tried, extrapolated = by_flag["a"].lines[:2]  # the mean along a grid of 40 values, dotted beyond the trials
    assert len(tried.get_xdata()) == len(extrapolated.get_xdata()) == 40
    assert extrapolated.get_linestyle() == ":"


def test_parallel_axes_label_decades_and_categories(batch):
    ax = hp.plot(batch, kind="parallel").figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "c", "lr", "opt", "loss"]
    ticks = [(round(t.get_position()[0]), t.get_text()) for t in ax.texts]
    assert [text for x, text in ticks if x == 2] == ["1e-04", "1e-03", "1e-02", "1e-01"]
    assert [text for x, text in ticks if x == 3] == ["adam", "sgd"]
    assert len(ax.collections[0].get_segments()) == 40


def test_importance_and_objective_views(batch):
    ax = hp.plot(batch, kind="importance").figure.axes[0]
    # lr's true part varies more than opt's (variance 0.072 against 0.0625): it ranks second
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "lr", "opt", "c"]
    ax = hp.plot(batch, kind="objective").figure.axes[0]
    points, = ax.collections
    assert len(points.get_offsets()) == 40
    best = ax.lines[0].get_ydata()
    assert best[-1] == min(r.scalars["loss"] for r in batch.runs)
    assert all(best[i + 1] <= best[i] for i in range(len(best) - 1))


def test_an_unknown_kind_names_the_accepted_ones(batch):
    with pytest.raises(OptionError) as info:
        hp.plot(batch, kind="pdp")
    assert str(info.value) == "Invalid value for kind: 'pdp' (accepted: objective, parallel, importance or partial)"


def test_hpw_plot_writes_a_png_of_a_stored_batch(home, tmp_path):
    stored = hp.run(separable, flags=FLAGS, max_trials=6, random_seed=2)
    out = tmp_path / "p.png"
    done = hpw("plot", stored.id[:6], "--kind", "parallel", "-o", str(out), env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote the parallel view to {out}\n"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = hpw("plot", "--kind", "x", "-o", str(out), env=dict(os.environ))
    assert (bad.returncode, bad.stderr) == (
        1, "hpw plot: error: Invalid value for --kind: 'x' (accepted: objective, parallel, importance or partial)\n")


def test_hpplot_shows_the_newest_batch_as_a_png(ip):
    hp.run(separable, flags=FLAGS, max_trials=5, random_seed=2)
    view = ip.run_line_magic("hpplot", "--kind objective")
    assert view.kind == "objective" and view._repr_png_()[:4] == b"\x89PNG"
    assert len(view.figure.axes[0].collections[0].get_offsets()) == 5
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("hpplot", "--kind nope")
    assert str(info.value) == ("%hpplot: error: Invalid value for --kind: 'nope' "
                               "(accepted: objective, parallel, importance or partial)")


def test_no_kind_draws_a_picture_of_a_sentence_for_a_batch_without_results():
    from hpwidgets.core.results.read_model import BatchState
    from hpwidgets.core.search.plan import RunOptions, build_plan

    plan = build_plan("f", {"a": (0.0, float)}, {"a": "[-1.0:1.0]"}, RunOptions())
    snapshot = BatchState(plan).snapshot()
    said = []
    for kind in flagplots.KINDS:
        with pytest.raises(NothingToDraw) as info:
            flagplots.figure(snapshot, kind)
        said.append(str(info.value))
    assert said == ["the objective view needs a trial with a value; this batch has 0 with a value of loss",
                    "the parallel view needs a trial with a value; this batch has 0 with a value of loss",
                    "importance needs 3 completed trials and a searched flag; this batch has 0 with a value of loss",
                    "partial dependence needs 3 completed trials and a searched flag; this batch has 0 with a value "
                    "of loss"]


def test_a_view_that_cannot_be_drawn_is_one_line_in_the_cli_and_the_notebook_and_writes_no_file(home, tmp_path, ip,
                                                                                               recwarn):
    hp.run(separable, flags=FLAGS, max_trials=2, random_seed=2)
    out = tmp_path / "p.png"
    cli = hpw("plot", "--kind", "partial", "-o", str(out), env=dict(os.environ))
    line = ("partial dependence needs 3 completed trials and a searched flag; this batch has 2 with a value of "
            "loss")
    assert (cli.returncode, cli.stdout, cli.stderr, out.exists()) == (1, "", f"hpw plot: error: {line}\n", False)
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("hpplot", "--kind partial")
    assert str(info.value) == f"%hpplot: error: {line}"
    assert [str(w.message) for w in recwarn] == []


def test_pruned_trials_are_drawn_in_the_objective_and_parallel_views():
    from hpwidgets.core.records import RunRecord, Status
    from hpwidgets.core.results.read_model import BatchState
    from hpwidgets.core.search.plan import RunOptions, build_plan

    def run_record(trial, flags, scalars, status=Status.COMPLETED):
        return RunRecord(id=f"{trial:032x}", batch="b" * 32, operation="f", flags=flags, status=status,
                         scalars=scalars, trial=trial, searched=("a",))

    plan = build_plan("f", {"a": (0.0, float)}, {"a": "[-1.0:1.0]"}, RunOptions())
    runs = [run_record(trial=0, flags={"a": 0.5}, scalars={"loss": 1.0}),
            run_record(trial=1, flags={"a": -0.5}, scalars={"loss": 3.0}, status=Status.PRUNED),
            run_record(trial=2, flags={"a": 0.0}, scalars={"loss": 0.5})]
    snapshot = BatchState(plan, runs).snapshot()
    ax = flagplots.figure(snapshot, "objective").axes[0]
    marks = next(line for line in ax.lines if line.get_label().startswith("pruned"))
    assert (marks.get_label(), marks.get_xdata().tolist(), marks.get_ydata().tolist()) == (
        "pruned (1, last value)", [2], [3.0])
    ax = flagplots.figure(snapshot, "parallel").axes[0]
    assert ax.get_title() == "3 trials (1 pruned, dashed, at their last value), coloured by loss"
    assert len(ax.collections[0].get_segments()) == 3


def test_hpw_plot_of_an_empty_store_or_an_unknown_batch_is_one_line(home, tmp_path):
    out = tmp_path / "p.png"
    empty = hpw("plot", "-o", str(out), env=dict(os.environ))
    assert (empty.returncode, empty.stderr) == (
        2, f"hpw plot: error: no batch to show: the store {home} holds none yet (run a search first)\n")
    unknown = hpw("plot", "abc", "-o", str(out), env=dict(os.environ))
    assert unknown.returncode == 2
    assert unknown.stderr == ("hpw plot: error: Invalid value for BATCH: 'abc' "
                              "(accepted: a batch id or its first characters (no batch has that id))\n")
    assert not out.exists()
