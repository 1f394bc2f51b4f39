"""The store at 1,000 and at 100,000 runs, side by side: each reading command's time and memory,
writing per trial, and rebuilding a deleted index.

    python bench/bench_store.py [--small 1000] [--large 100000] [--repeat 3] [--cache /tmp/hpw-bench-store]
    python bench/bench_store.py --rebuild-only [--against OTHER_CHECKOUT] [--repeat 5]

Stores are built through the store's own API (a run created, then saved completed with its
series, as a trial does: two writes), two runs per batch, and kept under ``--cache`` for the
next run (delete the folder to build again). Reading commands run as `hpw` subprocesses
(their time and peak RSS, medians of ``--repeat``). The machine is shared and noisy: read the
ratios. Targets (the store's issue): each command at most 1.5x its time and memory at the
small size, ``compare --top 5`` at most 0.35 s, writing flat (the last 10,000 trials at most
1.5x the first 10,000), a rebuild at most 15 s. ``--rebuild-only`` times just the rebuild, each in
a fresh process, alternating with the code of ``--against`` (another checkout) when given, so
that both see the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
sys.path.insert(0, HERE)

from bench_core import timed  # noqa: E402

COMMANDS = [
    ("runs", ["runs"]),
    ("runs info 1", ["runs", "info", "1"]),
    ("runs --completed", ["runs", "--completed"]),
    ("runs --filter 'x > 1.9' (a flag)", ["runs", "--filter", "x > 1.9"]),
    ("compare --top 5 --min loss --table", ["compare", "--top", "5", "--min", "loss", "--table"]),
    ("batches", ["batches"]),
    ("batches info 1", ["batches", "info", "1"]),
    ("compare --csv - (every run: linear)", ["compare", "--csv", "-"]),
]
WINDOW = 10_000  # trials in the first and last windows of the writing figure


def build(root: str, n: int, seed: int = 0) -> dict:
    """A store of ``n`` runs (two per batch), timed per trial; reused when it is complete."""
    done = os.path.join(root, "bench-complete.json")
    if os.path.exists(done):
        with open(done) as fh:
            return json.load(fh)
    shutil.rmtree(root, ignore_errors=True)
    from hpwidgets.core.records import RunRecord, Status
    from hpwidgets.core.store.runstore import Store

    rng = random.Random(seed)
    store = Store(root)
    times = []
    start = 1.7e9
    batch = ""
    for i in range(n):
        if i % 2 == 0:
            batch = f"{rng.getrandbits(128):032x}"
        x = rng.uniform(-2, 2)
        loss = [round((x - 0.3) ** 2 + rng.gauss(0, 0.1) / (s + 1), 6) for s in range(3)]
        rec = RunRecord(id=f"{rng.getrandbits(128):032x}", batch=batch, operation="train.py",
                        flags={"x": x, "noise": 0.1}, status=Status.RUNNING, started=start + i,
                        label=f"noise=0.1 x={x:.5g}", trial=i % 2, searched=("x",))
        t0 = time.perf_counter()
        store.create(rec, "train.py", "x = 0.1\nnoise = 0.1\n")
        store.save(rec.evolve(status=Status.COMPLETED, stopped=start + i + 0.5, scalars={"loss": loss[-1]}, step=2,
                              exit_code=0), series={"loss": [[s, v] for s, v in enumerate(loss)]})
        times.append(time.perf_counter() - t0)
    store.close()
    window = min(WINDOW, n // 2)
    facts = {"first_ms": 1000 * statistics.mean(times[:window]), "last_ms": 1000 * statistics.mean(times[-window:]),
             "window": window}
    with open(done, "w") as fh:
        json.dump(facts, fh)
    return facts


def measured(args: list[str], home: str, repeat: int) -> tuple[float, float]:
    """Median seconds and peak RSS (MB) of `hpw ARGS` on the store at ``home``."""
    env = {**os.environ, "HPWIDGETS_HOME": home, "PYTHONPATH": REPO}
    times, rss = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "hpwidgets.cli", *args], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - t0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode()
        proc.stderr.close()
        if proc.returncode:
            raise SystemExit(f"hpw {' '.join(args)} failed on {home}: {err}")
        rss.append(usage.ru_maxrss / 1024)
    return statistics.median(times), statistics.median(rss)


def in_process(args: list[str], home: str, repeat: int) -> float:
    """Median seconds of the command inside this process (no interpreter start: the query's own cost)."""
    import contextlib
    import io

    from hpwidgets.cli import main as hpw

    os.environ["HPWIDGETS_HOME"] = home

    def once() -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            hpw(args)

    once()  # imports and the first open of the index
    return timed(once, repeat)


REBUILD = """
import os, sys, time
home, code = sys.argv[1:3]
sys.path.insert(0, code)
from hpwidgets.core.store.runstore import Store
for suffix in ("", "-wal", "-shm"):
    if os.path.exists(os.path.join(home, "index.db" + suffix)):
        os.remove(os.path.join(home, "index.db" + suffix))
t0 = time.perf_counter()
store = Store(home)
store.runs(limit=1)
print(time.perf_counter() - t0)
store.close()
"""


def rebuild_seconds(home: str, code: str = REPO) -> tuple[float, float]:
    """A deleted index rebuilt from the run directories by the code at ``code``, in a fresh
    process (warm page cache: they were just read): its seconds, and the CPU seconds of the
    process and its workers (less shaken by a loaded machine than the time)."""
    proc = subprocess.Popen([sys.executable, "-I", "-c", REBUILD, home, code], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.stdout.close()
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"the rebuild by {code} failed")
    return float(out), usage.ru_utime + usage.ru_stime


def rebuild_only(home: str, against: str | None, repeat: int) -> None:
    """Rebuild times, medians of ``repeat``, this checkout's beside ``against``'s, alternating."""
    codes = {"this": REPO, **({"against": against} if against else {})}
    rebuild_seconds(home)  # the run directories into the page cache
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in codes}
    for _ in range(repeat):
        for name, code in codes.items():
            times[name].append(rebuild_seconds(home, code))
    for name, taken in times.items():
        wall, cpu = statistics.median(t for t, _ in taken), statistics.median(c for _, c in taken)
        print(f"rebuild of a deleted index ({name}: {codes[name]}): median {wall:.2f} s, CPU {cpu:.2f} s; "
              f"of {', '.join(f'{t:.2f}' for t, _ in taken)}")
    if against:
        ratio = [statistics.median(x for x, _ in times["this"]) / statistics.median(x for x, _ in times["against"]),
                 statistics.median(c for _, c in times["this"]) / statistics.median(c for _, c in times["against"])]
        print(f"ratio this/against: time {ratio[0]:.2f}, CPU {ratio[1]:.2f}")


def sidebar_listing(home: str, repeat: int) -> float:
    from hpwidgets.core.results.batch_info import overview
    from hpwidgets.core.store.runstore import Store

    store = Store(home)
    took = timed(lambda: overview(store), repeat)
    store.close()
    return took


def idle_sidebar(home: str, seconds: float) -> float:
    """The share of a core the Runs sidebar's watcher costs with one open stream and nothing
    changing in the store (the process's CPU time, its threads included, over wall time)."""
    import asyncio

    os.environ["HPWIDGETS_HOME"] = home
    from hpwidgets.labserver.watcher import POLL, StoreWatcher

    async def watch() -> float:
        watcher = StoreWatcher()
        queue = watcher.subscribe()
        await queue.get()  # the first listing
        t0, c0 = time.perf_counter(), time.process_time()
        await asyncio.sleep(seconds)
        share = (time.process_time() - c0) / (time.perf_counter() - t0)
        watcher.unsubscribe(queue)
        await asyncio.sleep(2 * POLL)  # its loop ends with no stream left
        return share

    return asyncio.run(watch())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", default="/tmp/hpw-bench-store")
    parser.add_argument("--skip-rebuild", action="store_true")
    parser.add_argument("--rebuild-only", action="store_true", help="time only the rebuild at --large runs")
    parser.add_argument("--against", help="another checkout whose rebuild is timed alternately (--rebuild-only)")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds the idle sidebar is measured")
    args = parser.parse_args()
    sizes = (args.small, args.large)
    homes = {n: os.path.join(args.cache, str(n)) for n in sizes}
    os.makedirs(args.cache, mode=0o700, exist_ok=True)
    if args.rebuild_only:
        build(homes[args.large], args.large)
        rebuild_only(homes[args.large], args.against, args.repeat)
        return
    writing = {}
    for n in sizes:
        t0 = time.perf_counter()
        writing[n] = build(homes[n], n)
        print(f"store of {n} runs ready in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print(f"{'command (as a subprocess; in process)':40} {'s@' + str(args.small):>9} {'s@' + str(args.large):>10} "
          f"{'ratio':>6} {'MB@' + str(args.small):>9} {'MB@' + str(args.large):>10} {'ratio':>6}"
          f" {'in@' + str(args.small):>9} {'in@' + str(args.large):>10} {'ratio':>6}")
    # every subprocess before anything is imported here: a child's peak RSS counts the parent it forked from
    outside = {name: [measured(argv, homes[n], args.repeat) for n in sizes] for name, argv in COMMANDS}
    for name, argv in COMMANDS:
        (ts, ms), (tl, ml) = outside[name]
        ins, inl = (in_process(argv, homes[n], args.repeat) for n in sizes)
        print(f"{name:40} {ts:9.3f} {tl:10.3f} {tl / ts:6.2f} {ms:9.1f} {ml:10.1f} {ml / ms:6.2f}"
              f" {ins:9.4f} {inl:10.4f} {inl / ins:6.2f}")
    small, large = (sidebar_listing(homes[n], args.repeat) for n in sizes)
    print(f"{'sidebar listing (in process)':40} {small:9.3f} {large:10.3f} {large / small:6.2f}")
    small, large = (idle_sidebar(homes[n], args.idle) for n in sizes)
    print(f"{'idle sidebar, share of a core':40} {100 * small:8.2f}% {100 * large:9.2f}%")
    w = writing[args.large]
    print(f"writing, ms per trial: first {w['window']} {w['first_ms']:.2f}, last {w['window']} "
          f"{w['last_ms']:.2f}, ratio {w['last_ms'] / w['first_ms']:.2f}")
    if not args.skip_rebuild:
        print(f"rebuild of a deleted index at {args.large} runs: {rebuild_seconds(homes[args.large])[0]:.1f} s")


if __name__ == "__main__":
    main()
