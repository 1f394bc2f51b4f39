"""Defaults that never mislead: no silent priors, the objective is never a flag, short ids
everywhere, and option names in each interface's own words."""

from __future__ import annotations

import os

import pytest

import hpwidgets as hp
from hpwidgets.core.errors import FlagSyntaxError, OptionError
from hpwidgets.core.run.batch import prepare
from hpwidgets.core.search.plan import RunOptions
from hpwidgets.core.store.runstore import Store
from tests.helpers import hpw
from tests.support.cli import hpw_here
from tests.support.runners import ScriptedRunner

TRAINING = """\
loss = 2.0
lr = 0.1
for epoch in range(3):
    loss = loss * (1 - lr)
    print(f"loss: {loss} (step {epoch + 1})")
"""


def test_a_second_search_of_the_same_code_starts_fresh(home, write_script):
    path = write_script("x = 0.1\nprint('loss:', (x - 1.5) ** 2)\n")
    first = prepare(path, {"x": "[-2.0:2.0]"}, RunOptions(optimizer="gp", max_trials=4, random_seed=1),
                    runner=ScriptedRunner(lambda f: f"loss: {(f['x'] - 1.5) ** 2}")).start()  # as the script prints
    assert first.finished.counts["completed"] == 4
    again = hpw_here("run", path, "x=[-2.0:2.0]", "--optimizer", "gp", "--max-trials", "3", "--random-seed", "2",
                     "-y")
    assert again.returncode == 0, again.stderr
    assert "prior" not in again.stdout.lower()  # Guild's default: prev-trials=batch
    asked = hpw_here("run", path, "x=[-2.0:2.0]", "--optimizer", "gp", "--max-trials", "3", "--random-seed", "3",
                     "-Fo", "prev-trials=sourcecode", "--preview")
    assert asked.returncode == 0, asked.stderr
    assert "Priors: 7 earlier runs of script.py (prev-trials=sourcecode)" in asked.stdout.splitlines()
    ran = hpw_here("run", path, "x=[-2.0:2.0]", "--optimizer", "gp", "--max-trials", "1", "--random-seed", "3",
                   "-Fo", "prev-trials=sourcecode", "-y")
    assert ran.stdout.splitlines()[0] == "Found 7 earlier trials for use as priors (prev-trials=sourcecode)"


def test_a_bad_prev_trials_mode_is_named_in_each_interface(home, write_script):
    path = write_script("x = 0.1\nprint('loss:', x)\n")
    cli = hpw_here("run", path, "x=[-2.0:2.0]", "-o", "gp", "-Fo", "prev-trials=all", "-y")
    assert cli.stderr.strip() == ("hpw run: error: Invalid value for -Fo prev-trials: 'all' "
                                  "(accepted: batch, sourcecode, operation)")
    with pytest.raises(OptionError) as info:
        hp.run(path, {"x": "[-2.0:2.0]"}, optimizer="gp", opt_flags={"prev-trials": "all"})
    assert str(info.value) == ("Invalid value for opt_flags['prev-trials']: 'all' "
                               "(accepted: batch, sourcecode, operation)")


def test_the_objective_is_never_a_flag(home, write_script):
    path = write_script(TRAINING, "train_loop.py")
    batch = hp.run(path, {"lr": "[0.1,0.5]"})
    runs = batch.runs
    assert [r.status.value for r in runs] == ["completed", "completed"]
    assert [sorted(r.flags) for r in runs] == [["lr"], ["lr"]]
    assert [r.scalars["loss"] for r in runs] == [pytest.approx(2.0 * 0.9**3), pytest.approx(2.0 * 0.5**3)]
    assert [r.step for r in runs] == [3, 3]
    assert batch.best.flags == {"lr": 0.5}
    assert list(batch.df.columns) == ["run", "operation", "started", "time", "status", "label", "lr", "step", "loss"]
    with pytest.raises(FlagSyntaxError) as info:
        hp.run(path, {"loss": "1.0"})
    assert str(info.value) == ("Invalid value for flag 'loss': '1.0': loss is the objective this batch would "
                               "minimize: it is read from the output, never set (accepted: a flag other than "
                               "the objective)")
    acc = hp.run(path, {"lr": "0.2"}, maximize="acc")  # another objective: loss is a flag like any other
    assert acc.runs[0].flags == {"loss": 2.0, "lr": 0.2}
    assert (acc.runs[0].status.value, acc.runs[0].reason) == ("failed", "no 'acc' in its output")


def test_short_batch_ids_work_everywhere_and_bad_ones_say_so(home, write_script):
    path = write_script("x = 0\nprint('loss:', x)\n")
    one = hp.run(path, {"x": "[1,2]"})
    hp.run(path, {"x": "[3]"})
    table = hpw_here("compare", "--batch", one.id[:8], "--table")
    assert table.returncode == 0, table.stderr
    assert len(table.stdout.splitlines()) == 3  # the header and the batch's two runs
    assert len(hp.compare(batch=one.id[:6])) == 2
    unknown = hpw_here("compare", "--batch", "zzzz")
    assert (unknown.returncode, unknown.stdout) == (2, "")  # an unknown filter value is a usage error
    assert unknown.stderr.strip() == ("hpw compare: error: Invalid value for --batch: 'zzzz' "
                                      "(accepted: a batch id or its first characters (no batch has that id))")
    with pytest.raises(OptionError) as info:
        hp.compare(batch="zzzz")
    assert str(info.value) == ("Invalid value for batch: 'zzzz' "
                               "(accepted: a batch id or its first characters (no batch has that id))")
    store = Store()
    for twin in ("abcd1111", "abcd2222"):  # two batches whose ids share their first characters
        with open(os.path.join(store.batches_dir, f"{twin}.json"), "w") as fh:
            fh.write("{}")
    ambiguous = hpw_here("compare", "--batch", "abcd")
    assert ambiguous.returncode == 2
    assert ambiguous.stderr.strip() == (
        "hpw compare: error: Invalid value for --batch: 'abcd' (accepted: a batch id or its first characters "
        "(ambiguous: 2 batches start so (abcd1111, abcd2222); give more characters))")
    assert store.resolve_batch("abcd1") == "abcd1111"


def test_option_errors_speak_each_interfaces_words(home, write_script):
    path = write_script("x = 0\nprint('loss:', x)\n")
    with pytest.raises(OptionError) as info:
        hp.run(path, {"x": "[1:2]"}, max_trials=0)
    assert str(info.value) == "Invalid value for max_trials: 0 (accepted: a positive integer)"
    with pytest.raises(OptionError) as info:
        hp.run(path, {"x": "[1:2]"}, minimize="loss", maximize="acc")
    assert str(info.value) == "Invalid value for maximize: 'acc' (accepted: either minimize or maximize, not both)"
    cli = hpw("run", path, "x=[1:2]", "--minimize", "loss", "--maximize", "acc", "-y", env=dict(os.environ))
    assert cli.stderr.strip() == ("hpw run: error: Invalid value for --maximize: 'acc' "
                                  "(accepted: either --minimize or --maximize, not both)")


def test_the_cli_says_when_no_trial_printed_the_objective(home, write_script):
    path = write_script("x = 1\nprint('loss:', x)\nprint('val_loss:', 2 * x)\n")
    done = hpw("run", path, "x=[1,2]", "--maximize", "acc", "-y", env=dict(os.environ))
    assert done.stdout.splitlines()[-1] == (
        "No trial printed acc, the column this batch would maximize; the trials printed: loss, val_loss")
