"""A stored batch's results as the read model gives them: a ``BatchSnapshot`` rebuilt from its
manifest (its plan: core/store/manifests.py) and its runs, for views of batches that ran
earlier (``hpw plot``)."""

from __future__ import annotations

from hpwidgets.core.errors import OptionError
from hpwidgets.core.results.read_model import BatchSnapshot, BatchState
from hpwidgets.core.results.refs import SelectionError
from hpwidgets.core.store import manifests
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
    manifest = manifests.load(store, batch_id)
    runs = store.runs(batch=batch_id)
    return BatchState(manifests.plan_of(manifest, manifests.known_flags(runs)), runs).snapshot()
