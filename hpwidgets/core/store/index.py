"""The SQLite index of a run store: a cache of the run directories, never the truth.

One table, ``runs(id, batch, operation, status, started, data)``, ``data`` holding the record's
JSON. WAL mode with a busy timeout lets many processes write at once. Opening, migrating and
repairing happen while holding an exclusive ``flock`` on ``<index>.lock``, so a fresh store opened
by many processes at once is set up by one of them and the others wait. An index that is corrupt,
truncated or not ours is moved aside (``<index>.bad-N``) and rebuilt from the run directories,
with one line on stderr saying so. An index replaced or deleted by another process is reopened.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from typing import Any

from hpwidgets.core.errors import StoreError
from hpwidgets.core.store import safety

SCHEMA_VERSION = 1
_TABLE = "CREATE TABLE runs (id TEXT PRIMARY KEY, batch TEXT, operation TEXT, status TEXT, started REAL, data TEXT)"
_COLUMNS = ["id", "batch", "operation", "status", "started", "data"]
_BROKEN = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
Row = tuple  # (id, batch, operation, status, started, data)


class IndexUnavailable(StoreError):
    """The index cannot be used now (a full disk, an I/O error): answer from the run directories."""


class _Unusable(Exception):
    """The file is not an index we can use: move it aside and rebuild."""


class Index:
    def __init__(self, path: str, load_all: Callable[[], list[Row]]) -> None:
        self.path = path
        self._load_all = load_all  # rows for every run directory, to rebuild from
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
            if tables not in ([], ["runs"]):
                raise _Unusable(f"not a run index: it holds tables {', '.join(tables)}")
            if version == SCHEMA_VERSION and tables:
                columns = [c[1] for c in db.execute("PRAGMA table_info(runs)")]
                if columns != _COLUMNS:
                    raise _Unusable(f"its runs table has columns {', '.join(columns)}")
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":  # changed once, under the flock
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            if version != SCHEMA_VERSION or not tables:
                with _transaction(db):  # new, or an older schema of ours: build it here
                    if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                        self._create(db)
        except BaseException:
            db.close()
            raise
        self._file = _identity(self.path)
        return db

    def _create(self, db: sqlite3.Connection) -> int:
        db.execute("DROP TABLE IF EXISTS runs")
        db.execute(_TABLE)
        db.execute("CREATE INDEX runs_started ON runs(started)")
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        rows = self._load_all()
        db.executemany("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?)", rows)
        return len(rows)

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
                db.executemany("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?)", rows)

        self._run(work)

    def select(self, where: str, args: list, limit: int | None) -> list[str]:
        sql = f"SELECT data FROM runs{where} ORDER BY started DESC, id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [data for (data,) in self._run(lambda db: db.execute(sql, args).fetchall())]

    def batches(self) -> set[str]:
        return {b for (b,) in self._run(lambda db: db.execute("SELECT DISTINCT batch FROM runs").fetchall())}

    def ids(self) -> set[str]:
        return {i for (i,) in self._run(lambda db: db.execute("SELECT id FROM runs").fetchall())}

    def remove(self, ids: Iterable[str]) -> None:
        gone = [(i,) for i in ids]
        self._run(lambda db: db.executemany("DELETE FROM runs WHERE id = ?", gone))

    def reconcile(self, listed: set[str], exists: Callable[[str], bool], load: Callable[[list[str]], list[Row]]) -> None:
        """Make the index hold exactly the runs ``listed`` (the runs/ directory): cheap when it does."""
        known = self.ids()
        if known == listed:
            return
        rows = load(sorted(listed - known))
        gone = [i for i in known - listed if not exists(i)]  # a run made since the listing stays
        if not rows and not gone:
            return

        def work(db):
            with _transaction(db):
                db.executemany("INSERT OR IGNORE INTO runs VALUES (?,?,?,?,?,?)", rows)
                db.executemany("DELETE FROM runs WHERE id = ?", [(i,) for i in gone])

        self._run(work)

    def rebuild(self) -> int:
        def work(db):
            with _transaction(db):  # writers wait while the directories are scanned
                return self._create(db)

        return self._run(work)

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
