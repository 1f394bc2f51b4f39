"""Pruner decisions on hand-made curves, with exact expected outcomes; their settings checked."""

from __future__ import annotations

import pytest

from hpwidgets.arguments import option_names
from hpwidgets.core.errors import OptionError
from hpwidgets.core.search.plan import RunOptions
from hpwidgets.core.search.pruners import AshaPruner, MedianPruner, Pruning, make


def feed(pruner, trial, curve):
    """Report ``curve`` ({step: value}) in step order; the step it was pruned at, or None."""
    for step, value in sorted(curve.items()):
        if pruner.report(trial, step, value):
            return step
    pruner.complete(trial)
    return None


def test_median_prunes_worse_than_the_median_of_completed_trials_at_that_step():
    median = MedianPruner(**{"warmup-steps": 1, "min-trials": 2})
    assert feed(median, "a", {1: 1.0, 2: 0.8, 3: 0.6}) is None
    assert median.report("e", 2, 100.0) is False  # one completed trial: fewer than min-trials
    assert feed(median, "b", {1: 1.2, 2: 1.0, 3: 0.9}) is None
    # step 1 is warm-up whatever the value; step 2: 0.95 > median(0.8, 1.0) = 0.9
    assert feed(median, "c", {1: 5.0, 2: 0.95, 3: 0.1}) == 2
    # equal to the median is not worse; step 4 has no completed value to compare with
    assert feed(median, "d", {2: 0.9, 3: 0.7, 4: 10.0}) is None
    assert feed(median, "f", {3: 0.76}) == 3  # median(0.6, 0.9, 0.7) = 0.7


def test_median_never_counts_pruned_trials_as_completed():
    median = MedianPruner(**{"min-trials": 1})
    pruning = Pruning(median)
    assert pruning.report("a", 1, 1.0) is False
    pruning.complete("a")
    assert pruning.report("b", 1, 2.0) is True and pruning.pruned_at("b") == 1
    pruning.complete("b")  # a pruned trial never becomes a completed one
    assert pruning.report("c", 1, 1.5) is True  # median of [1.0] only
    assert pruning.pruned_at("a") is None


def test_asha_rungs_promote_the_best_third_without_waiting():
    asha = AshaPruner()  # min-step 1, reduction 3: rungs at steps 1, 3, 9
    assert [asha.rung_step(k) for k in range(3)] == [1, 3, 9]
    assert feed(asha, "t1", {1: 0.5, 2: 0.45, 3: 0.4, 9: 0.2}) is None  # first at each rung goes on
    assert feed(asha, "t2", {1: 0.6}) == 1  # rung 0 holds [0.5, 0.6]: only the best goes on
    assert feed(asha, "t3", {1: 0.3, 3: 0.45}) == 3  # best at rung 0; rung 1 [0.4, 0.45]
    assert feed(asha, "t4", {1: 0.55}) == 1
    assert feed(asha, "t5", {1: 0.45}) == 1  # five at rung 0: still only the best one
    assert feed(asha, "t6", {1: 0.4, 3: 0.39}) is None  # six: the best two go on, a tie included
    assert feed(asha, "t7", {4: 0.1}) is None  # one report past two rungs counts at both
    assert feed(asha, "t8", {9: 0.9}) == 9  # judged at rung 0 when it first reports, at step 9


def test_asha_settings_move_the_rungs():
    asha = AshaPruner(**{"min-step": 2, "reduction": 2})
    assert [asha.rung_step(k) for k in range(4)] == [2, 4, 8, 16]
    pruning = Pruning(asha)
    # a trial that prints no step: its n-th value is step n
    assert [pruning.report("a", None, v) for v in (3.0, 2.0, 1.0, 0.5)] == [False] * 4
    assert [pruning.report("b", None, v) for v in (3.0, 2.5)] == [False, True]
    assert pruning.pruned_at("b") == 2
    assert pruning.report("b", None, 0.1) is False  # already pruned: not judged again


def test_make_and_describe():
    assert make(None) is None
    assert make("median").describe() == "median (warmup-steps=0, min-trials=5)"
    assert make("asha", {"reduction": "4"}).describe() == "asha (min-step=1, reduction=4)"
    assert RunOptions(prune="asha", prune_flags={"min-step": "2"}).pruner().min_step == 2


@pytest.mark.parametrize("options, python, shell", [
    ({"prune": "hyperband"},
     "Invalid value for prune: 'hyperband' (accepted: median or asha)",
     "Invalid value for --prune: 'hyperband' (accepted: median or asha)"),
    ({"prune": "median", "prune_flags": {"warmup": "5"}},
     "Invalid value for prune_flags['warmup']: 'warmup=5' (accepted: median's settings: "
     "warmup-steps (default 0), min-trials (default 5))",
     "Invalid value for -Fp warmup: 'warmup=5' (accepted: median's settings: "
     "warmup-steps (default 0), min-trials (default 5))"),
    ({"prune": "asha", "prune_flags": {"reduction": "1"}},
     "Invalid value for prune_flags['reduction']: '1' (accepted: an integer >= 2: "
     "rungs are this many times further apart; 1 in this many goes on)",
     "Invalid value for -Fp reduction: '1' (accepted: an integer >= 2: "
     "rungs are this many times further apart; 1 in this many goes on)"),
    ({"prune": "median", "prune_flags": {"warmup-steps": "1.5"}},
     "Invalid value for prune_flags['warmup-steps']: '1.5' (accepted: an integer >= 0: "
     "steps at the start of each trial that are never judged)",
     "Invalid value for -Fp warmup-steps: '1.5' (accepted: an integer >= 0: "
     "steps at the start of each trial that are never judged)"),
    ({"prune_flags": {"reduction": "3"}},
     "Invalid value for prune_flags['reduction']: 'reduction=3' (accepted: settings of a pruner chosen with prune)",
     "Invalid value for -Fp reduction: 'reduction=3' (accepted: settings of a pruner chosen with --prune)"),
])
def test_bad_pruner_options_name_option_value_and_form(options, python, shell):
    with pytest.raises(OptionError) as info:
        RunOptions(**options)
    assert str(info.value) == python
    assert str(info.value.renamed(option_names())) == shell


@pytest.mark.parametrize("args, message", [
    (["--prune", "asha", "-Fp", "reduction=1"],
     "hpw run: error: Invalid value for -Fp reduction: '1' (accepted: an integer >= 2: "
     "rungs are this many times further apart; 1 in this many goes on)"),
    (["--prune", "asha", "-Fp", "reduction"],
     "hpw run: error: Invalid value for -Fp: 'reduction' (accepted: NAME=VALUE, such as -Fp warmup-steps=5)"),
    (["--prune", "hyperband"], "hpw run: error: Invalid value for --prune: 'hyperband' (accepted: median or asha)"),
])
def test_hpw_run_says_one_line_and_runs_nothing(home, train_py, args, message):
    from tests.helpers import hpw

    run = hpw("run", train_py, "x=[-1.0:1.0]", *args, "-y")
    assert (run.returncode, run.stdout, run.stderr) == (1, "", message + "\n")
    assert not (home / "runs").exists()
