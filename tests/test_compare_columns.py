"""compare -t, -c/--columns (with min/max/last of a scalar), --skip-core and the printed
precision, on real runs of a script that prints its loss several times."""

import csv
import io
import os

import pytest

from tests.helpers import hpw
from tests.support.cli import hpw_here


@pytest.fixture
def env(home):
    return dict(os.environ)


@pytest.fixture
def runs(env, home, write_script):
    path = write_script("x = 1.0\nfor v in (x * 3, x / 3, x * 2):\n    print(f'loss: {v!r}')\n", name="steps.py")
    assert hpw("run", path, "x=[1.0,2.5]", "-y", env=env).returncode == 0


def test_columns_pick_flags_scalars_and_summaries(env, runs):
    proc = hpw_here("compare", "-t", "--min", "loss", "-c", "x, loss,min loss,max loss,last loss,status")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("  ") for line in proc.stdout.splitlines()]
    rows = [[c.strip() for c in row if c.strip()] for row in rows]
    assert rows[0] == ["run", "x", "loss", "min loss", "max loss", "last loss", "status"]
    assert [r[1:] for r in rows[1:]] == [["1", "2", "0.333333", "3", "2", "completed"],
                                         ["2.5", "5", "0.833333", "7.5", "5", "completed"]]


def test_csv_keeps_full_precision_of_the_chosen_columns(env, runs):
    proc = hpw_here("compare", "--csv", "-", "-c", "x,min loss", "--min", "loss")
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0] == ["run", "x", "min loss"]
    assert [r[1:] for r in rows[1:]] == [["1.0", "0.3333333333333333"], ["2.5", "0.8333333333333334"]]


def test_skip_core(env, runs):
    lines = hpw_here("compare", "--table", "--skip-core").stdout.splitlines()
    assert lines[0].split() == ["run", "x", "step", "loss"]


def test_unknown_column_is_a_usage_error(env, runs):
    proc = hpw_here("compare", "-t", "-c", "x,lss")
    assert proc.returncode == 2
    assert proc.stderr == ("hpw compare: error: Invalid value for --columns: 'lss': no such column (accepted: run, operation, started, "
                           "time, status, label, step, x, loss, min loss, max loss, last loss, ...)\n")
    assert hpw_here("compare", "-t", "-c", "min x").returncode == 2  # x is a flag, not a scalar


def test_the_core_names_an_unknown_column_by_its_keyword(home):
    from hpwidgets.core.errors import OptionError
    from hpwidgets.core.records import RunRecord, Status
    from hpwidgets.core.results.columns import parse_columns

    record = RunRecord(id="a" * 12, batch="b", operation="t.py", flags={"x": 1}, status=Status.COMPLETED,
                       scalars={"loss": 1.0}, trial=1)
    with pytest.raises(OptionError) as info:
        parse_columns("x,lss", [record])
    assert str(info.value) == ("Invalid value for columns: 'lss': no such column (accepted: run, operation, started, "
                               "time, status, label, step, x, loss, min loss, max loss, last loss, ...)")
