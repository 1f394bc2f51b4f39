"""One trial's output read as it arrives: segments in, the terminal's lines and the scalars out."""

from __future__ import annotations

from hpwidgets.core.run.output.terminal import DRAWN_MAX, REDRAW, TerminalLine, frame
from hpwidgets.core.run.scalars import Point, ScalarLog


class OutputReader:
    """Feeds every frame to the trial's ``ScalarLog`` and keeps its last line for a failure's reason."""

    def __init__(self, log: ScalarLog) -> None:
        self.log = log
        self.screen = TerminalLine()

    def feed(self, segment: str) -> tuple[str | None, list[Point]]:
        """One segment: the finished line it ends (None while a line is redrawn), and its scalars."""
        if len(segment) > DRAWN_MAX:  # no metric line is that long: kept, not read
            return self._kept(self.screen.feed(segment)), []
        if not self.screen.redrawn and segment[-1:] != REDRAW and "\x1b" not in segment and "\x08" not in segment:
            if segment and not segment.isspace():  # the common case: a plain line, read as it is
                self.log.last_line = segment
            return segment, self.log.feed(segment)
        redraw = self.screen.redrawn or segment.endswith(REDRAW)
        line = self.screen.feed(segment)
        points = self.log.feed(frame(segment), redraw)
        if line is not None:
            self.log.end_of_line()
        return self._kept(line), points

    def flush(self) -> str | None:
        """The line left drawn when the output ended without a newline, if any."""
        self.log.end_of_line()
        return self._kept(self.screen.flush())

    def _kept(self, line: str | None) -> str | None:
        if line and not line.isspace():
            self.log.last_line = line
        return line
