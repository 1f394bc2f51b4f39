"""A listing of runs read a page at a time: what ``hpw runs``, ``runs info N`` and ``compare``
count and index (1 = newest) without decoding every record of the store."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, overload

from hpwidgets.core.records import RunRecord
from hpwidgets.core.store.query import RunQuery


class Reader(Protocol):
    """The store's reading queries (runstore.Store)."""

    def select(self, query: RunQuery = ..., limit: int | None = None, offset: int = 0) -> list[RunRecord]: ...

    def count(self, query: RunQuery = ...) -> int: ...

    def ranked(self, query: RunQuery, column: str, descending: bool = False,
               limit: int | None = None) -> list[RunRecord] | None: ...


class RunListing(Sequence[RunRecord]):
    """The runs a query selects, newest first. ``len`` is one COUNT, an index or a slice one
    page; iterating reads them all. Each access asks the store again (it is never stale)."""

    def __init__(self, store: Reader, query: RunQuery) -> None:
        self.store, self.query = store, query

    def __len__(self) -> int:
        return self.store.count(self.query)

    @overload
    def __getitem__(self, index: int) -> RunRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[RunRecord]: ...

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.start or 0, index.stop, index.step or 1
            if start < 0 or (stop is not None and stop < 0) or step != 1:
                return list(self)[index]
            if stop is not None and stop <= start:
                return []
            return self.store.select(self.query, None if stop is None else stop - start, start)
        found = self.store.select(self.query, 1, index) if index >= 0 else list(self)[index:index + 1 or None]
        if not found:
            raise IndexError(index)
        return found[0]

    def __iter__(self) -> Iterator[RunRecord]:
        return iter(self.store.select(self.query))

    def starting(self, prefix: str, most: int) -> tuple[list[RunRecord], int]:
        """The first ``most`` runs whose id starts with ``prefix``, and how many there are."""
        from dataclasses import replace

        narrowed = replace(self.query, id_prefix=prefix)
        return self.store.select(narrowed, most), self.store.count(narrowed)

    def ranked(self, column: str, descending: bool, limit: int | None) -> list[RunRecord] | None:
        return self.store.ranked(self.query, column, descending, limit)
