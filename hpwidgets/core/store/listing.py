"""Listings read a page at a time: what ``hpw runs``, ``runs info N``, ``compare`` and
``hpw batches`` count and index (1 = newest) without decoding every record of the store."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any, Generic, Protocol, TypeVar, overload

from hpwidgets.core.records import RunRecord
from hpwidgets.core.store.query import RunQuery

T = TypeVar("T")
PAGE = 500  # items read at once when a listing is iterated whole


class Reader(Protocol):
    """The store's reading queries (runstore.Store)."""

    def select(self, query: RunQuery = ..., limit: int | None = None, offset: int = 0) -> list[RunRecord]: ...

    def count(self, query: RunQuery = ...) -> int: ...

    def ranked(self, query: RunQuery, column: str, descending: bool = False,
               limit: int | None = None) -> list[RunRecord] | None: ...

    def batch_groups(self, query: RunQuery, limit: int | None = None, offset: int = 0) -> list[tuple[str, Any]]: ...

    def batch_count(self, query: RunQuery) -> int: ...


class PagedListing(Sequence[T], Generic[T]):
    """Items a query selects, in its order. ``len`` is one COUNT, an index or a slice one page;
    iterating reads page after page. Each access asks the store again (never stale)."""

    def __init__(self, store: Reader, query: RunQuery) -> None:
        self.store, self.query = store, query

    def page(self, limit: int | None, offset: int) -> list[T]:
        raise NotImplementedError

    def starting(self, prefix: str, most: int) -> tuple[list[T], int]:
        """The first ``most`` items whose id starts with ``prefix``, and how many there are."""
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def __bool__(self) -> bool:
        return bool(self.page(1, 0))  # one item read, not a count

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.start or 0, index.stop, index.step or 1
            if start < 0 or (stop is not None and stop < 0) or step != 1:
                return list(self)[index]
            if stop is not None and stop <= start:
                return []
            return self.page(None if stop is None else stop - start, start)
        found = self.page(1, index) if index >= 0 else list(self)[index:index + 1 or None]
        if not found:
            raise IndexError(index)
        return found[0]

    def __iter__(self) -> Iterator[T]:
        offset = 0
        while True:
            found = self.page(PAGE, offset)
            yield from found
            if len(found) < PAGE:
                return
            offset += PAGE


class RunListing(PagedListing[RunRecord]):
    """The runs a query selects, newest first."""

    def page(self, limit: int | None, offset: int) -> list[RunRecord]:
        return self.store.select(self.query, limit, offset)

    def __len__(self) -> int:
        return self.store.count(self.query)

    def __iter__(self) -> Iterator[RunRecord]:
        return iter(self.store.select(self.query))  # one query: a listing's order is stable within it

    def starting(self, prefix: str, most: int) -> tuple[list[RunRecord], int]:
        narrowed = replace(self.query, id_prefix=prefix)
        return self.store.select(narrowed, most), self.store.count(narrowed)

    def ranked(self, column: str, descending: bool, limit: int | None) -> list[RunRecord] | None:
        return self.store.ranked(self.query, column, descending, limit)
