"""The error tree. The library raises these; the CLI and the magics display them."""

from __future__ import annotations

import errno
from collections.abc import Callable, Sequence
from typing import Any

LISTED = 10  # names an error lists before it says how many more there are


def listing(names: Sequence[Any], limit: int = LISTED, fmt: Callable[[Any], str] = str) -> str:
    """``a, b, c`` -- or the first ``limit`` names and ``... and N more``: errors stay one short line."""
    shown = ", ".join(fmt(n) for n in names[:limit])
    return shown if len(names) <= limit else f"{shown} ... and {len(names) - limit} more"


class HpwError(Exception):
    """Base of every error hpwidgets raises on purpose."""


class FlagSyntaxError(HpwError, ValueError):
    """A flag value does not follow the flag syntax or does not fit the flag's type."""

    def __init__(self, flag: str, received: str, accepted: str, reason: str = "") -> None:
        self.flag, self.received, self.accepted, self.reason = flag, received, accepted, reason
        why = f": {reason}" if reason else ""
        super().__init__(
            f"Invalid value for flag '{flag}': {received!r}{why} (accepted: {accepted})"
        )


class UnknownFlagError(HpwError, KeyError):
    def __init__(self, script: str, flag: str, known: list[str]) -> None:
        self.script, self.flag, self.known = script, flag, known
        listed = listing(known) if known else "none"
        super().__init__(f"Unknown flag '{flag}' for {script} (its flags: {listed})")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class ScriptError(HpwError):
    """The script is missing, unreadable or not Python."""


class OptionError(HpwError, ValueError):
    """A run or compare option has a value outside its accepted form.

    ``option`` is the concept's name as the Python API spells it (``max_trials``, or
    ``opt_flags`` with ``item="kappa"``). The core never spells a command line: the CLI and the
    magics give ``renamed`` their own names (``--max-trials``, ``-Fo kappa``). Other options the
    accepted text mentions are ``{0}``, ``{1}``... placeholders for the names in ``mentions``.
    ``reason`` says why the value failed where the accepted form alone does not (a scheduler
    that does not answer).
    """

    def __init__(self, option: str, received: object, accepted: str, *, item: str | None = None,
                 mentions: tuple[str, ...] = (), names: dict[str, str] | None = None, reason: str = "") -> None:
        self.option, self.received, self.item, self.mentions = option, received, item, mentions
        self.reason = reason
        self._accepted, self.names = accepted, dict(names or {})
        super().__init__(str(self))

    def _name(self, option: str, item: str | None = None) -> str:
        if option in self.names:
            return f"{self.names[option]} {item}" if item else self.names[option]
        return f"{option}[{item!r}]" if item else option

    @property
    def label(self) -> str:
        """The option as the caller knows it: ``max_trials`` in Python, ``--max-trials`` in a shell."""
        return self._name(self.option, self.item)

    @property
    def accepted(self) -> str:
        if not self.mentions:
            return self._accepted
        return self._accepted.format(*(self._name(m) for m in self.mentions))

    def renamed(self, names: dict[str, str]) -> OptionError:
        """The same error in an adapter's words."""
        return OptionError(self.option, self.received, self._accepted, item=self.item,
                           mentions=self.mentions, names={**self.names, **names}, reason=self.reason)

    def __str__(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        return f"Invalid value for {self.label}: {self.received!r}{why} (accepted: {self.accepted})"


class NothingToDraw(HpwError):
    """A view asked of a batch that has not what it needs yet (``partial`` before 3 completed
    trials): one line for the user, never a picture of a sentence."""


class StoreError(HpwError):
    """The run store cannot be used as asked (missing run, unwritable place)."""

    @classmethod
    def writing(cls, exc: OSError, path: str) -> StoreError:
        """One line for a failed write: a full disk named as such."""
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return cls(f"no space left on {path}: free some space (hpw runs rm --permanent RUN..., or hpw runs purge) and try again")
        return cls(f"cannot write {path}: {exc.strerror or exc}")
