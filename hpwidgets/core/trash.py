"""The trash inside the store (Guild's semantics): ``runs rm`` moves runs there, ``runs restore``
brings them back, ``runs purge`` deletes them for good.

Layout: ``<store>/trash/runs/<id>/``, the run's directory as it was. The index never holds
trashed runs; the trash is read from its directories (it is small and rarely listed).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence

from .errors import StoreError
from .records import RunRecord
from .store import Store


def trash_dir(store: Store) -> str:
    return os.path.join(store.root, "trash", "runs")


def _ensure(path: str) -> str:
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _check_finished(records: Sequence[RunRecord]) -> None:
    for rec in records:
        if not rec.status.is_finished():
            raise StoreError(f"Run {rec.short_id} is {rec.status.value}: stop it before deleting it")


def move_to_trash(store: Store, records: Sequence[RunRecord]) -> list[RunRecord]:
    """Move finished runs into the trash; nothing moves when one of them is still running."""
    _check_finished(records)
    _ensure(os.path.dirname(trash_dir(store)))
    target = _ensure(trash_dir(store))
    moved = []
    for rec in records:
        dest = os.path.join(target, rec.id)
        if os.path.exists(dest):  # deleted before, then rebuilt from a copy: keep the newest
            shutil.rmtree(dest)
        os.replace(store.run_dir(rec.id), dest)
        moved.append(rec)
        store.forget([rec.id])
    return moved


def delete_permanently(store: Store, records: Sequence[RunRecord]) -> list[RunRecord]:
    _check_finished(records)
    return store.delete([r.id for r in records])


def trashed(store: Store) -> list[RunRecord]:
    """Runs in the trash, newest first (the order their list indexes follow)."""
    path = trash_dir(store)
    if not os.path.isdir(path):
        return []
    records = []
    for name in os.listdir(path):
        try:
            with open(os.path.join(path, name, "run.json"), encoding="utf-8") as fh:
                records.append(RunRecord.from_json(json.load(fh)))
        except (OSError, ValueError, TypeError):
            continue  # a directory being moved right now
    records.sort(key=lambda r: r.id)
    records.sort(key=lambda r: -(r.started or 0.0))
    return records


def restore(store: Store, records: Sequence[RunRecord]) -> list[RunRecord]:
    """Move runs from the trash back into the store and its index."""
    for rec in records:
        if os.path.exists(store.run_dir(rec.id)):
            raise StoreError(f"Run {rec.short_id} is already in the store; not restored")
    for rec in records:
        os.replace(os.path.join(trash_dir(store), rec.id), store.run_dir(rec.id))
        store.save(rec)  # back into the index
    return list(records)


def purge(store: Store, records: Sequence[RunRecord]) -> list[RunRecord]:
    """Delete runs from the trash for good."""
    for rec in records:
        shutil.rmtree(os.path.join(trash_dir(store), rec.id), ignore_errors=True)
    return list(records)
