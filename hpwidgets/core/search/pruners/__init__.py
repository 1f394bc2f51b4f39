"""Early stopping: pruners that stop unpromising trials as their objective is reported.

``--prune median`` or ``--prune asha``, with settings as ``-Fp NAME=VALUE`` (``hp.run(...,
prune="asha", prune_flags={"reduction": 3})``).
"""

from __future__ import annotations

from collections.abc import Mapping

from hpwidgets.core.errors import OptionError
from hpwidgets.core.search.pruners.asha import AshaPruner
from hpwidgets.core.search.pruners.base import Pruner, Pruning
from hpwidgets.core.search.pruners.median import MedianPruner

__all__ = ["AshaPruner", "MedianPruner", "NAMES", "Pruner", "Pruning", "make"]

NAMES: dict[str, type[Pruner]] = {"median": MedianPruner, "asha": AshaPruner}


def make(name: str | None, settings: Mapping[str, str] | None = None) -> Pruner | None:
    """The pruner ``name`` with its settings checked; None when nothing is pruned."""
    if name is None:
        if settings:
            item = next(iter(settings))
            raise OptionError("prune_flags", f"{item}={settings[item]}", "settings of a pruner chosen with {0}",
                              item=item, mentions=("prune",))
        return None
    if not isinstance(name, str) or name not in NAMES:
        raise OptionError("prune", name, " or ".join(NAMES))
    return NAMES[name].from_settings(settings or {})
