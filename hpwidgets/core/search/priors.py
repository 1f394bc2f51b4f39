"""Earlier runs a Bayesian search may take as observations: Guild's ``prev-trials`` flag.

The default is Guild's: ``batch``, a new batch starts with no priors. ``sourcecode`` (runs of
the same script source or function code) and ``operation`` (runs of the same script name) are
asked for with ``-Fo prev-trials=...``; a batch that uses priors says how many and shows them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hpwidgets.core.errors import OptionError
from hpwidgets.core.records import RunRecord, Status
from hpwidgets.core.search.space import in_space

if TYPE_CHECKING:
    from hpwidgets.core.search.plan import BatchPlan
    from hpwidgets.core.store.runstore import Store

MODES = ("batch", "sourcecode", "operation")
DEFAULT = "batch"


def mode_of(opt_flags: dict[str, str]) -> str:
    """The ``prev-trials`` mode the optimizer flags ask for (checked)."""
    mode = opt_flags.get("prev-trials", DEFAULT)
    if mode not in MODES:
        raise OptionError("opt_flags", mode, ", ".join(MODES), item="prev-trials")
    return mode


def find_priors(store: Store, plan: BatchPlan, source_hash: str | None) -> list[RunRecord]:
    """Earlier completed runs inside the plan's space that its optimizer may observe."""
    mode = mode_of(plan.opt_flags)
    if mode == "batch" or not plan.is_bayesian:
        return []
    found = []
    for rec in store.runs(operation=plan.operation):
        if rec.status is not Status.COMPLETED or rec.objective != plan.objective.name:
            continue
        if mode == "sourcecode" and rec.source_hash != source_hash:
            continue
        if plan.objective.value(rec) is not None and in_space(plan.space, plan.fixed, rec.flags):
            found.append(rec)
    return found
