"""The SQLite index of a run store: a cache of the run directories, never the truth.

Tables (schema 6): ``runs`` holds what is filtered and sorted (batch, operation, status, started,
label), the record's JSON (``data``, decoded only for the rows a query returns) and the identity
of its ``run.json`` (mtime, size, inode: a run whose file changed is read again, see runstore.py);
``scalars`` holds each run's last value and step per key, ``flags`` its flag values and ``tags``
its tags, each indexed by name so that a filter or an ORDER BY reads no record; ``manifests``
holds each batch's manifest (its text, created, total, and its file's identity) and ``meta``
the mtime of runs/ and batches/ when the index last matched their listings; ``batch_sums`` each
batch's count of runs, first start and manifest's figures (kept by triggers on every write); ``skipped`` the run
directories listed whose record could not be used (read again, and named, at each read). WAL mode with a busy timeout lets many processes write at once. Opening, migrating and
repairing happen while holding an exclusive ``flock`` on ``<index>.lock``, so a fresh store opened
by many processes at once is set up by one of them and the others wait. An index that is corrupt,
truncated or not ours is moved aside (``<index>.bad-N``) and rebuilt from the run directories,
with one line on stderr saying so. An index replaced or deleted by another process is reopened.

A rebuild is one transaction (a crash leaves the index as it was, or a new file without tables,
built again by the next reader): the run directories are read in id order, by worker processes
when there are many (scan.py), each table's rows appended in key order, then the batch
summaries filled by one GROUP BY and the indexes and triggers built once over every row.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hpwidgets.core.errors import StoreError
from hpwidgets.core.records import RunRecord, Status
from hpwidgets.core.store import safety
from hpwidgets.core.store.query import stored_value

SCHEMA_VERSION = 6
# compare's scope counts the runs of each script: a covering index makes that GROUP BY 35 ->
# 4 ms at 100,000 runs. Added after schema 6 shipped, so an index of that schema gets it when
# opened, with no version change (an older hpw ignores an extra index, and SQLite keeps it current
# under every writer).
_OPERATION_INDEX = "CREATE INDEX IF NOT EXISTS runs_operation ON runs(operation)"
_COLUMNS = ["id", "batch", "operation", "status", "started", "label", "data", "mtime", "size", "inode"]
_SCHEMA = (
    f"CREATE TABLE runs ({', '.join(_COLUMNS)}, PRIMARY KEY (id))",
    "CREATE INDEX runs_started ON runs(started DESC, id)",
    "CREATE INDEX runs_batch ON runs(batch, started DESC)",
    "CREATE INDEX runs_status ON runs(status, started DESC, id)",
    _OPERATION_INDEX,
    "CREATE INDEX batch_sums_order ON batch_sums(sort_at DESC, batch)",
    # tier and started repeat the run's, so that a ranking walks one index (records.rank's tiers)
    "CREATE TABLE scalars (run TEXT, key TEXT, last REAL, step INTEGER, tier INTEGER, started REAL, "
    "PRIMARY KEY (run, key))",
    "CREATE INDEX scalars_low ON scalars(key, tier, last, started DESC, run)",
    "CREATE INDEX scalars_high ON scalars(key, tier, last DESC, started DESC, run)",
    "CREATE TABLE flags (run TEXT, name TEXT, value, PRIMARY KEY (run, name))",
    "CREATE INDEX flags_name ON flags(name, value)",
    "CREATE TABLE tags (run TEXT, tag TEXT, PRIMARY KEY (run, tag))",
    "CREATE INDEX tags_tag ON tags(tag)",
    "CREATE TABLE manifests (id TEXT PRIMARY KEY, created REAL, total INTEGER, data TEXT, mtime, size, inode)",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value)",
    "CREATE TABLE skipped (id TEXT PRIMARY KEY)",
    # each batch's count of runs, first start and manifest's created and total, kept current by
    # triggers on every write, in the order hpw batches lists them (sort_at, indexed)
    "CREATE TABLE batch_sums (batch TEXT PRIMARY KEY, n INTEGER, first REAL, created REAL, total INTEGER, "
    "sort_at REAL GENERATED ALWAYS AS (COALESCE(NULLIF(created, 0), first, 0)) VIRTUAL)",
    "CREATE TRIGGER runs_added AFTER INSERT ON runs BEGIN "
    "INSERT INTO batch_sums (batch, n, first, created, total) SELECT NEW.batch, 1, NEW.started, m.created, m.total "
    "FROM (SELECT 1) LEFT JOIN manifests m ON m.id = NEW.batch WHERE true "
    "ON CONFLICT(batch) DO UPDATE SET n = n + 1, "
    "first = CASE WHEN first IS NULL OR NEW.started < first THEN COALESCE(NEW.started, first) ELSE first END; END",
    "CREATE TRIGGER runs_removed AFTER DELETE ON runs BEGIN "
    "UPDATE batch_sums SET n = n - 1, first = (SELECT MIN(started) FROM runs WHERE batch = OLD.batch) "
    "WHERE batch = OLD.batch; DELETE FROM batch_sums WHERE batch = OLD.batch AND n <= 0; END",
    "CREATE TRIGGER manifest_added AFTER INSERT ON manifests BEGIN "
    "UPDATE batch_sums SET created = NEW.created, total = NEW.total WHERE batch = NEW.id; END",
    "CREATE TRIGGER manifest_removed AFTER DELETE ON manifests BEGIN "
    "UPDATE batch_sums SET created = NULL, total = NULL WHERE batch = OLD.id; END",
)
_TABLES = ["batch_sums", "flags", "manifests", "meta", "runs", "scalars", "skipped", "tags"]
_CHILDREN = ("scalars", "flags", "tags")
_BROKEN = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
Identity = tuple  # (mtime_ns, size, inode) of a run.json, or (None, None, None) when unknown


@dataclass(frozen=True)
class Chunk:
    """Some run directories as a rebuild read them: the usable runs' rows of each table
    (``parts_of``), in id order, and the ids whose record could not be used."""

    runs: list[tuple]
    scalars: list[tuple]
    flags: list[tuple]
    tags: list[tuple]
    skipped: list[str]


@dataclass(frozen=True)
class Listed:
    """What a rebuild reads: runs/'s mtime taken before it was listed, and its run directories a
    chunk at a time, in id order (scan.py)."""

    stamp: int | None
    chunks: Iterable[Chunk]


@dataclass(frozen=True)
class Row:
    """What the index keeps of one run: its columns, its record as JSON and its file's identity."""

    record: RunRecord
    data: str
    identity: Identity = (None, None, None)

    @classmethod
    def of(cls, record: RunRecord, data: str | None = None, identity: Identity | None = None) -> Row:
        return cls(record, data or json.dumps(record.to_json()), identity or (None, None, None))

    def columns(self) -> tuple:
        r = self.record
        return (r.id, r.batch, r.operation, r.status.value, r.started, r.label, self.data, *self.identity)

    def scalars(self) -> list[tuple]:
        r = self.record
        return [(r.id, k, v, r.step, _tier(r, v), r.started) for k, v in r.scalars.items()]

    def flags(self) -> list[tuple]:
        return [(self.record.id, k, stored_value(v)) for k, v in self.record.flags.items()]

    def tags(self) -> list[tuple]:
        return [(self.record.id, t) for t in dict.fromkeys(self.record.tags)]


def parts_of(fields: dict[str, Any], data: str | None, identity: Identity) -> tuple:
    """A run's rows of the runs, scalars, flags and tags tables from its checked fields
    (``records.checked_fields``) without building its record, as ``Row.of(record, data,
    identity)`` writes them (a rebuild reads 100,000 runs); ``data`` None: encoded again."""
    if data is None:
        data = json.dumps(RunRecord.from_json(fields).to_json())
    run, status, started, step = fields["id"], fields.get("status", "pending"), fields.get("started"), fields.get("step")
    columns = (run, fields["batch"], fields["operation"], status, started, fields.get("label", ""), data, *identity)
    scalars = [(run, k, v, step, _status_tier(status, v), started) for k, v in fields["scalars"].items()]
    flags = [(run, k, stored_value(v)) for k, v in fields["flags"].items()]
    tags = [(run, t) for t in dict.fromkeys(fields.get("tags") or ())]
    return columns, scalars, flags, tags


def _tier(record: RunRecord, value: float | None) -> int:
    return _status_tier(record.status.value, value)


def _status_tier(status: str, value: float | None) -> int:
    """records.rank's tier of a run by this value: 0 completed, 1 ended otherwise, 2 the rest."""
    if value is None or math.isnan(value) or status not in _FINISHED:
        return 2
    return 0 if status == Status.COMPLETED.value else 1


_FINISHED = frozenset(s.value for s in Status if s.is_finished())


def _write(db: sqlite3.Connection, rows: list[Row], replace: bool = True) -> None:
    verb = "INSERT" if replace else "INSERT OR IGNORE"
    if replace:  # deleted first, so that the triggers keep batch_sums (a REPLACE fires none)
        _delete(db, [r.record.id for r in rows])
    db.executemany(f"{verb} INTO runs VALUES ({','.join('?' * len(_COLUMNS))})", [r.columns() for r in rows])
    db.executemany(f"{verb} INTO scalars VALUES (?,?,?,?,?,?)", [s for r in rows for s in r.scalars()])
    db.executemany(f"{verb} INTO flags VALUES (?,?,?)", [f for r in rows for f in r.flags()])
    db.executemany(f"{verb} INTO tags VALUES (?,?)", [t for r in rows for t in r.tags()])


def _append(db: sqlite3.Connection, chunk: Chunk) -> None:
    """A rebuild's rows into its new tables."""
    db.executemany(f"INSERT OR IGNORE INTO runs VALUES ({','.join('?' * len(_COLUMNS))})", chunk.runs)
    db.executemany("INSERT OR IGNORE INTO scalars VALUES (?,?,?,?,?,?)", chunk.scalars)
    db.executemany("INSERT OR IGNORE INTO flags VALUES (?,?,?)", chunk.flags)
    db.executemany("INSERT OR IGNORE INTO tags VALUES (?,?)", chunk.tags)


def _delete(db: sqlite3.Connection, ids: list[str]) -> None:
    for table, key in (("runs", "id"), *((t, "run") for t in _CHILDREN)):
        db.executemany(f"DELETE FROM {table} WHERE {key} = ?", [(i,) for i in ids])


class IndexUnavailable(StoreError):
    """The index cannot be used now (a full disk, an I/O error): answer from the run directories."""


class _Unusable(Exception):
    """The file is not an index we can use: move it aside and rebuild."""


class Index:
    def __init__(self, path: str, load_all: Callable[[], Listed]) -> None:
        self.path = path
        self._load_all = load_all  # every run directory, to rebuild from
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._file: tuple[int, int] | None = None

    # -- opening -------------------------------------------------------------------------

    @contextmanager
    def _file_lock(self):
        for suffix in ("-wal", "-shm", ".lock"):
            safety.check(self.path + suffix)
        try:
            fd = safety.open_private(self.path + ".lock", os.O_RDWR | os.O_CREAT)
        except OSError as exc:
            raise IndexUnavailable.writing(exc, self.path + ".lock") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _connection(self) -> sqlite3.Connection:
        if self._db is not None and self._file == _identity(self.path):
            return self._db
        self.close()  # none yet, or the file was replaced or deleted: (re)open
        with self._file_lock():
            try:
                self._db = self._open()
            except (sqlite3.DatabaseError, _Unusable) as exc:
                if not _is_broken(exc):
                    raise _as_store_error(exc, self.path) from None
                self._repair(exc, None)
        return self._db

    def _repair(self, exc: BaseException, seen: tuple[int, int] | None) -> None:
        """Inside the flock: replace the broken file, unless another process already did."""
        if seen is not None and _identity(self.path) != seen:
            return
        try:
            self._replace(exc)
        except sqlite3.DatabaseError as again:
            raise _as_store_error(again, self.path) from None
        except OSError as again:
            raise IndexUnavailable.writing(again, self.path) from None

    def _open(self) -> sqlite3.Connection:
        safety.check(self.path)
        try:
            os.close(safety.open_private(self.path, os.O_RDWR | os.O_CREAT))  # 0600 from the start
        except OSError as exc:
            raise IndexUnavailable.writing(exc, self.path) from None
        db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=30000")  # many kernels write at once: wait, never fail
            version = db.execute("PRAGMA user_version").fetchone()[0]  # read before anything is changed
            tables = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            tables.sort()
            if tables and "runs" not in tables or any(t not in _TABLES for t in tables):
                raise _Unusable(f"not a run index: it holds tables {', '.join(tables)}")
            if version == SCHEMA_VERSION and tables == _TABLES:
                columns = [c[1] for c in db.execute("PRAGMA table_info(runs)")]
                if columns != _COLUMNS:
                    raise _Unusable(f"its runs table has columns {', '.join(columns)}")
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":  # changed once, under the flock
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            if version == SCHEMA_VERSION and tables == _TABLES and not db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'runs_operation'"
            ).fetchone():
                db.execute(_OPERATION_INDEX)
            if version != SCHEMA_VERSION or tables != _TABLES:
                with _transaction(db):  # new, or an older schema of ours: build it here
                    now = sorted(n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'"))
                    if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION or now != _TABLES:
                        self._create(db)  # unless another process built it meanwhile
        except BaseException:
            db.close()
            raise
        self._file = _identity(self.path)
        return db

    def _create(self, db: sqlite3.Connection) -> int:
        for table in _TABLES:
            db.execute(f"DROP TABLE IF EXISTS {table}")
        tables = [t for t in _SCHEMA if t.startswith("CREATE TABLE")]
        for statement in tables:
            db.execute(statement)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        listed = self._load_all()
        count, skipped = 0, []
        for chunk in listed.chunks:  # in id order: each table's key grows, rows are appended
            _append(db, chunk)
            count += len(chunk.runs)
            skipped += chunk.skipped
        # the batch summaries in one GROUP BY (the triggers would update them run by run; the
        # manifests come later, through their own trigger), then the indexes and triggers, each
        # built once over every row (faster than row by row)
        db.execute("INSERT INTO batch_sums (batch, n, first) SELECT batch, COUNT(*), MIN(started) FROM runs GROUP BY batch")
        for statement in _SCHEMA:
            if statement not in tables:
                db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('runs', ?)", (listed.stamp,))
        db.executemany("INSERT INTO skipped VALUES (?)", [(i,) for i in skipped])
        return count

    def _replace(self, exc: BaseException) -> None:
        """Inside the flock: move the unusable file aside, build a new one, say so in one line."""
        n = 1
        while os.path.lexists(f"{self.path}.bad-{n}"):
            n += 1
        aside = f"{self.path}.bad-{n}"
        os.rename(self.path, aside)
        for suffix in ("-wal", "-shm"):
            if os.path.lexists(self.path + suffix):
                os.rename(self.path + suffix, aside + suffix)
        self._db = self._open()
        count = self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        why = exc.args[0] if exc.args else type(exc).__name__
        print(f"hpwidgets: the run index {self.path} was unusable ({why}); moved it to {aside} "
              f"and rebuilt it from {count} run directories", file=sys.stderr)

    def _run(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        """Do ``work`` on the connection; a corrupt index found on the way is replaced once."""
        with self._lock:
            for attempt in (0, 1):
                db = self._connection()
                try:
                    return work(db)
                except sqlite3.DatabaseError as exc:
                    if attempt or not _is_broken(exc):
                        raise _as_store_error(exc, self.path) from None
                    seen = self._file
                    self.close()
                    with self._file_lock():
                        self._repair(exc, seen)
            raise AssertionError("unreachable")

    # -- use -----------------------------------------------------------------------------

    def put(self, rows: Iterable[Row]) -> None:
        rows = list(rows)

        def work(db):
            with _transaction(db):
                _write(db, rows)

        self._run(work)

    def query(self, sql: str, args: Sequence = ()) -> list[tuple]:
        """The rows of one SELECT (built by query.py from fixed text and bound values)."""
        return self._run(lambda db: db.execute(sql, args).fetchall())

    def stamp(self, key: str) -> Any:
        found = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return found[0][0] if found else None

    def set_stamp(self, key: str, value: Any) -> None:
        self._run(lambda db: db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value)))

    def advance_stamp(self, key: str, before: Any, after: Any) -> None:
        """A writer that changed a folder and the index alike: the index still matches the
        folder if it matched it before."""
        self._run(lambda db: db.execute("UPDATE meta SET value = ? WHERE key = ? AND value = ?", (after, key, before)))

    def manifest_identities(self) -> dict[str, Identity]:
        return {i: (m, s, n) for i, m, s, n in self.query("SELECT id, mtime, size, inode FROM manifests")}

    def put_manifests(self, rows: list[tuple], gone: list[str]) -> None:
        """``rows``: (id, created, total, data, mtime, size, inode); ``gone``: ids to drop."""

        def work(db):
            with _transaction(db):
                db.executemany("INSERT OR REPLACE INTO manifests VALUES (?,?,?,?,?,?,?)", rows)
                db.executemany("DELETE FROM manifests WHERE id = ?", [(i,) for i in gone])

        self._run(work)

    def stream(self, sql: str, args: Sequence = ()) -> Iterator[tuple]:
        """The rows of one SELECT, fetched a few hundred at a time while the caller uses them."""
        with self._lock:
            try:
                cursor = self._connection().execute(sql, args)
                while chunk := cursor.fetchmany(500):
                    yield from chunk
            except sqlite3.DatabaseError as exc:
                raise _as_store_error(exc, self.path) from None

    def unfinished(self) -> list[tuple[str, Identity]]:
        """The runs the index holds as pending or running, with their file's identity as read."""
        rows = self.query("SELECT id, mtime, size, inode FROM runs WHERE status IN ('pending', 'running')")
        return [(i, (m, s, n)) for i, m, s, n in rows]

    def batches(self, prefix: str = "") -> set[str]:
        """The batches with runs whose id starts with ``prefix``."""
        return {b for (b,) in self.query("SELECT batch FROM batch_sums WHERE substr(batch, 1, ?) = ?", (len(prefix), prefix))}

    def ids(self) -> set[str]:
        return {i for (i,) in self._run(lambda db: db.execute("SELECT id FROM runs").fetchall())}

    def present(self, ids: list[str]) -> set[str]:
        """Which of ``ids`` the index holds (a few: the skipped runs)."""
        marks = ",".join("?" * len(ids))
        return {i for (i,) in self.query(f"SELECT id FROM runs WHERE id IN ({marks})", ids)}

    def remove(self, ids: Iterable[str]) -> None:
        gone = list(ids)

        def work(db):
            with _transaction(db):
                _delete(db, gone)

        self._run(work)

    def skipped(self) -> list[str]:
        return [i for (i,) in self.query("SELECT id FROM skipped")]

    def unskip(self, ids: list[str]) -> None:
        self._run(lambda db: db.executemany("DELETE FROM skipped WHERE id = ?", [(i,) for i in ids]))

    def reconcile(self, listed: set[str], exists: Callable[[str], bool], load: Callable[[list[str]], list[Row]]) -> None:
        """Make the index hold exactly the runs ``listed`` (the runs/ directory): cheap when it does."""
        known = self.ids() | set(self.skipped())
        if known == listed:
            return
        rows = load(sorted(listed - known))
        found = {r.record.id for r in rows}
        skipped = [i for i in sorted(listed - known) if i not in found]
        gone = [i for i in known - listed if not exists(i)]  # a run made since the listing stays
        if not rows and not gone and not skipped:
            return

        def work(db):
            with _transaction(db):
                db.executemany("INSERT OR IGNORE INTO skipped VALUES (?)", [(i,) for i in skipped])
                db.executemany("DELETE FROM skipped WHERE id = ?", [(i,) for i in gone])
                # a run another process indexed meanwhile keeps its (newer) row
                fresh = [r for r in rows if db.execute("SELECT 1 FROM runs WHERE id = ?", (r.record.id,)).fetchone() is None]
                _write(db, fresh, replace=False)
                _delete(db, gone)

        self._run(work)

    def rebuild(self) -> int:
        def work(db):
            with _transaction(db):  # writers wait while the directories are scanned
                return self._create(db)

        return self._run(work)

    def set_aside(self, why: str) -> None:
        """Move this index aside and rebuild it from the run directories (a row whose data is not
        a record: the index is a cache, and one bad row says its file cannot be trusted)."""
        with self._lock:
            self._connection()
            seen = self._file
            self.close()
            with self._file_lock():
                self._repair(_Unusable(why), seen)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db, self._file = None, None


@contextmanager
def _transaction(db: sqlite3.Connection):
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _is_broken(exc: BaseException) -> bool:
    if isinstance(exc, _Unusable):
        return True
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(_BROKEN) or "malformed" in str(exc)


def _as_store_error(exc: BaseException, path: str) -> StoreError:
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_FULL"):
        return IndexUnavailable(f"no space left on {path}: free some space (hpw runs rm --permanent RUN..., or hpw runs purge) and try again")
    if name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_READONLY")):
        return IndexUnavailable(f"cannot use the run index {path}: {exc}")
    return StoreError(f"cannot use the run index {path}: {exc}")
