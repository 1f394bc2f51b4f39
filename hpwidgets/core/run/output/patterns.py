"""The user's own output-scalar patterns, in Guild's syntax, and the switch for the built-in formats.

A pattern is a regular expression in which ``\\key``, ``\\value`` and ``\\step`` stand for a
name, a number and a step. Its groups say what it captures, as in Guild: two plain groups are a
key and its value (``(\\key)=(\\value)``); a group named ``step`` sets the step
(``iter (?P<step>\\step):``); any other named group is a scalar of that name
(``val=(?P<val_loss>\\value)``). Patterns are tried first, on every line; the built-in formats
after them, unless they are turned off.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from hpwidgets.core.errors import OptionError
from hpwidgets.core.run.output import formats

TEMPLATES = {r"\key": formats.KEY, r"\value": formats.VALUE, r"\step": r"\d+"}
ACCEPTED = (r"a regular expression with groups (\key) and (\value), or named groups such as "
            r"(?P<loss>\value) and (?P<step>\step)")


def compile_pattern(text: str) -> re.Pattern:
    """One pattern, checked: it compiles and captures a value. Raises ``OptionError``."""
    if not isinstance(text, str) or not text:
        raise OptionError("output_scalars", text, ACCEPTED)
    source = text
    for name, regex in TEMPLATES.items():
        source = source.replace(name, f"(?:{regex})")
    try:
        pattern = re.compile(source)
    except re.error as exc:
        raise OptionError("output_scalars", text, f"{ACCEPTED} ({exc.msg})") from None
    names = set(pattern.groupindex)
    if not names - {"step"} and pattern.groups - len(names) < 2:
        raise OptionError("output_scalars", text, f"{ACCEPTED}: it captures no value")
    return pattern


class Patterns:
    """The user's patterns, then the built-in formats (unless ``builtin`` is False)."""

    def __init__(self, patterns: Iterable[str] = (), builtin: bool = True) -> None:
        self.patterns = [compile_pattern(p) for p in patterns]
        self.builtin = builtin
        # the reader of a line, chosen once: most trials read the built-in formats alone
        self.read: Callable[[str], formats.Reading | None] = (
            self._read if self.patterns else formats.read if builtin else _nothing)

    def _read(self, line: str) -> formats.Reading | None:
        step, pairs = None, []
        for pattern in self.patterns:
            for match in pattern.finditer(line):
                found = _captured(pattern, match)
                if found is not None:
                    step = found[0] if found[0] is not None else step
                    pairs += found[1]
        builtin = formats.read(line) if self.builtin else None
        if builtin is not None:
            step = builtin.step if step is None else step
            taken = {key for key, _ in pairs}  # a pattern's reading wins
            pairs += [(key, text) for key, text in builtin.pairs if key not in taken]
        return formats.Reading(step, pairs) if step is not None or pairs else None


def _nothing(line: str) -> None:
    return None


def _captured(pattern: re.Pattern, match: re.Match) -> formats.Reading | None:
    named = {n: match.group(n) for n in pattern.groupindex if match.group(n) is not None}
    step = formats.step_of("step", named.pop("step")) if "step" in named else None
    pairs = [(n, v) for n, v in named.items() if _number(v)]
    plain = [g for i, g in enumerate(match.groups(), 1) if i not in pattern.groupindex.values()]
    if len(plain) >= 2 and plain[0] and plain[1] is not None and _number(plain[1]):
        pairs.append((plain[0], plain[1]))
    return formats.Reading(step, pairs) if step is not None or pairs else None


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
