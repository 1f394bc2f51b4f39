"""What a Dask trial costs beyond its script: --dask beside serial, --workers and plain client.map.

    python bench/bench_dask.py [--repeats 3] [--cases small,large] [--profile | --cpu]

Two cases, each on its own local cluster (a `dask scheduler` and `dask worker --nworkers W
--nthreads T` started here, on 127.0.0.1):

- small: 8 trials of a script that sleeps 0.5 s, on 2 workers x 2 threads; serial, --workers 4,
  --dask, and the floor. Target: --dask at most 0.45x serial.
- large: 64 trials of 0.2 s on 4 workers x 2 threads; --workers 8, --dask and the floor.
  Target: --dask at most 1.3x the floor.

The floor is plain ``client.map`` of the same subprocess (``python script.py``, output captured)
on the same cluster: what Dask itself costs, with none of hpwidgets' streaming, pruning, files or
store. Every batch is timed from ``prepare`` (which connects to the scheduler) to the end of
``start``. The modes alternate within each repeat, so a load that comes and goes reaches them
alike. A first batch and map warm the workers (imports); the batch's time is shown apart as
"cold". Medians over the repeats.

--profile times the parts of one Dask trial on the small cluster (the scheduler round trips of
a task, the subprocess, the stream, the files-back scan) instead of the cases.

--cpu counts the CPU time each process spends on the large case, per trial, for --dask and the
floor: this process (the engine and the Dask client), the scheduler, the workers (and their
nannies) and the trials (the workers' reaped children). On a 2-core machine with 8 slots the
batch is CPU-bound, so CPU per trial is what the wall time follows. The cluster's idle cost
(heartbeats, monitors) is measured apart and is counted in each mode for as long as it runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).parent)]

from local_cluster import start_cluster, stop_cluster  # noqa: E402

from hpwidgets.core.records import Status  # noqa: E402
from hpwidgets.core.run.batch import prepare  # noqa: E402
from hpwidgets.core.search.plan import RunOptions  # noqa: E402
from hpwidgets.core.store.runstore import Store  # noqa: E402

CASES = {  # name: (trials, seconds each, dask workers, threads each, target, compared with)
    "small": (8, 0.5, 2, 2, 0.45, "serial"),
    "large": (64, 0.2, 4, 2, 1.3, "client.map"),
}


def sleeper(seconds: float) -> str:
    return f"import time\nx = 0\ntime.sleep({seconds})\nprint(f'loss: {{x}}')\n"


def timed_batch(script: str, store: Store, trials: int, **options) -> float:
    t0 = time.perf_counter()
    batch = prepare(script, {"x": list(range(trials))}, RunOptions(**options), store)
    batch.start()
    elapsed = time.perf_counter() - t0
    statuses = {r.status for r in batch.runs}
    assert len(batch.runs) == trials and statuses == {Status.COMPLETED}, statuses
    return elapsed


def run_script(script: str, x: int) -> tuple[int, str]:
    """The floor's task: the script in a fresh interpreter, its output captured."""
    proc = subprocess.run([sys.executable, script], capture_output=True, text=True, env={**os.environ, "X": str(x)})
    return proc.returncode, proc.stdout


def timed_map(address: str, script: str, trials: int) -> float:
    from distributed import Client

    t0 = time.perf_counter()
    with Client(address, timeout="30s", set_as_default=False) as client:
        results = client.gather(client.map(run_script, [script] * trials, range(trials), pure=False))
    elapsed = time.perf_counter() - t0
    assert [code for code, _ in results] == [0] * trials and all("loss:" in out for _, out in results)
    return elapsed


def run_case(name: str, repeats: int, tmp: str) -> None:
    trials, seconds, workers, threads, target, against = CASES[name]
    slots = workers * threads
    print(f"## {name}: {trials} trials of {seconds} s, {workers} Dask workers x {threads} threads "
          f"({slots} slots)", flush=True)  # fmt: skip
    script = os.path.join(tmp, f"sleeper-{name}.py")
    Path(script).write_text(sleeper(seconds))
    store = Store(os.path.join(tmp, f"store-{name}"))
    address, procs = start_cluster(tmp, workers, threads)
    times: dict[str, list[float]] = {}
    try:
        cold = timed_batch(script, store, trials, dask=address)  # the workers import hpwidgets first
        timed_map(address, script, slots)
        for r in range(repeats):
            modes = {
                f"--workers {slots}": lambda: timed_batch(script, store, trials, workers=slots),
                "--dask": lambda: timed_batch(script, store, trials, dask=address),
                "client.map": lambda: timed_map(address, script, trials),
            }
            if against == "serial":
                modes = {"serial": lambda: timed_batch(script, store, trials), **modes}
            for mode, measure in modes.items():
                times.setdefault(mode, []).append(measure())
            print(f"  run {r + 1}: " + ", ".join(f"{m} {t[-1]:.2f} s" for m, t in times.items()), flush=True)
    finally:
        stop_cluster(procs)
    base = statistics.median(times[against])
    print(f"{'mode':16} {'median s':>9} {'x ' + against:>13}   each run")
    for mode, runs in times.items():
        med = statistics.median(runs)
        ratios = " ".join(f"{t / times[against][i]:.2f}" for i, t in enumerate(runs))
        print(f"{mode:16} {med:9.2f} {med / base:13.2f}   {' '.join(f'{t:.2f}' for t in runs)} (ratios {ratios})")
    dask = statistics.median(t / times[against][i] for i, t in enumerate(times["--dask"]))
    verdict = "ok" if dask <= target else "MISSED"
    print(f"{'--dask, cold':16} {cold:9.2f} {cold / base:13.2f}   (the first batch on fresh workers, once)")
    print(f"--dask: median of the per-run ratios {dask:.2f} x {against}, target <= {target}: {verdict}\n", flush=True)


def profile(tmp: str, rounds: int = 20) -> None:
    """The parts of one Dask trial, each timed alone on a 2 x 2 cluster (medians in ms)."""
    import pickle

    from distributed import Client, Event

    from hpwidgets.core.run.cancel import CancelToken
    from hpwidgets.core.run.executors.local import trial_env
    from hpwidgets.core.run.executors.subprocess_group import run_group
    from hpwidgets.core.run.executors.trial_files import collect
    from hpwidgets.core.run.scripts import SPEC_FILE, command, inspect_script

    script = os.path.join(tmp, "quick.py")
    Path(script).write_text(sleeper(0.0))
    info = inspect_script(script)
    address, procs = start_cluster(tmp, 2, 2)
    parts: dict[str, list[float]] = {}

    def clock(part: str, fn) -> None:
        t0 = time.perf_counter()
        fn()
        parts.setdefault(part, []).append(1000 * (time.perf_counter() - t0))

    def before_marks(client: Client, i: int) -> None:  # what the code before did per trial, in turn
        client.get_dataset(f"b{i}", default=None)
        client.publish_dataset(**{f"b{i}": "tcp://127.0.0.1:1"})
        Event(f"b{i}-kill", client=client).is_set()
        client.unpublish_dataset(f"b{i}")
        Event(f"b{i}-kill", client=client).clear()

    def folder(cwd: str) -> list[str]:
        copy = os.path.join(cwd, "sourcecode", info.name)
        os.makedirs(os.path.dirname(copy))
        Path(copy).write_text(info.source)
        return command(info, {"x": 1}, copy, os.path.join(cwd, SPEC_FILE))

    def quiet(argv: list[str], cwd: str) -> None:
        run_group(argv, cwd, trial_env(), lambda line: None, CancelToken(), None)

    try:
        with Client(address, timeout="30s", set_as_default=False) as client:
            client.submit(len, "warm", pure=False).result()
            for i in range(rounds):
                clock("Dask: submit and result of a no-op task", lambda: client.submit(len, "x", pure=False).result())
                clock("one scheduler round trip (get_dataset)", lambda: client.get_dataset("none", default=None))
                clock("before: 5 round trips (marks, stop check)", lambda i=i: before_marks(client, i))
                clock("now: the claim (publish, override=False)", lambda i=i: client.publish_dataset(**{f"c{i}": "a"}))
                clock("now: its removal (off the trial's path)", lambda i=i: client.unpublish_dataset(f"c{i}"))
                clock("pickle the task's arguments", lambda: pickle.dumps((info, {"x": 1}, None, "k", "m", "t")))
                with tempfile.TemporaryDirectory(dir=tmp) as cwd:
                    clock("the trial's folder (source copy, flags file)", lambda cwd=cwd: folder(cwd))
                    argv = command(info, {"x": 1}, script, os.path.join(cwd, SPEC_FILE))
                    clock("the script under the bootstrap (run_group)", lambda argv=argv, cwd=cwd: quiet(argv, cwd))
                    clock("the bare script (run_group)", lambda cwd=cwd: quiet([sys.executable, script], cwd))
                    clock("files-back scan, nothing written (collect)", lambda cwd=cwd: collect(cwd, 1 << 20))
    finally:
        stop_cluster(procs)
    print(f"## one Dask trial's parts, each alone (ms, median of {rounds})")
    for part, values in parts.items():
        print(f"{part:48} {statistics.median(values):8.1f}")


def _cpu_seconds(pid: int) -> tuple[float, float]:
    """(own, reaped children's) CPU seconds of ``pid``."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick


def _cluster_cpu(procs: list[subprocess.Popen]) -> dict[str, float]:
    """CPU seconds so far: the scheduler's, the workers' (nannies' included) and their trials'."""
    from hpwidgets.core.run.process_tree import descendants

    totals = {"scheduler": 0.0, "workers": 0.0, "trials": 0.0}
    totals["scheduler"] = _cpu_seconds(procs[0].pid)[0]
    for pid in [procs[1].pid, *descendants(procs[1].pid)]:
        try:
            own, reaped = _cpu_seconds(pid)
        except OSError:  # a trial that just ended
            continue
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            if b"sleeper" in fh.read():
                continue  # a running trial (its script's name, also on the bootstrap's line): counted once reaped
        totals["workers"] += own
        totals["trials"] += reaped
    usage = resource.getrusage(resource.RUSAGE_SELF)
    totals["this process"] = usage.ru_utime + usage.ru_stime
    return totals


def cpu(tmp: str, repeats: int) -> None:
    """CPU ms per trial by process on the large case, --dask beside the floor (medians)."""
    trials, seconds, workers, threads = CASES["large"][:4]
    script = os.path.join(tmp, "sleeper-cpu.py")
    Path(script).write_text(sleeper(seconds))
    store = Store(os.path.join(tmp, "store-cpu"))
    address, procs = start_cluster(tmp, workers, threads)
    modes = {"--dask": lambda: timed_batch(script, store, trials, dask=address),
             "client.map": lambda: timed_map(address, script, trials), "idle, 3 s": lambda: time.sleep(3.0)}
    per: dict[str, dict[str, list[float]]] = {m: {} for m in modes}
    try:
        timed_batch(script, store, trials, dask=address)
        timed_map(address, script, workers * threads)
        for _ in range(repeats):
            for mode, measure in modes.items():
                before, t0 = _cluster_cpu(procs), time.perf_counter()
                measure()
                wall = time.perf_counter() - t0
                time.sleep(0.5)  # the last trials reaped
                after = _cluster_cpu(procs)
                for kind in after:
                    per[mode].setdefault(kind, []).append(1000 * (after[kind] - before[kind]) / trials)
                per[mode].setdefault("wall s", []).append(wall)
    finally:
        stop_cluster(procs)
    kinds = list(per["--dask"])
    print(f"## CPU ms per trial, {trials} trials of {seconds} s on {workers} x {threads} (median of {repeats})")
    print(f"{'mode':12} " + " ".join(f"{k:>12}" for k in kinds) + f" {'sum':>8}")
    for mode, values in per.items():
        meds = {k: statistics.median(v) for k, v in values.items()}
        total = sum(v for k, v in meds.items() if k != "wall s")
        print(f"{mode:12} " + " ".join(f"{meds[k]:12.1f}" if k != "wall s" else f"{meds[k]:12.2f}" for k in kinds)
              + f" {total:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES), help=", ".join(CASES))
    parser.add_argument("--profile", action="store_true", help="time the parts of one Dask trial instead")
    parser.add_argument("--cpu", action="store_true", help="CPU per trial by process, --dask and the floor")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}; python {sys.version.split()[0]}\n")
    with tempfile.TemporaryDirectory(prefix="hpw-bench-") as tmp:
        if args.profile:
            profile(tmp)
            return
        if args.cpu:
            cpu(tmp, args.repeats)
            return
        for name in args.cases.split(","):
            if name not in CASES:
                parser.error(f"--cases: unknown {name}; accepted: {', '.join(CASES)}")
            run_case(name, args.repeats, tmp)


if __name__ == "__main__":
    main()
