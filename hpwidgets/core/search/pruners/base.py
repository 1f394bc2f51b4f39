"""What a pruner is, how its settings are read, and the engine's thread-safe hold on one.

A pruner hears each trial's objective as it is reported, always as a value to minimize (the
engine flips a maximized objective), and answers whether to stop the trial now. Settings are
Guild-style ``NAME=VALUE`` text (``-Fp warmup-steps=5``), checked when the options are made.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from hpwidgets.core.errors import OptionError


class Pruner:
    name = ""
    settings: dict[str, tuple[int, int, str]] = {}  # NAME -> (default, least value, meaning)

    def __init__(self, **values: int) -> None:
        for key, (default, _least, _meaning) in self.settings.items():
            setattr(self, key.replace("-", "_"), values.get(key, default))

    @classmethod
    def from_settings(cls, given: Mapping[str, str]) -> Pruner:
        values: dict[str, int] = {}
        for key, text in given.items():
            if key not in cls.settings:
                known = ", ".join(f"{k} (default {d})" for k, (d, _, _) in cls.settings.items())
                raise OptionError("prune_flags", f"{key}={text}", f"{cls.name}'s settings: {known}", item=key)
            least, meaning = cls.settings[key][1], cls.settings[key][2]
            try:
                value = int(str(text).strip())
            except ValueError:
                value = None
            if value is None or value < least:
                raise OptionError("prune_flags", text, f"an integer >= {least}: {meaning}", item=key)
            values[key] = value
        return cls(**values)

    def report(self, trial: str, step: int, value: float) -> bool:
        """``trial`` reached ``step`` with ``value`` (lower is better): True to stop it now."""
        raise NotImplementedError

    def complete(self, trial: str) -> None:
        """``trial`` ran to its end (pruned or failed trials are not completed)."""

    def describe(self) -> str:
        values = ", ".join(f"{k}={getattr(self, k.replace('-', '_'))}" for k in self.settings)
        return f"{self.name} ({values})"


class Pruning:
    """The engine's side of a pruner: one lock (trials report from their own threads), the
    steps of trials that print no step, and which trials were stopped at which step."""

    def __init__(self, pruner: Pruner) -> None:
        self.pruner = pruner
        self._lock = threading.Lock()
        self._reports: dict[str, int] = {}
        self._pruned: dict[str, int] = {}

    def report(self, trial: str, step: int | None, value: float) -> bool:
        with self._lock:
            if trial in self._pruned:
                return False  # already told to stop
            count = self._reports[trial] = self._reports.get(trial, 0) + 1
            step = count if step is None else step  # a trial that prints no step: its n-th value
            if value != value or not self.pruner.report(trial, step, value):  # NaN: the trial fails anyway
                return False
            self._pruned[trial] = step
            return True

    def complete(self, trial: str) -> None:
        with self._lock:
            if trial not in self._pruned:
                self.pruner.complete(trial)

    def replay(self, trial: str, points: list, completed: bool) -> None:
        """A trial finished before a ``--resume``: the pruner hears what it reported (its answers
        no longer matter), so the rungs and medians are those of the whole batch."""
        with self._lock:
            for count, (step, value) in enumerate(points, 1):
                if value == value:
                    self.pruner.report(trial, count if step is None else step, value)
            if completed:
                self.pruner.complete(trial)

    def pruned_at(self, trial: str) -> int | None:
        with self._lock:
            return self._pruned.get(trial)
