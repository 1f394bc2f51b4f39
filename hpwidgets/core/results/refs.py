"""Run references: Guild's list indexes (``1``, ``2:5``) and id prefixes, with one rule for a
reference that could be either.

The rule (README, "Run references"):

- ``N``, ``N:M``, ``N:``, ``:M`` (digits) are positions in the listing the command works on
  (``hpw runs`` numbers it, 1 = newest; ``2:5`` is 2, 3, 4 and 5) whenever they are in range.
  Anything else is the start of a run id (a whole id is always an id).
- Digits out of range could be the start of an id. Reading commands follow Guild and use the
  id; a destructive command (delete, purge) acts on no such reference: it stops and names the
  run the id would give, so that a mistyped index never deletes a run by its id.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hpwidgets.core.errors import HpwError
from hpwidgets.core.records import RunRecord
from hpwidgets.core.store.listing import PagedListing

_SLICE = re.compile(r"^(\d*):(\d*)$")
ACCEPTED = "a list index such as 1, a range such as 2:5, or the first characters of a run id"


class SelectionError(HpwError):
    """A run, column or filter named by the user does not exist or is ambiguous (a usage error)."""


def _index_range(ref: str) -> tuple[int, int] | None:
    """The 1-based inclusive range a reference names as an index, or None when it is no index."""
    if ref.isdigit():
        return int(ref), int(ref)
    m = _SLICE.match(ref)
    if not m or ref == ":":
        return None if not m else (1, 0)  # ":" alone: everything (end filled in by the caller)
    return int(m.group(1) or 1), int(m.group(2)) if m.group(2) else 0


def _by_prefix(ref: str, records: Sequence[RunRecord]) -> tuple[list[RunRecord], int]:
    """Up to five runs (or batches) whose id starts with ``ref`` and how many there are (one
    query when they are a listing of the store)."""
    if isinstance(records, PagedListing):
        return records.starting(ref.lower(), 5)
    found = [r for r in records if r.id.startswith(ref.lower())]
    return found[:5], len(found)


def resolve(records: Sequence[RunRecord], refs: Sequence[str], destructive: bool = False) -> list[RunRecord]:
    """The runs ``refs`` name in ``records`` (the listing, newest first), in the order named,
    each once. Every reference resolves before any is returned."""
    chosen: dict[str, RunRecord] = {}
    for ref in refs:
        for record in _resolve_one(records, ref, destructive):
            chosen.setdefault(record.id, record)
    return list(chosen.values())


def _resolve_one(records: Sequence[RunRecord], ref: str, destructive: bool) -> list[RunRecord]:
    if not ref:
        raise SelectionError(f"Empty run reference (accepted: {ACCEPTED})")
    span = _index_range(ref)
    if span is not None:
        start, end = span
        if end:  # a bounded range is in the listing when its last position is (a listing reads one run)
            if 1 <= start <= end and records[end - 1:end]:
                return list(records[start - 1:end])
        elif 1 <= start <= len(records):
            return list(records[start - 1:])
    by_id, matching = _by_prefix(ref, records) if ref.isdigit() or span is None else ([], 0)
    if span is not None:
        if by_id and destructive:
            raise SelectionError(
                f"Run reference '{ref}' is ambiguous: list index {ref} is out of range (1-{len(records)}), and it is "
                f"also the start of run id {by_id[0].short_id}; give the id up to a letter (or whole) to name that run")
        if not by_id:
            count = len(records)
            where = f"1-{count}" if count else "the listing is empty"
            raise SelectionError(f"Run index '{ref}' is out of range ({where}) (accepted: {ACCEPTED})")
    if not by_id:
        raise SelectionError(f"No run matches '{ref}' (accepted: {ACCEPTED})")
    if matching > 1:
        ids = ", ".join(r.short_id for r in by_id[:5])
        raise SelectionError(f"Run id '{ref}' is ambiguous: it starts {matching} runs ({ids}); give more characters")
    return by_id
