"""A terminal's view of output: redrawn lines kept once as last drawn, backspaces applied."""

from __future__ import annotations

import pytest

from hpwidgets.core.run.executors.subprocess_group import Segments
from hpwidgets.core.run.output.terminal import TerminalLine, frame, overwrite


@pytest.mark.parametrize(("line", "text", "shown"), [
    ("", "plain", "plain"),
    ("abcdef", "xy", "xycdef"),  # a shorter redraw leaves the tail, as a screen does
    ("abcdef", "xy\x08\x08z", "zycdef"),
    ("12345", "\x08\x08ab", "ab345"),  # backspaces stop at the first column
    ("", "loss: 0.5" + "\x08" * 9, "loss: 0.5"),  # Keras: the text, then the cursor sent back
    ("", "ab\x08" * 3, "aaab"),
    ("", "ab\x08" * 100, "a" * 100 + "b"),  # many moves: the list of cells
])
def test_text_is_written_over_a_line_as_a_terminal_would(line, text, shown):
    assert overwrite(line, text) == shown


def test_a_frame_drops_colours_and_its_redraw_mark():
    assert frame("\x1b[1m20/20\x1b[0m - loss: 0.5\r") == "20/20 - loss: 0.5"


def test_segments_and_the_terminal_line_give_each_redrawn_line_once():
    screen, lines = TerminalLine(), []
    segments = Segments(lambda s: lines.append(screen.feed(s)))
    for chunk in (b"Epoch 1/2\n\r 1/4 loss: 0.9", b"\r 4/4 loss: 0.7 val: 1\r\n\r\r\r\rtail\r", b"\r", b""):
        segments.feed(chunk)
    segments.feed(b"", final=True)
    assert [line for line in lines if line is not None] == ["Epoch 1/2", " 4/4 loss: 0.7 val: 1"]
    assert screen.flush() == "tail"
