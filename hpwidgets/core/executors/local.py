"""Trials of a script, each in a fresh Python subprocess on this machine."""

from __future__ import annotations

import os
from collections.abc import Callable

from .. import owner
from .. import script as script_mod
from ..cancel import CancelToken
from ..cellscript import cell_names
from ..script import ScriptInfo
from ..trial import TrialOutcome, TrialRunner, TrialSpec
from .subprocess_group import run_group


def trial_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"  # lines reach us as printed, so the dashboard is live
    return env


class ScriptRunner(TrialRunner):
    def __init__(self, info: ScriptInfo) -> None:
        self.info = info
        self.names = cell_names(info.path)  # a notebook cell's inputs, None for a script
        self._env = trial_env()

    def __call__(self, spec: TrialSpec, cancel: CancelToken, on_line: Callable[[str], None]) -> TrialOutcome:
        copy = os.path.join(spec.run_dir, "sourcecode", self.info.name)
        argv = script_mod.command(self.info, spec.flags, copy, os.path.join(spec.run_dir, script_mod.SPEC_FILE),
                                  self.names)
        code, killed = run_group(argv, spec.run_dir, self._env, on_line, cancel, spec.timeout,
                                 on_spawn=lambda pid: owner.write_trial_pid(spec.run_dir, pid))
        if not os.path.isdir(spec.run_dir):  # the script deleted it: nothing of the run is left to trust
            return TrialOutcome(exit_code=None, killed=killed, reason="its run directory was deleted while it ran")
        return TrialOutcome(exit_code=code, killed=killed)
