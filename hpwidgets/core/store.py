"""The run store: one directory per run is the truth; a SQLite index (WAL) makes queries fast.

Layout under the root (``HPWIDGETS_HOME`` or ``~/.hpwidgets``, folders 0700, files 0600)::

    runs/<id>/run.json        the record (written to a temporary file, then renamed over)
    runs/<id>/output.log      what the trial printed
    runs/<id>/series.json     every value of every scalar
    runs/<id>/sourcecode/     a copy of the script
    runs/<id>/trial.pid       the trial's process group and its start time (see owner.py)
    batches/<id>.json         a batch's manifest: what ``--resume`` needs to prepare it again
    index.db                  a cache of the records, rebuilt from runs/ when missing or of an
                              older schema; kept on local disk when the root is on NFS

Contract:
- One Store object is safe to share between threads; any number of processes (kernels, CLI
  commands, Dask result handlers) may use one root at once. Writes to the index are
  serialized by SQLite (WAL, with a busy timeout); a record is replaced atomically.
- Records returned are frozen copies; changing the store never changes one already returned.
- Reading has no side effects. Runs left ``running`` by a process that died are turned into
  ``terminated`` (and their trial's process group killed) only by ``reap_orphans()``, which is
  called where a batch starts and by the ``runs`` and ``compare`` commands.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Iterable
from typing import Any

from . import owner
from .errors import OptionError, StoreError
from .records import RunRecord, Status

_SCHEMA_VERSION = 1
_COLUMNS = ("id", "batch", "operation", "status", "started", "data")
_NETWORK_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "lustre", "gpfs"}
_warned_network: set[str] = set()
MOUNTS = "/proc/mounts"


def default_root() -> str:
    return os.environ.get("HPWIDGETS_HOME") or os.path.join(os.path.expanduser("~"), ".hpwidgets")


def _private_dir(path: str) -> None:
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)  # the umask may have widened or narrowed it


def write_private(path: str, data: bytes) -> None:
    """Write a file atomically with mode 0600, whatever the umask."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def filesystem_type(path: str) -> str:
    """The type of the mount that holds ``path``, from /proc/mounts ("" when unknown)."""
    path = os.path.realpath(path)
    best, fstype = "", ""
    try:
        with open(MOUNTS, encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) < 3:
                    continue
                mount = parts[1].replace("\\040", " ")
                inside = path == mount or path.startswith(mount.rstrip("/") + "/")
                if inside and len(mount) > len(best):
                    best, fstype = mount, parts[2]
    except OSError:
        return ""
    return fstype


class Store:
    def __init__(self, root: str | None = None, index_path: str | None = None) -> None:
        self.root = os.path.abspath(root or default_root())
        try:
            _private_dir(self.root)
            _private_dir(self.runs_dir)
        except OSError as exc:
            raise StoreError(f"Cannot use run store '{self.root}': {exc.strerror}") from None
        self.index_path = index_path or self._index_location()
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None

    @property
    def runs_dir(self) -> str:
        return os.path.join(self.root, "runs")

    @property
    def batches_dir(self) -> str:
        return os.path.join(self.root, "batches")

    def run_dir(self, run_id: str) -> str:
        return os.path.join(self.runs_dir, run_id)

    def _index_location(self) -> str:
        fstype = filesystem_type(self.root)
        if fstype not in _NETWORK_FS:
            return os.path.join(self.root, "index.db")
        # SQLite's WAL needs shared memory that network file systems do not give.
        digest = hashlib.sha256(self.root.encode()).hexdigest()[:16]
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(tempfile.gettempdir(), f"hpwidgets-{os.getuid()}")
        local = os.path.join(cache, "hpwidgets", digest)
        _private_dir(local)
        if self.root not in _warned_network:
            _warned_network.add(self.root)
            print(
                f"hpwidgets: run store {self.root} is on {fstype}; its index is kept on local disk "
                f"at {local} (the run directories stay the truth)",
                file=sys.stderr,
            )
        return os.path.join(local, "index.db")

    # -- index ---------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            db = sqlite3.connect(self.index_path, timeout=30, check_same_thread=False, isolation_level=None)
            os.chmod(self.index_path, 0o600)
            db.execute("PRAGMA busy_timeout=30000")  # many kernels write at once: wait, never fail
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("BEGIN IMMEDIATE")  # one process at a time creates or rebuilds the index
            try:
                if db.execute("PRAGMA user_version").fetchone()[0] != _SCHEMA_VERSION:
                    db.execute("DROP TABLE IF EXISTS runs")
                    db.execute(
                        "CREATE TABLE runs (id TEXT PRIMARY KEY, batch TEXT, operation TEXT,"
                        " status TEXT, started REAL, data TEXT)"
                    )
                    db.execute("CREATE INDEX runs_started ON runs(started)")
                    db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
                    self._refill(db)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                db.close()
                raise
            self._db = db
        return self._db

    @staticmethod
    def _rows(records: list[RunRecord], texts: list[str] | None = None) -> list[tuple]:
        texts = texts or [json.dumps(r.to_json()) for r in records]
        return [(r.id, r.batch, r.operation, r.status.value, r.started, t) for r, t in zip(records, texts)]

    def _refill(self, db: sqlite3.Connection) -> int:
        """Inside a write transaction: replace the index with what the run directories hold."""
        records = list(self._scan_dirs())
        db.execute("DELETE FROM runs")
        db.executemany("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?)", self._rows(records))
        return len(records)

    def _index(self, records: Iterable[RunRecord], texts: list[str] | None = None) -> None:
        rows = self._rows(list(records), texts)
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?)", rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def rebuild_index(self) -> int:
        """Build the index again from the run directories; returns the number of runs."""
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")  # writers wait while the directories are scanned
            try:
                count = self._refill(db)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return count

    def _scan_dirs(self) -> Iterable[RunRecord]:
        for name in os.listdir(self.runs_dir):
            path = os.path.join(self.runs_dir, name, "run.json")
            try:
                with open(path, encoding="utf-8") as fh:
                    yield RunRecord.from_json(json.load(fh))
            except (OSError, ValueError, TypeError):
                continue  # a run directory being created or deleted right now

    # -- runs ----------------------------------------------------------------------------

    def create(self, record: RunRecord, script_name: str | None = None, source: str | None = None) -> str:
        """Make the run's directory (with a copy of the script) and save its first record."""
        path = self.run_dir(record.id)
        _private_dir(path)
        if source is not None and script_name:
            _private_dir(os.path.join(path, "sourcecode"))
            write_private(os.path.join(path, "sourcecode", script_name), source.encode("utf-8"))
        self.save(record)
        return path

    def save(self, record: RunRecord, series: dict[str, list] | None = None) -> None:
        path = self.run_dir(record.id)
        if series:
            write_private(os.path.join(path, "series.json"), json.dumps(series).encode())
        text = json.dumps(record.to_json())
        write_private(os.path.join(path, "run.json"), text.encode())
        self._index([record], [text])

    def open_output(self, run_id: str):
        path = os.path.join(self.run_dir(run_id), "output.log")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        return os.fdopen(fd, "w", encoding="utf-8", errors="replace", buffering=1)

    def output(self, run_id: str) -> str:
        try:
            with open(os.path.join(self.run_dir(run_id), "output.log"), encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except FileNotFoundError:
            return ""

    def series(self, run_id: str) -> dict[str, list]:
        try:
            with open(os.path.join(self.run_dir(run_id), "series.json"), encoding="utf-8") as fh:
                return json.load(fh)
        except FileNotFoundError:
            return {}

    def runs(self, batch: str | None = None, operation: str | None = None, limit: int | None = None) -> list[RunRecord]:
        """Runs, newest first, as recorded (``batch`` is a full batch id: see ``resolve_batch``)."""
        sql, args = "SELECT data FROM runs", []
        where = []
        if batch:
            where.append("batch = ?")
            args.append(batch)
        if operation:
            where.append("operation = ?")
            args.append(operation)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started DESC, id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            rows = self._conn().execute(sql, args).fetchall()
        return [RunRecord.from_json(json.loads(data)) for (data,) in rows]

    def reap_orphans(self) -> list[RunRecord]:
        """Mark runs whose supervising process died as terminated and kill their trials.

        The one step that changes runs nobody asked to change, like optuna's
        ``fail_stale_trials``: called where a batch starts and by ``runs``/``compare``.
        Returns the runs it terminated.
        """
        with self._lock:
            rows = self._conn().execute(
                "SELECT data FROM runs WHERE status IN (?, ?)", (Status.PENDING.value, Status.RUNNING.value)
            ).fetchall()
        reaped = []
        for (data,) in rows:
            record = RunRecord.from_json(json.loads(data))
            if owner.is_alive(record.owner) or not os.path.isdir(self.run_dir(record.id)):
                continue
            owner.kill_orphan_trial(self.run_dir(record.id))  # no trial outlives its dead supervisor
            record = record.evolve(status=Status.TERMINATED, reason="its process ended before the run finished")
            self.save(record)
            reaped.append(record)
        return reaped

    def batch_ids(self) -> set[str]:
        """Every batch the store knows: from its runs and from the manifests."""
        with self._lock:
            ids = {b for (b,) in self._conn().execute("SELECT DISTINCT batch FROM runs") if b}
        if os.path.isdir(self.batches_dir):
            ids.update(n[:-5] for n in os.listdir(self.batches_dir) if n.endswith(".json"))
        return ids

    def resolve_batch(self, ref: str, option: str = "batch") -> str:
        """The full id of the one batch whose id starts with ``ref``; ``option`` names the
        option that gave it in the error."""
        found = sorted(b for b in self.batch_ids() if ref and b.startswith(ref))
        if len(found) == 1:
            return found[0]
        if not found:
            why = "no batch has that id"
        else:
            listed = ", ".join(b[:12] for b in found[:5]) + (" ..." if len(found) > 5 else "")
            why = f"ambiguous: {len(found)} batches start so ({listed}); give more characters"
        raise OptionError(option, ref, f"a batch id or its first characters ({why})")

    def get(self, ref: str) -> RunRecord:
        """A run by its id or a unique prefix of it."""
        with self._lock:
            rows = self._conn().execute(
                "SELECT data FROM runs WHERE id LIKE ? ESCAPE '\\' LIMIT 2",
                (ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",),
            ).fetchall()
        if not ref or not rows:
            raise StoreError(f"No run matches '{ref}' (accepted: a run id or its first characters)")
        if len(rows) > 1:
            raise StoreError(f"Run id '{ref}' is ambiguous: give more characters")
        return RunRecord.from_json(json.loads(rows[0][0]))

    def delete(self, refs: list[str]) -> list[RunRecord]:
        records = [self.get(ref) for ref in refs]  # all resolve before anything is removed
        for rec in records:
            if not rec.status.is_finished():
                raise StoreError(f"Run {rec.short_id} is {rec.status.value}: stop it before deleting it")
        for rec in records:
            shutil.rmtree(self.run_dir(rec.id), ignore_errors=True)
        with self._lock:
            db = self._conn()
            db.executemany("DELETE FROM runs WHERE id = ?", [(r.id,) for r in records])
        return records

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __getstate__(self) -> dict[str, Any]:  # a Store travels by its paths
        return {"root": self.root, "index_path": self.index_path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["root"], state["index_path"])
