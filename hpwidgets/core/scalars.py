"""Output scalars from printed lines, with Guild's pattern: ``key: value`` and optional steps."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_LINE = re.compile(
    r"^\s*([A-Za-z_][\w./-]*):\s+"
    r"([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?nan|[+-]?inf(?:inity)?)"
    r"(?:\s+\(step\s+(\d+)\))?\s*$",
    re.IGNORECASE,
)


@dataclass
class ScalarLog:
    """Collects the scalars a trial prints; keys equal to flag names are flag echoes, not results."""

    ignore: frozenset[str] = frozenset()
    step: int | None = None
    last: dict[str, float] = field(default_factory=dict)
    series: dict[str, list[tuple[int | None, float]]] = field(default_factory=dict)
    last_line: str = ""  # the last line with text: a crash's exception, for its reason

    def feed(self, line: str) -> tuple[str, int | None, float] | None:
        """Take one printed line; return the scalar it recorded as (key, step, value), if any."""
        if line.strip():
            self.last_line = line.strip()[:300]
        match = _LINE.match(line)
        if not match:
            return None
        key, text, step = match.groups()
        value = float(text)  # full precision: Guild rounds to 32 bits, we do not
        if key == "step":
            if value.is_integer():
                self.step = int(value)
            return None
        if key in self.ignore:
            return None
        if step is not None:
            self.step = int(step)
        self.last[key] = value
        self.series.setdefault(key, []).append((self.step, value))
        return key, self.step, value
