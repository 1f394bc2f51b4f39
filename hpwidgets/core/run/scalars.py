"""A trial's output scalars: each frame read in the formats of ``output/formats.py`` (and the
user's patterns), folded into series by step.

Rules, so that a redrawn progress bar gives the series its library records:
- one point per key and step, the last printed: a bar redrawn within an epoch moves its values
  live, and the epoch keeps the value of its last redraw;
- a frame of a redrawn line that shows a key with the value the previous frame showed records
  nothing for it (a bar carries the last epoch's validation values into the next epoch's redraws);
- a line whose step goes back and whose values are all recorded at that step already records
  nothing (LightGBM repeats its best round after early stopping).
Keys equal to flag names are flag echoes, not results.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hpwidgets.core.run.output import formats
from hpwidgets.core.run.output.patterns import Patterns

Point = tuple[str, "int | None", float]


@dataclass
class ScalarLog:
    """Collects the scalars a trial prints."""

    ignore: frozenset[str] = frozenset()
    patterns: Patterns = field(default_factory=Patterns)
    step: int | None = None
    last: dict[str, float] = field(default_factory=dict)
    series: dict[str, list[tuple[int | None, float]]] = field(default_factory=dict)
    last_line: str = ""  # the last output line with text, as printed: a crash's exception, for its reason
    shown: dict[str, str] = field(default_factory=dict)  # the pairs of the last frame that had any
    at_step: dict[tuple[str, int], float] = field(default_factory=dict)  # (key, step) -> its value

    def feed(self, line: str, redraw: bool = False) -> list[Point]:
        """Take one printed line, or one frame of a redrawn line (``redraw``); return the scalars
        it recorded as (key, step, value)."""
        reading = self.patterns.read(line)
        if reading is None:
            return []
        step, pairs = reading
        if step is not None and self.step is not None and step < self.step and self._repeats(step, pairs):
            return []
        if step is not None:
            self.step = step
        shown, self.shown = self.shown, dict(pairs)
        recorded = []
        for key, text in pairs:
            if key in self.ignore or redraw and shown.get(key) == text:
                continue
            recorded.append(self._record(key, float(text)))  # full precision: Guild rounds to 32 bits
        return recorded

    def add(self, key: str, step: int, value: float) -> Point:
        """A scalar from elsewhere than a printed line (an event file), at its own step."""
        self.step = step
        return self._record(key, value)

    def _record(self, key: str, value: float) -> Point:
        self.last[key] = value
        points = self.series.setdefault(key, [])
        if points and self.step is not None and points[-1][0] == self.step:
            points[-1] = (self.step, value)
        else:
            points.append((self.step, value))
        if self.step is not None:
            self.at_step[key, self.step] = value
        return key, self.step, value

    def _repeats(self, step: int, pairs: list[tuple[str, str]]) -> bool:
        return all(_same(self.at_step.get((key, step)), float(text)) for key, text in pairs)


def _same(a: float | None, b: float) -> bool:
    return a is not None and (a == b or (a != a and b != b))  # nan shows nan again


__all__ = ["ScalarLog", "formats"]
