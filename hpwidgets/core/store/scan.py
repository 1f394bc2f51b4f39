"""Reading every run directory for a rebuild of the index, in id order (so that each table's
rows are appended in key order), a chunk at a time, by worker processes when there are many.

A worker is a fresh interpreter (``python -c``), never a fork: the rebuilding process holds the
index's lock and an open transaction, and may run other threads (a kernel). Each worker reads
every ``workers``-th chunk and sends back its rows (``index.parts_of``), the ids it skipped and
the lines to report; this process reports them in id order, as one reader would. A worker that
cannot start or breaks leaves its chunks to be read here.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

from hpwidgets.core.store.index import Chunk, parts_of
from hpwidgets.core.store.run_files import read_fields
from hpwidgets.core.store.safety import report

CHUNK = 1000  # runs per chunk
PARALLEL_FROM = 5000  # fewer runs are read here: a worker costs ~0.1 s to start
MOST_WORKERS = 8
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
# isolated (-I): the worker imports this very package, never one in the current directory
_WORKER = f"import sys; sys.path.insert(0, {_ROOT!r}); from hpwidgets.core.store.scan import serve; serve()"


def chunks(runs_dir: str, names: list[str], workers: int | None = None) -> Iterator[Chunk]:
    """The run directories ``names`` under ``runs_dir`` read in id order, a chunk at a time;
    ``workers``: processes reading them (default: one per core, none below PARALLEL_FROM runs)."""
    names = sorted(names)
    parts = [names[i : i + CHUNK] for i in range(0, len(names), CHUNK)]
    if workers is None:
        workers = 0 if len(names) < PARALLEL_FROM else min(_cores(), MOST_WORKERS)
    if workers < 2 or len(parts) < 2:
        for part in parts:
            yield _reported(read_chunk(runs_dir, part))
        return
    yield from _in_workers(runs_dir, parts, min(workers, len(parts)))


def read_chunk(runs_dir: str, names: list[str]) -> tuple[Chunk, list[tuple[str, str]]]:
    """Some run directories read: their rows and skipped ids, and the (path, why) to report."""
    problems: list[tuple[str, str]] = []
    chunk = Chunk([], [], [], [], [])
    for name in names:
        read = read_fields(runs_dir, name, lambda path, why: problems.append((path, why)))
        if read is None:
            chunk.skipped.append(name)
            continue
        run, scalars, flags, tags = parts_of(*read)
        chunk.runs.append(run)
        chunk.scalars.extend(scalars)
        chunk.flags.extend(flags)
        chunk.tags.extend(tags)
    return chunk, problems


def _reported(read: tuple[Chunk, list[tuple[str, str]]]) -> Chunk:
    chunk, problems = read
    for path, why in problems:
        report(path, why)
    return chunk


def _in_workers(runs_dir: str, parts: list[list[str]], workers: int) -> Iterator[Chunk]:
    procs, threads, results = [], [], []
    try:
        for k in range(workers):
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-I", "-c", _WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE
                )
            except OSError:
                break  # no more processes: the rest is read here
            procs.append(proc)
            results.append(queue.Queue())
            threads.append(
                threading.Thread(
                    target=_collect,
                    args=(proc, (runs_dir, parts[k::workers]), results[k]),
                    daemon=True,
                    name="hpwidgets-scan",
                )
            )
            threads[k].start()
        broken = set(range(len(procs), workers))
        for i, part in enumerate(parts):
            found = None if i % workers in broken else results[i % workers].get()
            if found is None:
                broken.add(i % workers)
                found = read_chunk(runs_dir, part)
            yield _reported(found)
    finally:
        for proc in procs:
            proc.kill()  # done by now, or the rebuild was given up: nothing more of theirs is needed
            proc.wait()
        for thread in threads:
            thread.join()  # it has met the end of its pipe
        for proc in procs:
            proc.stdin.close()
            proc.stdout.close()


def _collect(proc: subprocess.Popen, work: tuple[str, list[list[str]]], results: queue.Queue) -> None:
    """A thread's: what ``proc`` sends back, chunk after chunk, into ``results`` (a worker never
    waits while this process inserts rows); None once it broke."""
    try:
        pickle.dump(work, proc.stdin)
        proc.stdin.close()
        for _ in work[1]:
            results.put(pickle.load(proc.stdout))
    except Exception:  # noqa: BLE001 - whatever broke it, its chunks are read by the rebuilding process
        results.put(None)


def serve() -> None:
    """A worker: reads (runs_dir, parts) on stdin, sends back each part's read_chunk on stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the rebuilding process's to handle
    runs_dir, parts = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer
    try:
        for part in parts:
            pickle.dump(read_chunk(runs_dir, part), out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
    except BrokenPipeError:
        pass  # the rebuild was given up


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
