"""Trials of a script, each in a fresh Python subprocess on this machine."""

from __future__ import annotations

import os
from collections.abc import Callable

from hpwidgets.core.processes import owners
from hpwidgets.core.run import scripts as script_mod
from hpwidgets.core.run.cancel import CancelToken
from hpwidgets.core.run.cell_scripts import cell_names
from hpwidgets.core.run.executors.subprocess_group import run_group
from hpwidgets.core.run.scripts import ScriptInfo
from hpwidgets.core.run.trial import TrialOutcome, TrialRunner, TrialSpec


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
                                 on_spawn=lambda pid: owners.write_trial_pid(spec.run_dir, pid))
        if not os.path.isdir(spec.run_dir):  # the script deleted it: nothing of the run is left to trust
            return TrialOutcome(exit_code=None, killed=killed, reason="its run directory was deleted while it ran")
        return TrialOutcome(exit_code=code, killed=killed)
