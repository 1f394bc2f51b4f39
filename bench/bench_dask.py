"""What a Dask trial costs beyond its script: --dask beside serial, --workers and plain client.map.

    python bench/bench_dask.py [--repeats 3] [--cases small,large] [--profile]

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
"""

from __future__ import annotations

import argparse
import os
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES), help=", ".join(CASES))
    parser.add_argument("--profile", action="store_true", help="time the parts of one Dask trial instead")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}; python {sys.version.split()[0]}\n")
    with tempfile.TemporaryDirectory(prefix="hpw-bench-") as tmp:
        if args.profile:
            profile(tmp)
            return
        for name in args.cases.split(","):
            if name not in CASES:
                parser.error(f"--cases: unknown {name}; accepted: {', '.join(CASES)}")
            run_case(name, args.repeats, tmp)


if __name__ == "__main__":
    main()
