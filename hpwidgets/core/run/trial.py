"""What an executor is given to run one trial, and what it gives back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hpwidgets.core.run.cancel import CancelToken


@dataclass(frozen=True)
class TrialSpec:
    run_id: str
    run_dir: str
    flags: dict[str, Any]
    timeout: float | None = None


@dataclass(frozen=True)
class TrialOutcome:
    exit_code: int | None
    killed: str | None = None  # "timeout" or "cancel" when we ended it
    reason: str | None = None
    scalars: dict[str, float] = field(default_factory=dict)  # direct results (in-process)


class TrialRunner:
    """Runs one trial; calls ``on_line`` for each printed line, in order, as it comes.

    What a runner may do beyond that is declared here with defaults that do nothing, so the
    engine never probes for it.
    """

    in_process: bool = False  # True: trials run in the calling process; the engine may call inline
    slots: int | None = None  # trials it can run at once (a Dask cluster's threads); None: no opinion

    def __call__(self, spec: TrialSpec, cancel: CancelToken, on_line: Callable[[str], None]) -> TrialOutcome:
        raise NotImplementedError

    def on_event(self, event: Any) -> None:
        """Hears every event of the batch (the Dask runner lets go of its cluster at the end)."""
