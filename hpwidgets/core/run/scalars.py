"""Output scalars from printed lines, with Guild's pattern: ``key: value`` and optional steps.

Beyond Guild: a line made only of several ``key: value`` pairs (``epoch: 3  loss: 0.31
val_loss: 0.42``, pairs apart by spaces, ``,``, ``;``, ``|`` or `` - ``) records every pair, a
``step`` pair among them first. Guild reads nothing from such a line; a training loop prints it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_KEY = r"([A-Za-z_][\w./-]*)"
_VALUE = r"([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?nan|[+-]?inf(?:inity)?)"
_LINE = re.compile(rf"^\s*{_KEY}:\s+{_VALUE}(?:\s+\(step\s+(\d+)\))?\s*$", re.IGNORECASE)
_PAIR = rf"{_KEY}:\s+{_VALUE}"
_APART = r"(?:\s*[,;|]\s*|\s+-\s+|\s+)"
_PAIRS = re.compile(rf"^\s*{_PAIR}(?:{_APART}{_PAIR})+\s*[,;]?\s*$", re.IGNORECASE)
_EACH = re.compile(_PAIR, re.IGNORECASE)


@dataclass
class ScalarLog:
    """Collects the scalars a trial prints; keys equal to flag names are flag echoes, not results."""

    ignore: frozenset[str] = frozenset()
    step: int | None = None
    last: dict[str, float] = field(default_factory=dict)
    series: dict[str, list[tuple[int | None, float]]] = field(default_factory=dict)
    last_line: str = ""  # the last line with text: a crash's exception, for its reason

    def feed(self, line: str) -> list[tuple[str, int | None, float]]:
        """Take one printed line; return the scalars it recorded as (key, step, value)."""
        if line.strip():
            self.last_line = line.strip()[:300]
        match = _LINE.match(line)
        if match:
            key, text, step = match.groups()
            pairs = [(key, text)]
            if step is not None and key != "step":
                pairs.insert(0, ("step", step))
        elif ": " in line and _PAIRS.match(line):
            pairs = sorted(_EACH.findall(line), key=lambda pair: pair[0] != "step")  # the step first
        else:
            return []
        recorded = []
        for key, text in pairs:
            value = float(text)  # full precision: Guild rounds to 32 bits, we do not
            if key == "step":
                if value.is_integer():
                    self.step = int(value)
            elif key not in self.ignore:
                self.last[key] = value
                self.series.setdefault(key, []).append((self.step, value))
                recorded.append((key, self.step, value))
        return recorded
