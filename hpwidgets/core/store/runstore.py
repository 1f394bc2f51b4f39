"""The run store: one directory per run is the truth; a SQLite index (WAL) is a cache of them.

Layout under the root (``HPWIDGETS_HOME`` or ``~/.hpwidgets``, folders 0700, files 0600)::

    runs/<id>/run.json        the record (written to a temporary file, then renamed over);
                              its id is the directory's name
    runs/<id>/output.log      what the trial printed
    runs/<id>/series.json     every value of every scalar
    runs/<id>/sourcecode/     a copy of the script (what the trial ran)
    runs/<id>/trial.pid       the trial's process group and its start time (see owners.py)
    batches/<id>.json         a batch's manifest: what ``--resume`` needs to prepare it again
    index.db (-wal, -shm, .lock)   a cache of the records and manifests (index.py), and the
                              query engine every reading command uses; kept on local disk
                              when the root is on NFS (one index per node)

Trust: the root and everything in it must be ours, not writable by others and not a symlink
(store_safety.py); anything else is refused (the store) or skipped with one line (a run).
Ids are 32 hex digits and match their directory, so no record names a path outside the store.

Contract:
- One Store object is safe to share between threads; any number of processes (kernels, CLI
  commands, Dask result handlers) may use one root at once. A run directory is written by the
  one process that runs its trial; a record is replaced atomically, so a reader sees the old
  one or the new one. The index is opened, migrated and repaired under a file lock (so a
  fresh store opened by many processes at once is set up once), written in short WAL
  transactions with a busy timeout, and matched with the run directories before it answers,
  reading only what changed: the runs/ listing when runs/'s mtime differs from the one the
  index last matched (runs deleted by hand disappear, runs it missed come back), and each run
  it holds as pending or running whose run.json's identity (mtime, size, inode) changed, so
  that runs written through another index (another node of an NFS store) appear and reach
  their final status. A finished run changed through another index (a label) is seen after a
  rebuild. When the index cannot be used (a full disk), reads are answered from the run
  directories.
- Reading commands are queries (query.py, listing.py): a page of the listing, one run, a
  ranking as ORDER BY ... LIMIT (``records.rank``'s order exactly), filters as WHERE, batches as
  a GROUP BY; records are decoded only for the rows returned.
- Records returned are frozen copies; changing the store never changes one already returned.
- Reading has no side effects on runs (only the index, a cache, may be refreshed). Runs left
  ``running`` by a process that died are turned into ``terminated`` (and their trial's process
  group killed) only by ``reap_orphans()``, which is called where a batch starts and by the
  ``runs`` and ``compare`` commands.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from hpwidgets.core.errors import OptionError, StoreError
from hpwidgets.core.processes import owners
from hpwidgets.core.records import RunRecord, Status
from hpwidgets.core.store import paths, scan
from hpwidgets.core.store import safety as store_safety
from hpwidgets.core.store.index import Index, IndexUnavailable, Listed, Row
from hpwidgets.core.store.listing import RunListing
from hpwidgets.core.store.query import (
    EVERY_RUN,
    RunQuery,
    ValueTest,
    batch_count_sql,
    batch_groups_sql,
    column_kinds_sql,
    count_sql,
    having_sql,
    names_sql,
    operations_sql,
    ranking_sql,
    records_sql,
    scalar_ranking_sql,
    unranked_sql,
)
from hpwidgets.core.store.run_files import OutputLog, read_record, write_private
from hpwidgets.core.store.safety import is_id, report

FEW = 1000  # runs passing a --filter (or a tenth of the runs, if more) below which the index gathers them first (_planned)


class Store:
    def __init__(self, root: str | None = None, index_path: str | None = None) -> None:
        self.root = os.path.abspath(root or paths.default_root())
        try:
            os.makedirs(os.path.dirname(self.root), exist_ok=True)
            store_safety.private_dir(self.root)
            store_safety.private_dir(self.runs_dir)
            store_safety.check(self.batches_dir)
            self.index_path = index_path or paths.index_location(self.root)
        except OSError as exc:
            raise StoreError(f"Cannot use run store '{self.root}': {exc.strerror}") from None
        self.index = Index(self.index_path, self._all_rows)
        self._lock = threading.RLock()
        self._listed: int | None = None  # runs/'s mtime when the index last matched its listing
        self._few: dict[ValueTest, bool] = {}  # see _planned

    @property
    def runs_dir(self) -> str:
        return os.path.join(self.root, "runs")

    @property
    def batches_dir(self) -> str:
        return os.path.join(self.root, "batches")

    def run_dir(self, run_id: str) -> str:
        if not is_id(run_id):  # never a path: '../x' or '/x' would leave the store
            raise StoreError(f"{run_id!r} is not a run id (accepted: 32 hexadecimal digits)")
        return os.path.join(self.runs_dir, run_id)

    # -- reading run directories ---------------------------------------------------------

    def load(self, name: str) -> RunRecord | None:
        """The record in runs/<name>, checked; None (with one line on stderr) when it is unusable."""
        return read_record(self.runs_dir, name)

    def _listing(self) -> list[str]:
        names = []
        for name in os.listdir(self.runs_dir):
            if is_id(name):
                names.append(name)
            elif not name.startswith("."):
                report(os.path.join(self.runs_dir, name), "not a run directory (its name is not a run id)")
        return names

    def _scan(self) -> list[RunRecord]:
        return [row.record for row in self._rows_of(self._listing())]

    def _read(self, name: str) -> Row | None:
        """The index's row for runs/<name>: the file's identity taken before it is read, so that
        a change made while it is read is seen as a change next time."""
        identity = _identity(os.path.join(self.runs_dir, name, "run.json"))
        read = read_record(self.runs_dir, name, keep_text=True)
        return None if read is None else Row.of(*read, identity=identity)

    def _rows_of(self, names: list[str]) -> list[Row]:
        return [row for row in map(self._read, names) if row is not None]

    def _all_rows(self) -> Listed:
        stamp = os.stat(self.runs_dir).st_mtime_ns  # before listing: a change made later is seen as one
        return Listed(stamp, scan.chunks(self.runs_dir, self._listing()))

    # -- index ---------------------------------------------------------------------------

    def _sync(self) -> None:
        """Let the index hold what runs/ holds, reading only what changed: the listing is
        matched by ids (skipped while runs/ has not changed), and a run the index holds as
        unfinished is read again when its run.json changed (another process, another node)."""
        stamp = os.stat(self.runs_dir).st_mtime_ns
        if stamp != self._listed and stamp != self.index.stamp("runs"):
            listed = set(self._listing())
            self.index.reconcile(listed, lambda i: os.path.lexists(os.path.join(self.runs_dir, i)), self._rows_of)
            if _settled(stamp):  # kept for the next process: it skips the listing too
                self.index.set_stamp("runs", stamp)
        self._listed = stamp
        changed = [i for i, seen in self.index.unfinished()
                   if _identity(os.path.join(self.runs_dir, i, "run.json")) != seen]
        rows = self._rows_of(changed)
        skipped = self.index.skipped()  # read again: named at each read, indexed once usable
        if skipped:
            known = self.index.present(skipped)
            usable = self._rows_of([i for i in skipped if i not in known])
            rows += usable
            gone = [i for i in skipped if not os.path.lexists(os.path.join(self.runs_dir, i))]
            if known or usable or gone:
                self.index.unskip([*known, *(r.record.id for r in usable), *gone])
        if rows:
            self.index.put(rows)

    def rebuild_index(self) -> int:
        """Build the index again from the run directories; returns the number of runs."""
        return self.index.rebuild()

    def _ask(self, sql_and_args: tuple[str, list]) -> list[tuple]:
        """One query over the index, matched with the run directories first."""
        with self._lock:
            self._sync()
            return self.index.query(*sql_and_args)

    def _planned(self, query: RunQuery) -> RunQuery:
        """``query`` with each of its value tests (``--filter``) marked as passed by few runs or
        not, so that the index finds the runs from the side that is cheaper (query.ValueTest);
        counted once per Store: a stale answer costs time, never a wrong row."""
        if not query.values:
            return query
        for test in query.values:
            if test not in self._few:
                try:  # the largest rowid: about how many runs there are, at the cost of one lookup
                    few = max(FEW, (self.index.query("SELECT MAX(rowid) FROM runs")[0][0] or 0) // 10)
                    self._few[test] = self.index.query(*test.few_sql(few))[0][0] < few
                except IndexUnavailable:
                    return query  # the records answer it
        return replace(query, values=tuple(replace(t, few=self._few[t]) for t in query.values))

    def _fallback(self, exc: IndexUnavailable, query: RunQuery) -> list[RunRecord]:
        print(f"hpwidgets: {exc}; answering from the run directories", file=sys.stderr)
        found = [r for r in self._scan() if query.matches(r)]
        found.sort(key=_listing_key)
        return found

    def select(self, query: RunQuery = EVERY_RUN, limit: int | None = None, offset: int = 0) -> list[RunRecord]:
        """The runs ``query`` selects, newest first, from the ``offset``-th on, at most ``limit``."""
        query = self._planned(query)
        try:
            return self._records(records_sql(query, limit, offset))
        except IndexUnavailable as exc:
            found = self._fallback(exc, query)[offset:]
            return found[:limit] if limit else found

    def stream(self, query: RunQuery = EVERY_RUN) -> Iterator[RunRecord]:
        """The runs ``query`` selects, newest first, decoded one at a time as they are used (a CSV)."""
        query = self._planned(query)
        # Rows come in the listing's order: once the index is set aside, the runs up to the last
        # one given are skipped by that order (a set of every id given would grow with the store).
        last: tuple | None = None
        try:
            for attempt in (0, 1):
                with self._lock:
                    self._sync()
                try:
                    for (data,) in self.index.stream(*records_sql(query)):
                        record = _decoded([(data,)])[0]
                        if attempt == 0 or last is None or _listing_key(record) > last:
                            last = _listing_key(record)
                            yield record
                    return
                except NotARecord as exc:
                    if attempt:
                        raise
                    self.index.set_aside(str(exc))
        except IndexUnavailable as exc:
            yield from (r for r in self._fallback(exc, query) if last is None or _listing_key(r) > last)

    def _records(self, sql_and_args: tuple[str, list]) -> list[RunRecord]:
        """The records one query selects. A row whose data is no record sets the index aside
        (rebuilt from the run directories, one line says so), and the query is asked again."""
        try:
            return _decoded(self._ask(sql_and_args))
        except NotARecord as exc:
            self.index.set_aside(str(exc))
            return _decoded(self._ask(sql_and_args))

    def column_names(self, query: RunQuery = EVERY_RUN) -> tuple[list[str], list[str]]:
        """The flag names and the scalar names of the runs ``query`` selects."""
        query = self._planned(query)
        try:
            return tuple([n for (n,) in self._ask(names_sql(query, t))] for t in ("flags", "scalars"))
        except IndexUnavailable as exc:
            found = self._fallback(exc, query)
            return [n for r in found for n in r.flags], [n for r in found for n in r.scalars]

    def operations(self, query: RunQuery, column: str | None = None) -> tuple[dict[str, int], list[str]]:
        """How many selected runs each operation has, and the operations whose runs have ``column``."""
        query = self._planned(query)
        try:
            counts = dict(self._ask(operations_sql(query)))
            having = [op for op in counts if column and self._ask(having_sql(query, op, column))[0][0]]
            return counts, having
        except IndexUnavailable as exc:
            found = self._fallback(exc, query)
            counts: dict[str, int] = {}
            for r in found:
                counts[r.operation] = counts.get(r.operation, 0) + 1
            having = {r.operation for r in found if column and (r.scalars.get(column) is not None or column in r.flags)}
            return counts, sorted(having)

    def count(self, query: RunQuery = EVERY_RUN) -> int:
        query = self._planned(query)
        try:
            return self._ask(count_sql(query))[0][0]
        except IndexUnavailable as exc:
            return len(self._fallback(exc, query))

    def ranked(self, query: RunQuery, column: str, descending: bool = False,
               limit: int | None = None) -> list[RunRecord] | None:
        """``records.rank`` of the selected runs by ``column`` (a scalar, else a flag), the first
        ``limit``, as one query; None when the index cannot rank them exactly so (no run has the
        column, a flag holds text, the index cannot be used): rank the records then."""
        query = self._planned(query)
        try:
            has_scalar, has_flag, text = self._ask(column_kinds_sql(query, column))[0]
            if not (has_scalar or has_flag) or text:
                return None
            if has_flag:
                return self._records(ranking_sql(query, column, descending, limit))
            found = self._records(scalar_ranking_sql(query, column, descending, limit))
            if limit is None or len(found) < limit:
                found += self._records(unranked_sql(query, column, limit and limit - len(found)))
            return found
        except IndexUnavailable:
            return None

    def batch_groups(self, query: RunQuery, limit: int | None = None, offset: int = 0,
                     prefix: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """The batches with runs among those ``query`` selects, newest first (see
        query.batch_groups_sql), each with its manifest ({} without one), one page of them."""
        query = self._planned(query)
        with self._lock:
            self._sync_manifests()
            rows = self._ask(batch_groups_sql(query, limit, offset, prefix))
            try:
                return [(i, _manifest(data)) for i, data in rows]
            except NotARecord as exc:  # set aside and rebuilt, as for a run's row (see _records)
                self.index.set_aside(str(exc))
                self._sync_manifests()
                return [(i, _manifest(data)) for i, data in self._ask(batch_groups_sql(query, limit, offset, prefix))]

    def batch_count(self, query: RunQuery, prefix: str | None = None) -> int:
        query = self._planned(query)
        with self._lock:
            self._sync_manifests()
            return self._ask(batch_count_sql(query, prefix))[0][0]

    def _sync_manifests(self) -> None:
        """Let the index hold batches/'s manifests, reading only those whose file changed;
        skipped while batches/ has not changed (a manifest is replaced by a rename)."""
        try:
            stamp = os.stat(self.batches_dir).st_mtime_ns
        except FileNotFoundError:
            stamp = None
        if stamp is not None and stamp == self.index.stamp("batches"):
            return
        known = self.index.manifest_identities()
        seen = {}
        if stamp is not None:
            store_safety.check(self.batches_dir)
            with os.scandir(self.batches_dir) as entries:
                for entry in entries:
                    if entry.name.endswith(".json") and not entry.name.startswith("."):
                        st = entry.stat(follow_symlinks=False)
                        seen[entry.name[:-5]] = (st.st_mtime_ns, st.st_size, st.st_ino)
        rows = [(i, *_manifest_fields(os.path.join(self.batches_dir, i + ".json")), *identity)
                for i, identity in seen.items() if known.get(i) != identity]
        self.index.put_manifests(rows, [i for i in known if i not in seen])
        if stamp is not None and _settled(stamp):
            self.index.set_stamp("batches", stamp)

    def listing(self, query: RunQuery = EVERY_RUN) -> RunListing:
        """The runs ``query`` selects as a sequence read a page at a time (see listing.py)."""
        return RunListing(self, query)

    def _query(self, batch: str | None, operation: str | None, limit: int | None,
               prefix: str | None = None, unfinished: bool = False) -> list[RunRecord]:
        query = RunQuery(batch=batch or None, operation=operation or None, id_prefix=prefix)
        return self.select(query.unfinished() if unfinished else query, limit)

    # -- runs ----------------------------------------------------------------------------

    def create(self, record: RunRecord, script_name: str | None = None, source: str | None = None) -> str:
        """Make the run's directory (with a copy of the script) and save its first record."""
        path = self.run_dir(record.id)
        before = _mtime(self.runs_dir)
        try:
            store_safety.private_dir(path)
            if source is not None and script_name:
                store_safety.private_dir(os.path.join(path, "sourcecode"))
        except OSError as exc:
            raise StoreError.writing(exc, path) from None
        if source is not None and script_name:
            write_private(os.path.join(path, "sourcecode", script_name), source.encode("utf-8"))
        self.save(record)
        try:
            self.index.advance_stamp("runs", before, _mtime(self.runs_dir))  # no reader lists runs/ for it
        except IndexUnavailable:
            pass
        return path

    def save(self, record: RunRecord, series: dict[str, list] | None = None) -> None:
        path = self.run_dir(record.id)
        if series:
            write_private(os.path.join(path, "series.json"), json.dumps(series).encode())
        text = json.dumps(record.to_json())
        write_private(os.path.join(path, "run.json"), text.encode())
        self.index.put([Row.of(record, text, _identity(os.path.join(path, "run.json")))])

    def open_output(self, run_id: str) -> OutputLog:
        path = os.path.join(self.run_dir(run_id), "output.log")
        try:
            fd = store_safety.open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        except OSError as exc:
            raise StoreError.writing(exc, path) from None
        os.fchmod(fd, 0o600)
        return OutputLog(os.fdopen(fd, "w", encoding="utf-8", errors="replace", buffering=1), path)

    def output(self, run_id: str) -> str:
        try:
            return store_safety.read_private(os.path.join(self.run_dir(run_id), "output.log")).decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def series(self, run_id: str) -> dict[str, list]:
        try:
            return json.loads(store_safety.read_private(os.path.join(self.run_dir(run_id), "series.json")))
        except FileNotFoundError:
            return {}

    def runs(self, batch: str | None = None, operation: str | None = None, limit: int | None = None) -> list[RunRecord]:
        """Runs, newest first, as recorded (``batch`` is a full batch id: see ``resolve_batch``)."""
        return self._query(batch, operation, limit)

    def reap_orphans(self) -> list[RunRecord]:
        """Mark runs whose supervising process died as terminated and kill their trials.

        The one step that changes runs nobody asked to change, like optuna's
        ``fail_stale_trials``: called where a batch starts and by ``runs``/``compare``.
        Returns the runs it terminated.
        """
        reaped = []
        for rec in self._query(None, None, None, unfinished=True):
            if owners.is_alive(rec.owner):
                continue
            truth = self.load(rec.id)  # the index may lag behind run.json (a write that failed)
            if truth is None:
                continue
            if truth.status.is_finished() or owners.is_alive(truth.owner):
                self._refresh(truth)
                continue
            owners.kill_orphan_trial(self.run_dir(rec.id))  # only our own trial's group (owners.py)
            truth = truth.evolve(status=Status.TERMINATED, reason="its process ended before the run finished")
            try:
                self.save(truth)
            except StoreError:
                continue  # a full disk: it is reaped when space is back
            reaped.append(truth)
        return reaped

    def _refresh(self, record: RunRecord) -> None:
        try:
            self.index.put([Row.of(record, identity=_identity(os.path.join(self.run_dir(record.id), "run.json")))])
        except StoreError:
            pass

    def batch_ids(self, prefix: str = "") -> set[str]:
        """The batches the store knows whose id starts with ``prefix``: from its runs (the index's
        batch summaries) and from the manifests."""
        try:
            ids = self.index.batches(prefix)
        except IndexUnavailable:
            ids = {r.batch for r in self._scan() if r.batch.startswith(prefix)}
        store_safety.check(self.batches_dir)
        if os.path.isdir(self.batches_dir):
            ids.update(n[:-5] for n in os.listdir(self.batches_dir) if n.endswith(".json") and n.startswith(prefix))
        return {b for b in ids if store_safety.is_name(b)}  # never a path: it names a manifest

    def resolve_batch(self, ref: str, option: str = "batch") -> str:
        """The full id of the one batch whose id starts with ``ref``; ``option`` names the
        option that gave it in the error."""
        found = sorted(self.batch_ids(ref)) if ref else []
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
        rows = self._query(None, None, 2, prefix=ref) if ref else []
        if not rows:
            raise StoreError(f"No run matches '{ref}' (accepted: a run id or its first characters)")
        if len(rows) > 1:
            raise StoreError(f"Run id '{ref}' is ambiguous: give more characters")
        return rows[0]

    def delete(self, refs: list[str]) -> list[RunRecord]:
        records = [self.get(ref) for ref in refs]  # all resolve before anything is removed
        for rec in records:
            if not rec.status.is_finished():
                raise StoreError(f"Run {rec.short_id} is {rec.status.value}: stop it before deleting it")
        for rec in records:
            store_safety.check(self.run_dir(rec.id))  # rmtree never follows a planted link
            shutil.rmtree(self.run_dir(rec.id), ignore_errors=True)
        try:
            self.index.remove(r.id for r in records)
        except IndexUnavailable:
            pass  # the directories are gone: the next reader's reconcile drops them
        return records

    def forget(self, run_ids: list[str]) -> None:
        """Drop runs from the index only (their directories were moved away, e.g. to the trash)."""
        try:
            self.index.remove(run_ids)
        except IndexUnavailable:
            pass  # the directories are gone: the next reader's reconcile drops them

    def close(self) -> None:
        self.index.close()

    def __getstate__(self) -> dict[str, Any]:  # a Store travels by its paths
        return {"root": self.root, "index_path": self.index_path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["root"], state["index_path"])


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _settled(stamp: int) -> bool:
    """A folder's mtime that a change made in the same clock tick can no longer hide."""
    return time.time_ns() - stamp > 2_000_000_000


def _manifest_fields(path: str) -> tuple:
    """(created, total, text) of a manifest; (None, None, None) when it cannot be read as one."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        data = json.loads(text)
    except (OSError, ValueError):
        return None, None, None
    if not isinstance(data, dict):
        return None, None, None
    created, total = data.get("created"), data.get("total")
    number = (int, float)
    return (created if isinstance(created, number) else None, total if isinstance(total, int) else None, text)


class NotARecord(StoreError):
    """An index row whose data is not the JSON it was written as (the index's file was changed)."""


def _manifest(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text) if text else {}
    except (ValueError, TypeError) as exc:
        raise NotARecord(f"a batch's manifest is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise NotARecord(f"a batch's manifest is a JSON {type(data).__name__}, not an object")
    return data


def _decoded(rows: list[tuple]) -> list[RunRecord]:
    try:
        return [RunRecord.from_json(json.loads(data)) for (data,) in rows]
    except (ValueError, TypeError, AttributeError) as exc:
        raise NotARecord(f"a run's row holds no record: {exc}") from None


def _identity(path: str) -> tuple:
    """A file's identity as the index keeps it: (mtime_ns, size, inode); all None when it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return (None, None, None)
    return st.st_mtime_ns, st.st_size, st.st_ino


def _listing_key(record: RunRecord) -> tuple:
    """A run's place in LISTING_ORDER: newest first, a run without a start last, then by id."""
    return (record.started is None, -(record.started or 0), record.id)
