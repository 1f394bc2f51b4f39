"""``hp.plot``, ``%hpplot`` and ``hpw plot``: one view of a batch as a picture."""

from __future__ import annotations

import os
from typing import Any

from hpwidgets.core.errors import OptionError
from hpwidgets.core.results.read_model import BatchSnapshot
from hpwidgets.pictures import flagplots


class FlagPlot:
    """A batch's view as a Figure; a notebook shows it as a PNG (kept by saved notebooks)."""

    def __init__(self, snapshot: BatchSnapshot, kind: str) -> None:
        self.kind = flagplots.check_kind(kind)
        self.figure = flagplots.figure(snapshot, kind)

    def png(self) -> bytes:
        return flagplots.png(self.figure)

    def save(self, path: str) -> None:
        """Write the picture to ``path``, in the format its extension names (.png, .svg, .pdf...)."""
        formats = sorted(self.figure.canvas.get_supported_filetypes())
        accepted = f"a file path in an existing folder, ending in .{', .'.join(formats)}"
        extension = os.path.splitext(path)[1][1:].lower()
        if extension not in formats:
            raise OptionError("output", path, accepted, reason=f"no picture format is named {extension!r}"
                              if extension else "it has no extension naming a format")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise OptionError("output", path, accepted, reason=f"folder {folder} does not exist")
        try:
            self.figure.savefig(path, dpi=self.figure.dpi)
        except OSError as exc:
            raise OptionError("output", path, accepted, reason=f"it could not be written ({exc.strerror})") from None

    def _repr_png_(self) -> bytes:
        return self.png()

    def __repr__(self) -> str:
        return f"<FlagPlot {self.kind}>"


def snapshot_of(batch: Any, store: Any = None) -> BatchSnapshot:
    """A held or watched batch's snapshot now, or a stored batch's (an id, its first characters,
    or None: the newest)."""
    from hpwidgets.core.results.stored_batch import stored_snapshot
    from hpwidgets.core.run.handle import BatchHandle
    from hpwidgets.core.store.runstore import Store

    if isinstance(batch, BatchHandle):
        return batch.snapshot()
    return stored_snapshot(store if store is not None else Store(), batch)


def plot(batch: Any = None, kind: str = "objective", store: Any = None) -> FlagPlot:
    flagplots.check_kind(kind)  # before reading anything
    return FlagPlot(snapshot_of(batch, store), kind)
