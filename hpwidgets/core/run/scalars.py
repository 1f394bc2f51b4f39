"""A trial's output scalars: each frame read in the formats of ``output/formats.py`` (and the
user's patterns), folded into series by step.

Rules, so that a redrawn progress bar gives the series its library records:
- one point per key and step, the last printed: a bar redrawn within an epoch moves its values
  live, and the epoch keeps the value of its last redraw;
- a frame of a redrawn line that shows a key with the value the previous frame showed records
  nothing for it (a bar carries the last epoch's validation values into the next epoch's redraws);
- a line whose step goes back and whose values are all recorded at that step already records
  nothing (LightGBM repeats its best round after early stopping);
- a value is *settled* (final for its step: what a pruner may judge) when it is printed on a
  line of its own, or, in a redrawn line, when that line ends or the step moves on: a bar's
  running average in the middle of an epoch is shown live but never judged.
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
    shown: dict[str, str] = field(default_factory=dict)  # the pairs of the last redrawn frame that had any
    unsettled: dict[str, Point] = field(default_factory=dict)  # redrawn values whose step may still move them
    settled: list[Point] = field(default_factory=list)  # final values not yet taken (``take_settled``)

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
            if step != self.step and self.unsettled:
                self.end_of_line()  # the step moved on: the last step's redrawn values are final
            self.step = step
        if redraw:
            shown, self.shown = self.shown, dict(pairs)
            pairs = [(key, text) for key, text in pairs if shown.get(key) != text]
        elif self.shown:
            self.shown = {}
        ignore, record = self.ignore, self._record
        points = [record(key, float(text)) for key, text in pairs if key not in ignore]  # full precision
        if redraw:
            self.unsettled.update((point[0], point) for point in points)
        else:
            self.settled += points
        return points

    def end_of_line(self) -> None:
        """A redrawn line ended: its last values are final."""
        self.settled += self.unsettled.values()
        self.unsettled.clear()

    def take_settled(self) -> list[Point]:
        """The values that became final since the last call."""
        taken, self.settled = self.settled, []
        return taken

    def add(self, key: str, step: int, value: float) -> Point:
        """A scalar from elsewhere than a printed line (an event file), at its own step: final."""
        self.step = step
        point = self._record(key, value)
        self.settled.append(point)
        return point

    def _record(self, key: str, value: float) -> Point:
        self.last[key] = value
        points = self.series.setdefault(key, [])
        step = self.step
        if points and step is not None and points[-1][0] == step:
            points[-1] = (step, value)
        else:
            points.append((step, value))
        return key, step, value

    def _repeats(self, step: int, pairs: list[tuple[str, str]]) -> bool:
        """Every pair is already recorded at ``step`` with its value (a rare look: steps go back)."""
        for key, text in pairs:
            at = next((v for s, v in reversed(self.series.get(key, ())) if s == step), None)
            if not _same(at, float(text)):
                return False
        return True


def _same(a: float | None, b: float) -> bool:
    return a is not None and (a == b or (a != a and b != b))  # nan shows nan again


__all__ = ["ScalarLog", "formats"]
