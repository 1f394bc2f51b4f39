"""A terminal's view of a trial's output: a line redrawn with ``\\r`` is kept once, as last drawn,
and backspaces move the cursor back as they do on a screen.

The reader of scalars sees every redraw (each is a *frame*), so values move live while a progress
bar draws; the stored output, ``hpw cat`` and a failure's detail see the lines a terminal would
show. A segment is the text up to a ``\\r`` (kept at its end: a redraw follows) or a newline.
No metric line is 64 KiB long: a longer segment (a dump, binary output) is kept as printed,
control characters and all, so that nothing is lost and its cost stays linear.
"""

from __future__ import annotations

import re

REDRAW = "\r"  # ends a segment that the next one draws over
DRAWN_MAX = 1 << 16  # characters: a longer segment is kept as printed and not read for scalars
_BACKSPACES = re.compile("\x08+")
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colours and cursor moves (tqdm, Keras)


def overwrite(line: str, text: str) -> str:
    """``text`` written over ``line`` from its first column, as a terminal would (in linear time)."""
    if "\x08" not in text:
        return text + line[len(text):]
    stripped = text.rstrip("\x08")
    if "\x08" not in stripped:  # Keras: the text, then the cursor sent back over it
        return stripped + line[len(stripped):]
    runs = list(_BACKSPACES.finditer(text))
    few = len(runs) < 64  # a few moves: string slices; many: one list of cells, in linear time
    cells: str | list[str] = line if few else list(line)
    col = start = 0
    for run in [*runs, None]:
        piece = text[start:run.start()] if run else text[start:]
        if few:
            cells = cells[:col] + piece + cells[col + len(piece):]
        else:
            cells[col:col + len(piece)] = piece
        col = max(0, col + len(piece) - (len(run.group()) if run else 0))
        start = run.end() if run else start
    return cells if few else "".join(cells)


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
        if len(segment) > DRAWN_MAX:  # a piece of a giant line: as printed, after what was drawn
            line, self._line, self.redrawn = self._line + segment, "", False
            return line
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
