"""Which runs a reading command asks for, as SQL over the index and as a test on a record.

A ``RunQuery`` is the store's side of a filter (core/results/filters.py turns the command
line's into one). ``where`` gives the SQL (fixed text, values bound as arguments), ``matches``
the same test on a record, for when the index cannot be used and runs are read from their
directories. ``ranking`` is ``records.rank`` as an ORDER BY: completed runs by value, then the
other finished ones by value, then the rest, each tier in the listing's order (newest first).
"""

from __future__ import annotations

import json
import math
import operator
from dataclasses import dataclass
from typing import Any

from hpwidgets.core.records import RunRecord, Status

LISTING_ORDER = "runs.started DESC, runs.id"  # newest first; a run without a start last
_FINISHED = tuple(s.value for s in Status if s.is_finished())
_UNFINISHED = (Status.PENDING, Status.RUNNING)
COMPARISONS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
               ">=": operator.ge}


@dataclass(frozen=True)
class ValueTest:
    """A run's flag (or scalar's last value) compared with a value: a number with numbers only,
    text with text only (a flag that is a list is compared as its JSON text); a run without it,
    or whose value is missing (NaN), never matches."""

    name: str
    op: str  # one of COMPARISONS
    value: int | float | str
    scalar: bool = False  # the scalar's last value, not the flag
    few: bool = False  # few runs pass it (few_sql): the runs are found from its side, not run by run

    def sql(self) -> tuple[str, list]:
        """The test as an SQL condition on the row ``runs``, and its arguments: the runs that
        pass, gathered once through the flags' (or scalars') index when they are few; else
        each run looked up as the listing meets it (a page ends as soon as it is full)."""
        if self.few:
            return f"runs.id IN (SELECT t.run {self._passing()})", [self.name, self.value]
        return f"EXISTS (SELECT 1 {self._passing()} AND t.run = runs.id)", [self.name, self.value]

    def _passing(self) -> str:
        kinds = "= 'text'" if isinstance(self.value, str) else "IN ('integer', 'real')"
        if self.scalar:
            return f"FROM scalars t WHERE t.key = ? AND typeof(t.last) {kinds} AND t.last {self.op} ?"
        return f"FROM flags t WHERE t.name = ? AND typeof(t.value) {kinds} AND t.value {self.op} ?"

    def few_sql(self, few: int) -> tuple[str, list]:
        """How many runs pass, counted up to ``few`` (a walk of the index that stops there)."""
        return f"SELECT COUNT(*) FROM (SELECT 1 {self._passing()} LIMIT ?)", [self.name, self.value, few]

    def holds(self, r: RunRecord) -> bool:
        values = r.scalars if self.scalar else r.flags
        if self.name not in values:
            return False
        value = stored_value(values[self.name])  # as the index holds it, so that both answer alike
        if isinstance(self.value, str) != isinstance(value, str) or value is None:
            return False
        return COMPARISONS[self.op](value, self.value)


def stored_value(value: Any) -> Any:
    """A flag or scalar as SQLite holds it: numbers and text as they are (NaN is no value),
    anything else as JSON text (a ranking that meets it falls back to Python's, see
    runstore.ranked)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is None or isinstance(value, (int, float, str)):
        return value
    return json.dumps(value)


@dataclass(frozen=True)
class RunQuery:
    batch: str | None = None  # a whole batch id
    batch_prefix: str | None = None  # the start of a batch id
    batches: tuple[str, ...] = ()  # whole batch ids: the run is in one of them
    operation: str | None = None  # a whole operation
    operations: tuple[str, ...] = ()  # the operation contains one of them
    labels: tuple[str, ...] = ()  # the label contains one of them
    unlabeled: bool = False
    tags: tuple[str, ...] = ()  # the run has one of them
    statuses: frozenset[Status] = frozenset()
    started_from: float | None = None  # inclusive
    started_before: float | None = None  # exclusive
    id_prefix: str | None = None
    values: tuple[ValueTest, ...] = ()  # every one holds

    def within(self, batches) -> RunQuery:
        """This query restricted to the runs of ``batches`` (whole ids)."""
        from dataclasses import replace

        kept = tuple(b for b in batches if not self.batches or b in self.batches)
        return replace(self, batches=kept or ("",))  # ("",): no batch has an empty id, so no run

    def unfinished(self) -> RunQuery:
        from dataclasses import replace

        return replace(self, statuses=frozenset(_UNFINISHED))

    def where(self) -> tuple[str, list]:
        """`` WHERE ...`` (or nothing) over the table ``runs``, and its arguments."""
        terms: list[str] = []
        args: list = []

        def any_of(template: str, values) -> None:
            terms.append("(" + " OR ".join([template] * len(values)) + ")")
            args.extend(values)

        if self.batch:
            terms.append("runs.batch = ?")
            args.append(self.batch)
        if self.batch_prefix:
            terms.append("substr(runs.batch, 1, ?) = ?")
            args += [len(self.batch_prefix), self.batch_prefix.lower()]
        if self.batches:
            terms.append(f"runs.batch IN ({','.join('?' * len(self.batches))})")
            args += list(self.batches)
        if self.operation:
            terms.append("+runs.operation = ?")  # as before runs_operation: a listing walks its own order
            args.append(self.operation)
        if self.operations:
            any_of("instr(runs.operation, ?) > 0", self.operations)
        if self.labels:
            any_of("instr(runs.label, ?) > 0", self.labels)
        if self.unlabeled:
            terms.append("runs.label = ''")
        if self.tags:
            marks = ",".join("?" * len(self.tags))
            terms.append(f"EXISTS (SELECT 1 FROM tags WHERE tags.run = runs.id AND tags.tag IN ({marks}))")
            args += list(self.tags)
        if self.statuses:
            terms.append(f"runs.status IN ({','.join('?' * len(self.statuses))})")
            args += sorted(s.value for s in self.statuses)
        if self.started_from is not None:
            terms.append("runs.started >= ?")
            args.append(self.started_from)
        if self.started_before is not None:
            terms.append("runs.started < ?")
            args.append(self.started_before)
        if self.id_prefix is not None:
            terms.append("substr(runs.id, 1, ?) = ?")
            args += [len(self.id_prefix), self.id_prefix.lower()]
        for test in self.values:
            term, more = test.sql()
            terms.append(term)
            args += more
        return (" WHERE " + " AND ".join(terms) if terms else ""), args

    def matches(self, r: RunRecord) -> bool:
        started = r.started
        return (
            (not self.batch or r.batch == self.batch)
            and (not self.batch_prefix or r.batch.startswith(self.batch_prefix.lower()))
            and (not self.batches or r.batch in self.batches)
            and (not self.operation or r.operation == self.operation)
            and (not self.operations or any(o in r.operation for o in self.operations))
            and (not self.labels or any(text in r.label for text in self.labels))
            and (not self.unlabeled or not r.label)
            and (not self.tags or any(t in r.tags for t in self.tags))
            and (not self.statuses or r.status in self.statuses)
            and (self.started_from is None or (started is not None and started >= self.started_from))
            and (self.started_before is None or (started is not None and started < self.started_before))
            and (self.id_prefix is None or r.id.startswith(self.id_prefix.lower()))
            and all(test.holds(r) for test in self.values)
        )


EVERY_RUN = RunQuery()


def records_sql(query: RunQuery, limit: int | None = None, offset: int = 0) -> tuple[str, list]:
    """The records ``query`` selects, in the listing's order, one page of them."""
    where, args = query.where()
    return f"SELECT data FROM runs{where} ORDER BY {LISTING_ORDER}{_page(limit, offset)}", args


def count_sql(query: RunQuery) -> tuple[str, list]:
    where, args = query.where()
    return f"SELECT COUNT(*) FROM runs{where}", args


def operations_sql(query: RunQuery) -> tuple[str, list]:
    """Each operation of the selected runs and how many there are."""
    where, args = query.where()
    return f"SELECT runs.operation, COUNT(*) FROM runs{where} GROUP BY runs.operation", args


def having_sql(query: RunQuery, operation: str, column: str) -> tuple[str, list]:
    """Whether a selected run of ``operation`` has ``column`` (a scalar with a value, or a flag):
    each EXISTS walks an index by name and stops at the first run it finds."""
    where, args = query.where()
    more = where.replace(" WHERE ", " AND ", 1)
    # "+runs.operation": walk the column's name, never the operation's runs (runs_operation would
    # make an absent column's EXISTS visit every run of the script)
    scalar = f"SELECT 1 FROM scalars s JOIN runs ON runs.id = s.run WHERE s.key = ? AND s.last IS NOT NULL AND +runs.operation = ?{more}"
    flag = f"SELECT 1 FROM flags f JOIN runs ON runs.id = f.run WHERE f.name = ? AND +runs.operation = ?{more}"
    return f"SELECT EXISTS ({scalar}) OR EXISTS ({flag})", [column, operation, *args, column, operation, *args]


def ranking_sql(query: RunQuery, column: str, descending: bool, limit: int | None) -> tuple[str, list]:
    """``records.rank`` by ``column`` (a scalar, else a flag of that name, as ``sort_value``)."""
    where, args = query.where()
    value = "(CASE WHEN s.run IS NOT NULL THEN s.last ELSE f.value END)"
    finished = ",".join("?" * len(_FINISHED))
    tier = (f"(CASE WHEN {value} IS NULL OR runs.status NOT IN ({finished}) THEN 2 "
            "WHEN runs.status = 'completed' THEN 0 ELSE 1 END)")
    sql = (f"SELECT runs.data FROM runs LEFT JOIN scalars s ON s.run = runs.id AND s.key = ? "
           f"LEFT JOIN flags f ON f.run = runs.id AND f.name = ?{where} "
           f"ORDER BY {tier}, (CASE WHEN {tier} < 2 THEN {value} END) {'DESC' if descending else 'ASC'}, "
           f"{LISTING_ORDER}{_page(limit, 0)}")
    return sql, [column, column, *args, *_FINISHED, *_FINISHED]


def scalar_ranking_sql(query: RunQuery, column: str, descending: bool, limit: int | None) -> tuple[str, list]:
    """``records.rank``'s first two tiers by a scalar that no selected run has as a flag: one
    walk of the scalars index, stopped at ``limit``."""
    where, args = query.where()
    sql = (f"SELECT runs.data FROM scalars s JOIN runs ON runs.id = s.run "
           f"WHERE s.key = ? AND s.tier < 2{where.replace(' WHERE ', ' AND ', 1)} "
           f"ORDER BY s.tier, s.last {'DESC' if descending else 'ASC'}, s.started DESC, s.run{_page(limit, 0)}")
    return sql, [column, *args]


def unranked_sql(query: RunQuery, column: str, limit: int | None) -> tuple[str, list]:
    """The selected runs ``records.rank`` puts last (no finished value of ``column``), in order."""
    where, args = query.where()
    missing = "NOT EXISTS (SELECT 1 FROM scalars s WHERE s.run = runs.id AND s.key = ? AND s.tier < 2)"
    where = f"{where} AND {missing}" if where else f" WHERE {missing}"
    return f"SELECT data FROM runs{where} ORDER BY {LISTING_ORDER}{_page(limit, 0)}", [*args, column]


def names_sql(query: RunQuery, table: str) -> tuple[str, list]:
    """The flag (``flags``) or scalar (``scalars``) names the selected runs have."""
    name = {"flags": "name", "scalars": "key"}[table]
    if query == EVERY_RUN:
        return f"SELECT DISTINCT {name} FROM {table}", []
    where, args = query.where()
    return f"SELECT DISTINCT t.{name} FROM {table} t JOIN runs ON runs.id = t.run{where}", args


def column_kinds_sql(query: RunQuery, column: str) -> tuple[str, list]:
    """Whether any selected run has ``column`` (as a scalar or a flag), and whether any of its
    flag values is text (then only Python's ranking, which compares text, is exact)."""
    where, args = query.where()
    scalar = f"EXISTS (SELECT 1 FROM runs JOIN scalars s ON s.run = runs.id AND s.key = ?{where})"
    flag = f"EXISTS (SELECT 1 FROM runs JOIN flags f ON f.run = runs.id AND f.name = ?{where})"
    text = (f"EXISTS (SELECT 1 FROM runs JOIN flags f ON f.run = runs.id AND f.name = ? "
            f"AND typeof(f.value) = 'text'{where.replace(' WHERE ', ' AND ', 1)})")
    return f"SELECT {scalar}, {flag}, {text}", [column, *args, column, *args, column, *args]


def batch_groups_sql(query: RunQuery, limit: int | None = None, offset: int = 0,
                     prefix: str | None = None) -> tuple[str, list]:
    """The batches that have runs among those ``query`` selects (and more than one trial), newest
    first by their manifest's creation (else their first run's start): each id with its
    manifest's text (None without one). ``prefix``: only batches whose id starts so."""
    sql, args = _groups(query, prefix)
    return f"SELECT g.batch, m.data{sql} ORDER BY g.sort_at DESC, g.batch{_page(limit, offset)}", args


def batch_count_sql(query: RunQuery, prefix: str | None = None) -> tuple[str, list]:
    sql, args = _groups(query, prefix)
    return f"SELECT COUNT(*){sql}", args


def _groups(query: RunQuery, prefix: str | None) -> tuple[str, list]:
    if query == EVERY_RUN:  # every run: the summaries the index keeps (index.py, batch_sums), in order
        where, args = ("", []) if prefix is None else (" AND substr(g.batch, 1, ?) = ?", [len(prefix), prefix.lower()])
        return (" FROM batch_sums g LEFT JOIN manifests m ON m.id = g.batch "
                f"WHERE ((CASE WHEN g.total THEN g.total ELSE g.n END) > 1 OR g.n > 1){where}"), args
    where, args = query.where()
    if prefix is not None:
        where += (" AND " if where else " WHERE ") + "substr(runs.batch, 1, ?) = ?"
        args += [len(prefix), prefix.lower()]
    groups = (f"SELECT runs.batch AS batch, COUNT(*) AS n, MIN(runs.started) AS first FROM runs{where} "
              "GROUP BY runs.batch")
    # a batch's total is its manifest's (when it gives one), else its runs' count
    return (f" FROM (SELECT q.*, COALESCE(NULLIF(m.created, 0), q.first, 0) AS sort_at FROM ({groups}) q "
            "LEFT JOIN manifests m ON m.id = q.batch) g LEFT JOIN manifests m ON m.id = g.batch "
            "WHERE (CASE WHEN m.total THEN m.total ELSE g.n END) > 1 OR g.n > 1"), args


def _page(limit: int | None, offset: int) -> str:
    text = f" LIMIT {int(limit)}" if limit else (" LIMIT -1" if offset else "")
    return text + (f" OFFSET {int(offset)}" if offset else "")
