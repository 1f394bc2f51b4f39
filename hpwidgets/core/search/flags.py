"""Guild's flag syntax, parsed by our own grammar (never YAML, never eval).

Grammar (written down here and tested case by case in tests/test_flags.py)::

    value     := function | bracket | scalar
    function  := NAME "[" number (":" number)* "]"
                 NAME in uniform, loguniform, range, linspace, logspace
    bracket   := "[" number ":" number (":" number)? "]"      a range: a search dimension
               | "[" scalar ("," scalar)* "]"                 a list: grid or categorical
    scalar    := "'" text "'" | '"' text '"' | number | bool | bare-text
    number    := [+-]? (digits ("." digits?)? | "." digits) ([eE] [+-]? digits)?
                 finite: 1e309 (inf as a float) is refused, as inf and nan are no numbers
    logspace[start:end:count:base] gives base ** v for v in linspace[start:end:count]:
                 base > 0 and not 1, every value a finite float (logspace[0:400] is refused)

A quoted scalar is always a string. The flag's type (from its default in the script) decides
what a scalar means and which forms are accepted.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from typing import Any

from hpwidgets.core.errors import FlagSyntaxError, listing
from hpwidgets.core.search.space import Categorical, Dimension, Integer, Real

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_INT = re.compile(r"^[+-]?\d+$")
_FUNCTION = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\[(.*)\]$", re.DOTALL)
_TRUE, _FALSE = {"true", "yes"}, {"false", "no"}
FUNCTIONS = ("uniform", "loguniform", "range", "linspace", "logspace")
MAX_VALUES = 1_000_000  # in one sequence: counted before it is expanded

FORMS = (
    "a value, a list [a,b,...], a range [low:high] or [low:high:first], "
    "uniform[low:high], loguniform[low:high], range[start:end:step], "
    "linspace[start:end:count] or logspace[start:end:count:base]"
)


@dataclass(frozen=True)
class Fixed:
    """One value for every trial."""

    value: Any


@dataclass(frozen=True)
class Choices:
    """Several values: a grid axis, or a categorical choice under random/Bayesian search."""

    values: tuple


FlagValue = Fixed | Choices | Real | Integer | Categorical


def type_name(ftype: type | None) -> str:
    return {float: "float", int: "int", bool: "bool", str: "string"}.get(ftype, "any")


def parse(flag: str, text: str, ftype: type | None = None) -> FlagValue:
    """Parse one command-line flag value for a flag whose default has type ``ftype``."""
    raw = text.strip()
    if raw == "":
        raise FlagSyntaxError(flag, text, FORMS, "empty value")
    if raw[0] in "'\"":
        return Fixed(_coerce(flag, text, _unquote(flag, raw, text), ftype, quoted=True))
    match = _FUNCTION.match(raw)
    if match:
        return _function(flag, text, match.group(1), match.group(2), ftype)
    if raw.startswith("["):
        if not raw.endswith("]"):
            raise FlagSyntaxError(flag, text, FORMS, "missing closing ']'")
        return _bracket(flag, text, raw[1:-1], ftype)
    if raw.endswith("]") and "[" in raw:
        raise FlagSyntaxError(flag, text, FORMS, "malformed function call")
    return Fixed(_coerce(flag, text, raw, ftype))


def from_python(flag: str, value: Any, ftype: type | None = None) -> FlagValue:
    """Accept a Python value from the API: a string in the flag syntax, a list, a dimension."""
    if isinstance(value, (Real, Integer, Categorical, Fixed, Choices)):
        return value
    if isinstance(value, str):
        return parse(flag, value, ftype)
    if isinstance(value, (list, tuple)):
        if not value:
            raise FlagSyntaxError(flag, repr(value), FORMS, "empty list")
        return Choices(tuple(_check_python(flag, v, ftype) for v in value))
    return Fixed(_check_python(flag, value, ftype))


def _check_python(flag: str, value: Any, ftype: type | None) -> Any:
    if ftype is None or isinstance(value, ftype):
        return value
    if ftype is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return _coerce(flag, value, value, ftype)
    raise FlagSyntaxError(flag, repr(value), f"a {type_name(ftype)} value")


def _unquote(flag: str, raw: str, text: str | None = None) -> str:
    if len(raw) < 2 or raw[-1] != raw[0]:
        raise FlagSyntaxError(flag, text or raw, FORMS, "unterminated quote")
    return raw[1:-1]


def _coerce(flag: str, text: str, token: str, ftype: type | None, quoted: bool = False) -> Any:
    """Turn one scalar token into a value of the flag's type."""
    if ftype is str or (quoted and ftype is None):
        return token
    if quoted:
        raise FlagSyntaxError(flag, text, f"a {type_name(ftype)} value", "quoted text")
    is_num = bool(_NUMBER.match(token))
    if ftype is float:
        if not is_num:
            raise FlagSyntaxError(flag, text, "a number such as 0.1, -2 or 1e-3", _what(token, text))
        return _finite(flag, text, token)
    if ftype is int:
        if not _INT.match(token):
            raise FlagSyntaxError(flag, text, "an integer such as 3 or -2", _what(token, text))
        return int(token)
    if ftype is bool:
        low = token.lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise FlagSyntaxError(flag, text, "true or false (yes or no)", _what(token, text))
    if _INT.match(token):
        return int(token)
    if is_num:
        return _finite(flag, text, token)
    if token.lower() in ("true", "false"):
        return token.lower() == "true"
    return token


def _finite(flag: str, text: str, token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise FlagSyntaxError(flag, text, f"a finite number (at most {sys.float_info.max:.4g} in size)",
                              f"{token} is too large for a float")
    return value


def _what(token: str, text: str) -> str:
    return f"{token!r} is not one" if token != text.strip() else ""


def _numbers(flag: str, text: str, body: str, sep: str = ":") -> list[int | float]:
    parts = [p.strip() for p in body.split(sep)]
    values: list[int | float] = []
    for part in parts:
        if not _NUMBER.match(part):
            raise FlagSyntaxError(flag, text, FORMS, f"{part!r} is not a number")
        values.append(int(part) if _INT.match(part) else _finite(flag, text, part))
    return values


def _bracket(flag: str, text: str, body: str, ftype: type | None) -> FlagValue:
    if body.strip() == "":
        raise FlagSyntaxError(flag, text, FORMS, "empty list")
    if "[" in body or "]" in body:
        raise FlagSyntaxError(flag, text, FORMS, "nested brackets")
    if ":" in body and "," in body:
        raise FlagSyntaxError(flag, text, FORMS, "mixes ':' (range) and ',' (list)")
    if ":" in body:
        return _range(flag, text, "", _numbers(flag, text, body), ftype)
    items = [_item(flag, text, part.strip(), ftype) for part in body.split(",")]
    return Choices(tuple(items))


def _item(flag: str, text: str, token: str, ftype: type | None) -> Any:
    if token == "":
        raise FlagSyntaxError(flag, text, FORMS, "empty list item")
    if token[0] in "'\"":
        return _coerce(flag, text, _unquote(flag, token, text), ftype, quoted=True)
    return _coerce(flag, text, token, ftype)


def _range(
    flag: str, text: str, fn: str, args: list[int | float], ftype: type | None
) -> Dimension:
    if len(args) not in (2, 3):
        raise FlagSyntaxError(
            flag, text, f"{fn}[low:high] or {fn}[low:high:first]",
            f"a range takes 2 or 3 values, got {len(args)}",
        )
    low, high = args[0], args[1]
    initial = args[2] if len(args) == 3 else None
    if ftype in (str, bool):
        raise FlagSyntaxError(flag, text, f"a {type_name(ftype)} value or a list", "ranges need a numeric flag")
    if not low < high:
        raise FlagSyntaxError(
            flag, text, f"{fn}[low:high] with low < high",
            f"the lower bound {low} has to be less than the upper bound {high}",
        )
    if initial is not None and not low <= initial <= high:
        raise FlagSyntaxError(flag, text, f"{fn}[low:high:first] with low <= first <= high",
                              f"the first value {initial} is outside [{low}, {high}]")
    is_int = all(isinstance(a, int) for a in args)
    if fn == "loguniform":
        if ftype is int:
            raise FlagSyntaxError(flag, text, "range[low:high] for an integer flag", "loguniform gives real values")
        if low <= 0:
            raise FlagSyntaxError(flag, text, "loguniform[low:high] with 0 < low < high",
                                  f"the lower bound {low} must be positive")
        return Real(float(low), float(high), log=True, initial=_opt_float(initial))
    if ftype is int:
        if not is_int:
            raise FlagSyntaxError(flag, text, "integer bounds such as [1:10]", "flag is an integer")
        return Integer(int(low), int(high), initial=initial)
    if ftype is float or not is_int:
        return Real(float(low), float(high), initial=_opt_float(initial))
    return Integer(int(low), int(high), initial=initial)


def _opt_float(v: float | None) -> float | None:
    return None if v is None else float(v)


def _function(flag: str, text: str, name: str, body: str, ftype: type | None) -> FlagValue:
    if name not in FUNCTIONS:
        raise FlagSyntaxError(flag, text, ", ".join(f"{f}[...]" for f in FUNCTIONS),
                              f"unknown function '{name}'")
    if body.strip() == "":
        raise FlagSyntaxError(flag, text, FORMS, f"{name}[] needs arguments")
    args = _numbers(flag, text, body)
    if name in ("uniform", "loguniform"):
        return _range(flag, text, name, args, ftype)
    if ftype in (str, bool):
        raise FlagSyntaxError(flag, text, f"a {type_name(ftype)} value or a list", f"{name} needs a numeric flag")
    values = _SEQUENCES[name](flag, text, args)
    return Choices(tuple(_sequence_value(flag, text, v, ftype) for v in values))


def _seq_range(flag: str, text: str, args: list) -> list:
    usage = "range[end], range[start:end] or range[start:end:step] (end included)"
    if len(args) == 1:
        start, end, step, inclusive = 0, args[0], 1, False
    elif len(args) in (2, 3):
        start, end = args[0], args[1]
        step, inclusive = (args[2] if len(args) == 3 else 1), True
    else:
        raise FlagSyntaxError(flag, text, usage, f"got {len(args)} values")
    if step == 0 or (end - start) * step < 0:
        raise FlagSyntaxError(flag, text, usage, f"step {step} never reaches {end} from {start}")
    count = _limited(flag, text, math.floor((end - start) / step + 1e-9) + (1 if inclusive else 0))
    out = [start + i * step for i in range(max(count, 0))]
    if not out:
        raise FlagSyntaxError(flag, text, usage, "it gives no values")
    return out


def _seq_linspace(flag: str, text: str, args: list) -> list:
    usage = "linspace[start:end] or linspace[start:end:count]"
    if len(args) not in (2, 3):
        raise FlagSyntaxError(flag, text, usage, f"got {len(args)} values")
    start, end = args[0], args[1]
    count = _count(flag, text, args[2] if len(args) == 3 else 5, usage)
    if count == 1:
        return [start]
    return [start + (end - start) * i / (count - 1) for i in range(count)]


def _seq_logspace(flag: str, text: str, args: list) -> list:
    usage = "logspace[start:end], logspace[start:end:count] or logspace[start:end:count:base]"
    if len(args) not in (2, 3, 4):
        raise FlagSyntaxError(flag, text, usage, f"got {len(args)} values")
    base = args[3] if len(args) == 4 else 10
    if base <= 0 or base == 1:
        raise FlagSyntaxError(flag, text, "logspace[start:end:count:base] with base > 0 and not 1",
                              f"the base {base} gives no scale")
    exps = _seq_linspace(flag, text, args[:3])
    try:
        return [float(base) ** e for e in exps]
    except OverflowError:
        raise FlagSyntaxError(flag, text, f"logspace values of at most {sys.float_info.max:.4g}",
                              f"{base} ** {max(exps)} is too large for a float") from None


def _count(flag: str, text: str, count: float, usage: str) -> int:
    if not isinstance(count, int) or count < 1:
        raise FlagSyntaxError(flag, text, usage, f"count must be a positive integer, got {count}")
    return _limited(flag, text, count)


def _limited(flag: str, text: str, count: int) -> int:
    if count > MAX_VALUES:
        raise FlagSyntaxError(flag, text, f"at most {MAX_VALUES} values in a sequence", f"it gives {count} values")
    return count


_SEQUENCES = {"range": _seq_range, "linspace": _seq_linspace, "logspace": _seq_logspace}


def _sequence_value(flag: str, text: str, value: float, ftype: type | None) -> int | float:
    if ftype is int:
        if float(value) != int(value):
            raise FlagSyntaxError(flag, text, "a sequence of integers for an integer flag",
                                  f"it gives {value}")
        return int(value)
    if ftype is float:
        return float(value)
    return value


def describe(value: FlagValue) -> str:
    """How a flag value reads in the plan Guild prints before a batch."""
    if isinstance(value, Fixed):
        return format_value(value.value)
    if isinstance(value, Choices):
        return "[" + listing(value.values, fmt=format_value) + "]"
    return value.describe()


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return repr(value) if abs(value) >= 1e-4 or value == 0 else f"{value:g}"
    return str(value)
