"""A stored batch's results as the read model gives them: a ``BatchSnapshot`` rebuilt from its
manifest (the plan) and its runs, for views of batches that ran earlier (``hpw plot``)."""

from __future__ import annotations

from typing import Any

from hpwidgets.core.errors import OptionError
from hpwidgets.core.results.read_model import BatchSnapshot, BatchState
from hpwidgets.core.results.refs import SelectionError
from hpwidgets.core.run.batch import load_manifest
from hpwidgets.core.search.plan import RunOptions, build_plan
from hpwidgets.core.store.runstore import Store


def stored_snapshot(store: Store, ref: str | None = None) -> BatchSnapshot:
    """The snapshot of batch ``ref`` (an id or its first characters; None: the newest batch)."""
    if ref is None:
        from hpwidgets.core.results.batch_info import batches

        found = [b for b in batches(store) if b.manifest]
        if not found:
            raise SelectionError(f"no batch to show: the store {store.root} holds none yet (run a search first)")
        ref = found[0].id
    try:
        batch_id = store.resolve_batch(ref)
    except OptionError as exc:  # named positionally here, not by --batch: a usage error
        raise SelectionError(f"Invalid value for BATCH: {ref!r} (accepted: {exc.accepted})") from None
    manifest = load_manifest(store, batch_id)
    runs = store.runs(batch=batch_id)
    known: dict[str, tuple[Any, type | None]] = {}
    for run in runs:
        for name, value in run.flags.items():
            known.setdefault(name, (value, type(value)))
    plan = build_plan(manifest["operation"], known, manifest["flags"], RunOptions(**manifest["options"]))
    return BatchState(plan, runs).snapshot()
