"""The trash inside the store (Guild's semantics): ``runs rm`` moves runs there, ``runs restore``
brings them back, ``runs purge`` deletes them for good.

Layout: ``<store>/trash/runs/<id>/``, the run's directory as it was. The index never holds
trashed runs; the trash is read from its directories (it is small and rarely listed), with the
same checks as the store's own (ours, private, no symlinks, ids that are ids).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence

from hpwidgets.core.errors import StoreError
from hpwidgets.core.records import RunRecord
from hpwidgets.core.store import safety
from hpwidgets.core.store.run_files import read_record
from hpwidgets.core.store.runstore import Store


def trash_dir(store: Store) -> str:
    return os.path.join(store.root, "trash", "runs")


def _run_in_trash(store: Store, record: RunRecord) -> str:
    if not safety.is_id(record.id):
        raise StoreError(f"{record.id!r} is not a run id (accepted: 32 hexadecimal digits)")
    return os.path.join(trash_dir(store), record.id)


def _check_finished(records: Sequence[RunRecord]) -> None:
    for rec in records:
        if not rec.status.is_finished():
            raise StoreError(f"Run {rec.short_id} is {rec.status.value}: stop it before deleting it")


def move_to_trash(store: Store, records: Sequence[RunRecord]) -> list[RunRecord]:
    """Move finished runs into the trash; nothing moves when one of them is still running."""
    _check_finished(records)
    safety.private_dir(os.path.dirname(trash_dir(store)))
    safety.private_dir(trash_dir(store))
    for rec in records:
        safety.check(store.run_dir(rec.id))  # never move a planted link
    for rec in records:
        dest = _run_in_trash(store, rec)
        if os.path.lexists(dest):  # trashed before and made again (a rebuilt copy): keep the newest
            safety.check(dest)
            shutil.rmtree(dest)
        os.replace(store.run_dir(rec.id), dest)
    store.forget([r.id for r in records])
    return list(records)


def delete_permanently(store: Store, records: Sequence[RunRecord]) -> list[RunRecord]:
    _check_finished(records)
    return store.delete([r.id for r in records])


def trashed(store: Store) -> list[RunRecord]:
    """Runs in the trash, newest first (the order their list indexes follow)."""
    path = trash_dir(store)
    if not os.path.isdir(path):
        return []
    safety.check(os.path.dirname(path))
    safety.check(path)
    names = [n for n in os.listdir(path) if safety.is_id(n)]
    records = [r for r in (read_record(path, n) for n in names) if r is not None]
    records.sort(key=lambda r: r.id)
    records.sort(key=lambda r: -(r.started or 0.0))
    return records


def restore(store: Store, records: Sequence[RunRecord]) -> list[RunRecord]:
    """Move runs from the trash back into the store."""
    for rec in records:
        if os.path.lexists(store.run_dir(rec.id)):
            raise StoreError(f"Run {rec.short_id} is already in the store; not restored")
        safety.check(_run_in_trash(store, rec))
    for rec in records:  # a rename, nothing written: it works on a full disk too
        os.replace(_run_in_trash(store, rec), store.run_dir(rec.id))
    return list(records)  # the index takes them back when it next matches runs/


def purge(store: Store, records: Sequence[RunRecord]) -> list[RunRecord]:
    """Delete runs from the trash for good."""
    for rec in records:
        safety.check(_run_in_trash(store, rec))  # rmtree never follows a planted link
    for rec in records:
        shutil.rmtree(_run_in_trash(store, rec), ignore_errors=True)
    return list(records)
