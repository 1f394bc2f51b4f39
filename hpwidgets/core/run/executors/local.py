"""Trials of a script, each in a fresh Python subprocess on this machine."""

from __future__ import annotations

import os
from collections.abc import Callable

from hpwidgets.core.processes import owners
from hpwidgets.core.run import scripts as script_mod
from hpwidgets.core.run.cancel import CancelToken
from hpwidgets.core.run.executors.subprocess_group import run_group
from hpwidgets.core.run.scripts import ScriptInfo
from hpwidgets.core.run.trial import TrialOutcome, TrialRunner, TrialSpec
from hpwidgets.core.store.run_files import write_private


def trial_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"  # lines reach us as printed, so the dashboard is live
    return env


NAMES_FILE = "names.pkl"  # in the run directory: the notebook values a %%hprun trial unpickles


class ScriptRunner(TrialRunner):
    def __init__(self, info: ScriptInfo, names: bytes | None = None) -> None:
        self.info = info
        self.names = names  # a notebook cell's inputs (cell_scripts.read_names), None for a script
        self._env = trial_env()

    def __call__(self, spec: TrialSpec, cancel: CancelToken, on_line: Callable[[str], None]) -> TrialOutcome:
        copy = os.path.join(spec.run_dir, "sourcecode", self.info.name)
        names = None
        if self.names is not None:  # the bytes checked and hashed when the batch was prepared, in its own run
            names = os.path.join(spec.run_dir, NAMES_FILE)
            write_private(names, self.names)
        argv = script_mod.command(self.info, spec.flags, copy, os.path.join(spec.run_dir, script_mod.SPEC_FILE),
                                  names)
        try:
            code, killed = run_group(argv, spec.run_dir, self._env, on_line, cancel, spec.timeout,
                                     on_spawn=lambda pid: owners.write_trial_pid(spec.run_dir, pid))
        finally:
            if names is not None and os.path.exists(names):  # read: the notebook's values need no second copy
                os.unlink(names)
        if not os.path.isdir(spec.run_dir):  # the script deleted it: nothing of the run is left to trust
            return TrialOutcome(exit_code=None, killed=killed, reason="its run directory was deleted while it ran")
        return TrialOutcome(exit_code=code, killed=killed)
