"""compare: Guild's columns, sorting with empty values last, and formula-safe CSV."""

import os

import pytest

from hpwidgets.core.errors import OptionError
from hpwidgets.core.results import compare
from tests.support.records import record


def _rec(i, loss=None, **flags):
    """Run i with flag x = i (unless given others), 65 s long."""
    return record(i, loss, flags=flags or {"x": i}, started=0.0, stopped=65.0, label=f"x={i}")


def test_select_sorts_with_missing_last():
    rows = [_rec(1, 0.5), _rec(2), _rec(3, -1.0), _rec(4, 0.1)]
    assert [r.flags["x"] for r in compare.select(rows, min="loss")] == [3, 4, 1, 2]
    assert [r.flags["x"] for r in compare.select(rows, max="loss")] == [1, 4, 3, 2]
    assert [r.flags["x"] for r in compare.select(rows, top=2, min="loss")] == [3, 4]
    with pytest.raises(OptionError, match="Invalid value for min: 'acc' \\(accepted: a scalar or flag of the runs: loss, x\\)"):
        compare.select(rows, min="acc")
    with pytest.raises(OptionError, match="Invalid value for top: 0"):
        compare.select(rows, top=0)


def test_csv_quotes_formulas_keeps_negative_numbers():
    rows = [_rec(1, -0.25, name="=cmd|' /C calc'!A0", x=-3), _rec(2, 1e-300, name="@SUM(1)", x=2)]
    text = compare.to_csv(rows)
    lines = text.splitlines()
    assert lines[0] == "run,operation,started,time,status,label,name,x,step,loss"
    assert lines[1].endswith(",'=cmd|' /C calc'!A0,-3,0,-0.25")
    assert lines[2].endswith(",'@SUM(1),2,0,1e-300")
    assert ",0:01:05," in lines[1]


@pytest.mark.parametrize("text", [" =1+1", "  +cmd", "\u00a0@SUM(1)", " \t-2+3"])
def test_csv_quotes_a_formula_behind_leading_whitespace(text):
    assert compare.csv_safe(text) == "'" + text
    assert compare.csv_safe(" plain") == " plain" and compare.csv_safe(-2.5) == "-2.5"  # repr: full precision


def test_table_is_aligned():
    text = compare.table([_rec(1, -0.5), _rec(22, 0.125)])
    lines = text.splitlines()
    assert lines[0].split() == ["run", "operation", "started", "time", "status", "label", "x", "step", "loss"]
    assert lines[1].endswith("-0.5") and lines[2].endswith("0.125")  # the precision they need
    assert len({line.index("operation") if i == 0 else line.index("train.py") for i, line in enumerate(lines)}) == 1


def test_write_csv_refuses_symlink(tmp_path):
    target = tmp_path / "secret"
    target.write_text("keep")
    link = tmp_path / "out.csv"
    os.symlink(target, link)
    with pytest.raises(OptionError, match="it is a symbolic link; not followed"):
        compare.write_csv(str(link), "a,b\n")
    assert target.read_text() == "keep"
    compare.write_csv(str(tmp_path / "ok.csv"), "a,b\n")
    assert (tmp_path / "ok.csv").read_text() == "a,b\n"


def test_flag_named_like_a_column_is_not_hidden():
    rec = _rec(1, 0.5, label="mine", status="x", x=1)
    cols = compare.columns_for([rec])
    assert cols == ["run", "operation", "started", "time", "status", "label", "=label", "=status", "x", "step", "loss"]
    assert [compare.cell(rec, c) for c in cols[5:8]] == ["x=1", "mine", "x"]
