"""The flag grammar, case by case (see the grammar in hpwidgets/core/search/flags.py)."""

import pytest

from hpwidgets.core.errors import FlagSyntaxError
from hpwidgets.core.search.flags import Choices, Fixed, describe, from_python, parse
from hpwidgets.core.search.space import Categorical, Integer, Real

OK = [
    ("0.1", float, Fixed(0.1)),
    ("3", float, Fixed(3.0)),
    ("1e-3", float, Fixed(0.001)),
    ("-2", int, Fixed(-2)),
    ("adam", str, Fixed("adam")),
    ("013", str, Fixed("013")),  # a string flag keeps its text (YAML would give 13)
    ("'[1,2]'", str, Fixed("[1,2]")),
    ("true", bool, Fixed(True)),
    ("No", bool, Fixed(False)),
    ("[-2,0,2]", float, Choices((-2.0, 0.0, 2.0))),
    ("[1, 2 ,3]", int, Choices((1, 2, 3))),
    ("[adam,sgd]", str, Choices(("adam", "sgd"))),
    ("[-2.0:2.0]", float, Real(-2.0, 2.0)),
    ("[-2:2.0]", float, Real(-2.0, 2.0)),  # YAML would give -122.0
    ("[-2:2]", float, Real(-2.0, 2.0)),  # a float flag searches reals
    ("[-2:2]", int, Integer(-2, 2)),
    ("[-2:2]", None, Integer(-2, 2)),
    ("[1:2:1.5]", float, Real(1.0, 2.0, initial=1.5)),
    ("uniform[0:1]", float, Real(0.0, 1.0)),
    ("uniform[0:1:0.25]", None, Real(0.0, 1.0, initial=0.25)),
    ("loguniform[1e-4:1e-1]", float, Real(1e-4, 1e-1, log=True)),
    ("range[5]", None, Choices((0, 1, 2, 3, 4))),
    ("range[1:5]", int, Choices((1, 2, 3, 4, 5))),
    ("range[0:1:0.25]", float, Choices((0.0, 0.25, 0.5, 0.75, 1.0))),
    ("range[10:0:-5]", int, Choices((10, 5, 0))),
    ("linspace[0:1:3]", float, Choices((0.0, 0.5, 1.0))),
    ("linspace[0:8]", int, Choices((0, 2, 4, 6, 8))),
    ("logspace[0:2:3]", float, Choices((1.0, 10.0, 100.0))),
    ("logspace[1:3:3:2]", None, Choices((2.0, 4.0, 8.0))),
    ("héllo wörld", str, Fixed("héllo wörld")),
]


@pytest.mark.parametrize("text,ftype,expected", OK)
def test_accepted_forms(text, ftype, expected):
    assert parse("x", text, ftype) == expected


BAD = [
    ("", float, "Invalid value for flag 'x': '': empty value"),
    ("[2:-2]", float, "the lower bound 2 has to be less than the upper bound -2"),
    ("[1:1]", float, "the lower bound 1 has to be less than the upper bound 1"),
    ("[1:2:3:4]", float, "a range takes 2 or 3 values, got 4"),
    ("[1:2:3]", float, "the first value 3 is outside [1, 2]"),
    ("foo[1:2]", float, "unknown function 'foo'"),
    ("loguniform[0:1]", float, "the lower bound 0 must be positive"),
    ("loguniform[1:10]", int, "loguniform gives real values"),
    ("[a,b]", float, "'a' is not one"),
    ("abc", float, "accepted: a number such as 0.1, -2 or 1e-3"),
    ("0.5", int, "accepted: an integer such as 3 or -2"),
    ("maybe", bool, "accepted: true or false (yes or no)"),
    ("[]", float, "empty list"),
    ("[1,,2]", float, "empty list item"),
    ("[1:2,3]", float, "mixes ':' (range) and ',' (list)"),
    ("[[1,2]]", float, "nested brackets"),
    ("[1,2", float, "missing closing ']'"),
    ("[1:x]", float, "'x' is not a number"),
    ("[0:1]", str, "ranges need a numeric flag"),
    ("range[0:5:0]", int, "step 0 never reaches 5 from 0"),
    ("range[5:0]", int, "step 1 never reaches 0 from 5"),
    ("linspace[0:1:0]", float, "count must be a positive integer, got 0"),
    ("linspace[0:1:3]", int, "it gives 0.5"),
    ("uniform[]", float, "uniform[] needs arguments"),
    ("'abc", str, "unterminated quote"),
    ("[adam,'a,b']", str, "unterminated quote"),  # no commas inside a quoted list item
    ("héllo", float, "accepted: a number"),
]


@pytest.mark.parametrize("text,ftype,message", BAD)
def test_rejected_forms_name_flag_value_and_form(text, ftype, message):
    with pytest.raises(FlagSyntaxError) as err:
        parse("x", text, ftype)
    assert message in str(err.value)
    assert str(err.value).startswith(f"Invalid value for flag 'x': {text!r}")
    assert "accepted:" in str(err.value)


def test_python_values():
    assert from_python("x", [-2, 0, 2], float) == Choices((-2.0, 0.0, 2.0))
    assert from_python("x", "[-2.0:2.0]", float) == Real(-2.0, 2.0)
    assert from_python("x", 3, float) == Fixed(3.0)
    assert from_python("opt", Categorical(("a", "b"))) == Categorical(("a", "b"))
    with pytest.raises(FlagSyntaxError, match="accepted: a float value"):
        from_python("x", [1.0, object()], float)
    with pytest.raises(FlagSyntaxError, match="empty list"):
        from_python("x", [], float)


def test_describe_matches_guild_plan():
    assert describe(parse("x", "[-2,0,2]", int)) == "[-2, 0, 2]"
    assert describe(parse("x", "[-2.0:2.0]", float)) == "uniform[-2.0:2.0]"
    assert describe(parse("x", "loguniform[1e-4:1e-1]", float)) == "loguniform[0.0001:0.1]"
    assert describe(parse("noise", "0.1", float)) == "0.1"
