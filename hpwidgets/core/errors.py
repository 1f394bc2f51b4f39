"""The error tree. The library raises these; the CLI and the magics display them."""

from __future__ import annotations


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
        listed = ", ".join(known) if known else "none"
        super().__init__(f"Unknown flag '{flag}' for {script} (its flags: {listed})")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class ScriptError(HpwError):
    """The script is missing, unreadable or not Python."""


class OptionError(HpwError, ValueError):
    """A run or compare option has a value outside its accepted form."""

    def __init__(self, option: str, received: object, accepted: str) -> None:
        self.option, self.received, self.accepted = option, received, accepted
        super().__init__(f"Invalid value for {option}: {received!r} (accepted: {accepted})")


class StoreError(HpwError):
    """The run store cannot be used as asked (missing run, unwritable place)."""
