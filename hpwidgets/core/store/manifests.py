"""Batch manifests: the one place a manifest is written or read, and turned back into a plan.

A batch's manifest (``<store>/batches/<id>.json``, written when it starts) holds what prepares
the batch again: its script, the flags as given, the run options (with the seed it drew) and
the source hash of the script it ran. ``--resume``, the detached supervisor, a watcher, ``hpw
plot`` and ``hpw batches`` all read it through here, and only through the store's safety
checks (core/store/safety.py): a manifest we did not write, or one another user can change, is
refused, never trusted.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from typing import Any

from hpwidgets.core.errors import OptionError, StoreError
from hpwidgets.core.records import RunRecord
from hpwidgets.core.run.scripts import inspect_script
from hpwidgets.core.search.plan import BatchPlan, RunOptions, build_plan
from hpwidgets.core.search.run_options import from_manifest
from hpwidgets.core.store import safety
from hpwidgets.core.store.runstore import Store, write_private


def path_of(store: Store, batch_id: str) -> str:
    return os.path.join(store.batches_dir, f"{batch_id}.json")


def write(store: Store, plan: BatchPlan, batch_id: str, *, script: str | None, source_hash: str | None,
          flags: dict[str, Any], options: dict[str, Any], names_hash: str | None = None) -> None:
    """Record what ``--resume`` needs to run the rest of the batch later: ``flags`` as given and
    ``options`` as JSON; the plan's seed is kept so that a resumed batch draws the same points;
    ``names_hash``: a ``%%hprun`` cell's names file (core/run/cell_scripts.py) its trials took."""
    folder = store.batches_dir
    try:
        safety.private_dir(folder)
    except OSError as exc:
        raise StoreError.writing(exc, folder) from None
    data = {"id": batch_id, "operation": plan.operation, "total": plan.total, "optimizer": plan.optimizer,
            "script": script, "source_hash": source_hash, "names_hash": names_hash, "flags": flags,
            "options": {**options, "random_seed": plan.seed}, "created": time.time()}
    write_private(path_of(store, batch_id), json.dumps(data).encode())


def load(store: Store, ref: str, option: str = "resume") -> dict[str, Any]:
    """The manifest of the batch ``ref`` names; ``option`` names what gave it in errors."""
    batch_id = store.resolve_batch(ref, option=option)
    path = path_of(store, batch_id)
    if not os.path.lexists(path):
        raise OptionError(option, ref, "a batch that hpwidgets started and recorded (this one has no manifest)")
    return _read(path, batch_id, f"Cannot {option} from {path}")


def _read(path: str, batch_id: str, failure: str) -> dict[str, Any]:
    try:
        data = json.loads(safety.read_private(path))  # ours and private, or refused
    except ValueError as exc:
        raise StoreError(f"{failure}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("id") != batch_id or not isinstance(data.get("options"), dict):
        raise StoreError(f"{failure}: not a batch manifest of batch {batch_id}")
    return data


def load_all(store: Store) -> dict[str, dict[str, Any]]:
    """Every readable manifest by batch id, for listings: one that is unsafe or unreadable is left
    out with one line on stderr (``safety.report``), never read with a bare ``open()``."""
    folder = store.batches_dir
    found = {}
    for name in os.listdir(folder) if os.path.isdir(folder) else []:
        if not name.endswith(".json"):
            continue
        batch_id = name[:-5]
        path = os.path.join(folder, name)
        try:
            found[batch_id] = _read(path, batch_id, "not listed")
        except (OSError, StoreError) as exc:
            safety.report(path, str(exc))
    return found


def planned_total(manifest: dict[str, Any], runs: Iterable[RunRecord]) -> int:
    """The trials a batch planned: its manifest's total, else the runs it has."""
    return int(manifest.get("total") or len(list(runs)))


def run_options(manifest: dict[str, Any]) -> RunOptions:
    """The run options the batch was prepared with (its seed included); one written before an
    option existed takes its default."""
    return from_manifest(manifest["options"])


def known_flags(runs: Iterable[RunRecord]) -> dict[str, tuple[Any, type | None]]:
    """The flags of a batch's runs as a script's flags read (name -> (value, type)): a stored
    batch's plan without its script, which may have changed or gone since."""
    known: dict[str, tuple[Any, type | None]] = {}
    for run in runs:
        for name, value in run.flags.items():
            known.setdefault(name, (value, type(value)))
    return known


def plan_of(manifest: dict[str, Any], known: dict[str, tuple[Any, type | None]] | None = None,
            option: str = "BATCH") -> BatchPlan:
    """The batch's plan again: same flags as given, same options, same seed. ``known`` are the
    script's flags (``name -> (default, type)``): read from its script now when None (a watcher),
    or taken from its runs (``known_flags``: a stored batch whose script may have changed)."""
    if known is None:
        script = manifest.get("script")
        if not script:
            raise OptionError(option, manifest["id"][:8], "a batch of a script (a function's batch keeps no "
                                                          "record to watch: it runs in its kernel)")
        known = {n: (f.default, f.type) for n, f in inspect_script(script).flags.items()}
    return build_plan(manifest["operation"], known, manifest["flags"], run_options(manifest))
