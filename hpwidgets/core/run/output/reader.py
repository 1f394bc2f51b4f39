"""One trial's output read as it arrives: segments in, the terminal's lines and the scalars out."""

from __future__ import annotations

from hpwidgets.core.run.output.terminal import REDRAW, TerminalLine, frame
from hpwidgets.core.run.scalars import Point, ScalarLog


class OutputReader:
    """Feeds every frame to the trial's ``ScalarLog`` and keeps its last line for a failure's reason."""

    def __init__(self, log: ScalarLog) -> None:
        self.log = log
        self.screen = TerminalLine()

    def feed(self, segment: str) -> tuple[str | None, list[Point]]:
        """One segment: the finished line it ends (None while a line is redrawn), and its scalars."""
        redraw = self.screen.redrawn or segment.endswith(REDRAW)
        line = self.screen.feed(segment)
        scalars = self.log.feed(frame(segment), redraw) if segment.strip() else []
        return self._kept(line), scalars

    def flush(self) -> str | None:
        """The line left drawn when the output ended without a newline, if any."""
        return self._kept(self.screen.flush())

    def _kept(self, line: str | None) -> str | None:
        if line is not None and line.strip():
            self.log.last_line = line.strip()[:300]
        return line
