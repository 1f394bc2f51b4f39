"""The user's own output-scalar patterns, in Guild's syntax, checked when given; the built-in
formats can be turned off."""

from __future__ import annotations

import pytest

from hpwidgets import api
from hpwidgets.core.errors import OptionError
from hpwidgets.core.run.output.patterns import Patterns
from hpwidgets.core.run.scalars import ScalarLog
from tests.helpers import hpw


@pytest.mark.parametrize(("patterns", "line", "step", "pairs"), [
    ([r"(\key)=(\value)"], "loss=0.3 acc=0.9", None, [("loss", "0.3"), ("acc", "0.9")]),
    ([r"val=(?P<val_loss>\value)"], "val=0.25 after 3", None, [("val_loss", "0.25")]),
    ([r"iter (?P<step>\step): cost (?P<cost>\value)"], "iter 7: cost 1.5e-2", 7, [("cost", "1.5e-2")]),
    ([r"(\key) -> (\value)"], "nothing here", None, None),
])
def test_a_pattern_captures_keys_values_and_steps(patterns, line, step, pairs):
    reading = Patterns(patterns, builtin=False).read(line)
    assert (reading is None and pairs is None) or (reading.step, reading.pairs) == (step, pairs)


def test_patterns_come_first_and_the_builtin_formats_still_read():
    log = ScalarLog(patterns=Patterns([r"cost=(?P<cost>\value)"]))
    assert log.feed("Epoch 2/3 - loss: 0.5 cost=0.1") == [("cost", 2, 0.1), ("loss", 2, 0.5)]
    assert log.feed("Epoch 3/3 - loss: 0.4 - acc: 0.7 | cost=0.1") == [("cost", 3, 0.1), ("loss", 3, 0.4), ("acc", 3, 0.7)]


def test_without_the_builtin_formats_only_the_patterns_read():
    log = ScalarLog(patterns=Patterns([], builtin=False))
    assert log.feed("loss: 0.5") == [] and log.series == {}


@pytest.mark.parametrize(("pattern", "why"), [
    (r"loss=(\value", "(missing ), unterminated subpattern)"),
    (r"loss=\value", "it captures no value"),
    (r"(?P<step>\step)", "it captures no value"),
    ("", None),
])
def test_a_pattern_that_cannot_match_is_refused_in_one_line(pattern, why):
    with pytest.raises(OptionError) as caught:
        Patterns([pattern])
    text = str(caught.value)
    assert text.startswith("Invalid value for output_scalars") and "\n" not in text
    assert why is None or why in text


def test_the_cli_refuses_a_bad_pattern_before_any_trial(home, train_py):
    done = hpw("run", train_py, "--output-scalars", r"loss=\value", "-y")
    assert done.returncode != 0 and "Running trial" not in done.stdout
    assert done.stderr.splitlines() == [
        r"hpw run: error: Invalid value for --output-scalars: 'loss=\\value' (accepted: a regular expression with "
        r"groups (\key) and (\value), or named groups such as (?P<loss>\value) and (?P<step>\step): it captures no "
        "value)"]


def test_a_script_read_with_a_pattern_only(home, write_script):
    path = write_script("x = 1\nprint('loss: 9')\nprint(f'cost is {x / 4} at 3')\n")
    batch = api.run(path, {"x": 1}, minimize="cost", output_scalars=[r"cost is (?P<cost>\value) at (?P<step>\step)"],
                    builtin_scalars=False)
    run, = batch.runs
    assert (run.status.value, run.scalars, run.step) == ("completed", {"cost": 0.25}, 3)


def test_a_function_takes_no_output_patterns(home):
    with pytest.raises(OptionError) as caught:
        api.run(lambda x=1.0: x, {"x": 1.0}, output_scalars=[r"(\key)=(\value)"])
    assert str(caught.value) == ("Invalid value for output_scalars: ('(\\\\key)=(\\\\value)',) (accepted: left as it "
                                 "is for a function: its results are read as it returns or yields them)")
