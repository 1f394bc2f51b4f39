"""A terminal's view of a trial's output: a line redrawn with ``\\r`` is kept once, as last drawn,
and backspaces move the cursor back as they do on a screen.

The reader of scalars sees every redraw (each is a *frame*), so values move live while a progress
bar draws; the stored output, ``hpw cat`` and a failure's detail see the lines a terminal would
show. A segment is the text up to a ``\\r`` (kept at its end: a redraw follows) or a newline.
"""

from __future__ import annotations

import re

REDRAW = "\r"  # ends a segment that the next one draws over
_BACKSPACES = re.compile(r"(\x08+)")
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colours and cursor moves (tqdm, Keras)


def overwrite(line: str, text: str) -> str:
    """``text`` written over ``line`` from its first column, as a terminal would."""
    if "\x08" not in text:
        return text + line[len(text):]
    col = 0
    for piece in _BACKSPACES.split(text):
        if piece.startswith("\x08"):
            col = max(0, col - len(piece))
        elif piece:
            line = line[:col].ljust(col) + piece + line[col + len(piece):]
            col += len(piece)
    return line


def frame(segment: str) -> str:
    """What one segment shows on its own: the text the reader of scalars reads."""
    text = segment[:-1] if segment.endswith(REDRAW) else segment
    if "\x1b" in text:
        text = _ESCAPES.sub("", text)
    return overwrite("", text) if "\x08" in text else text


class TerminalLine:
    """The line being drawn: segments in, finished lines out."""

    def __init__(self) -> None:
        self._line = ""
        self.redrawn = False  # the line being drawn was drawn over at least once

    def feed(self, segment: str) -> str | None:
        """Take one segment; return the finished line when it ends one, else None."""
        if segment.endswith(REDRAW):
            self._line = overwrite(self._line, segment[:-1])
            self.redrawn = True
            return None
        line = overwrite(self._line, segment) if self.redrawn else segment
        self._line, self.redrawn = "", False
        return line

    def flush(self) -> str | None:
        """The line left drawn when the output ends without a newline, if any."""
        if not self.redrawn:
            return None
        line, self._line, self.redrawn = self._line, "", False
        return line
