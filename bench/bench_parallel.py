"""Parallel trials beside serial ones: wall time, and what parallelism costs the gp optimizer.

    python bench/bench_parallel.py [--seeds N] [--seed-offset K] [--objectives a,b] [--no-dask]
        [--no-gp] [--no-wall] [--lag]

1. Wall time of 16 trials of a script that sleeps 0.5 s and prints a loss: serial, --workers 4,
   and --dask on a 4-worker cluster (a `dask scheduler` and `dask worker --nworkers 4
   --nthreads 1` started here, on 127.0.0.1). Sleeping trials parallelize even on 2 cores.
2. gp success rate after 20 trials, serial versus --workers 4, on bench/objectives.py with
   in-process function trials. Success: regret of the best OBSERVED trial below the
   objective's tolerance. Noise is common: a seeded draw per (seed, point), whatever the order.
   A parallel trial lasts 0.1-0.3 s (drawn per point), so results come back as from real
   trials of similar length, with about N - 1 others in flight at each suggestion; instant
   trials would leave fewer in flight and flatter the parallel figure. Threads still decide the
   exact order, so the same seed can end differently from one run to the next: the parallel
   rate is the mean of --repeats runs (each printed); the serial one is deterministic. The
   "simulated" column replays the same searches on a simulated clock (same durations, the
   first to finish told first): no thread noise, so it compares two versions of the code. The
   threaded and simulated rates agree when they differ by at most twice a rate's binomial
   spread over the seeds.
3. --lag (alone): serial success at 16-20 trials beside 4 workers' at 20-24, both on the
   simulated clock: how many trials the workers cost.
4. --in-flight (alone): 4 workers at budget B (20 and 40; 60 for Hartmann-6) beside serial at
   B - 3 and at B, on the simulated clock, same seeds: success, median regret, and paired sign
   tests (two-sided) of 4 workers against serial at B - 3 on regret and on success. A search
   with 4 workers chooses each trial from 3 fewer results than a serial one, so serial at B - 3
   is what it can be asked to match.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import os
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# One BLAS thread per process (as bench_optimizers.py): with idle OpenBLAS threads around, every
# LAPACK call of the gp's fit waits for them, and the --lag processes crawl.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).parent)]

import numpy as np  # noqa: E402
from local_cluster import start_cluster, stop_cluster  # noqa: E402
from objectives import OBJECTIVES, Objective  # noqa: E402

from hpwidgets.core.records import Status  # noqa: E402
from hpwidgets.core.run.batch import prepare  # noqa: E402
from hpwidgets.core.search.optimizers.bayes import BayesOptimizer  # noqa: E402
from hpwidgets.core.search.plan import RunOptions  # noqa: E402
from hpwidgets.core.search.space import Categorical, Integer, Real  # noqa: E402
from hpwidgets.core.store.runstore import Store  # noqa: E402

TRIALS, SLEEP, WORKERS, GP_TRIALS = 16, 0.5, 4, 20
TARGETS = {"workers": 0.35, "dask": 0.40}
SLEEPER = f"import time\nx = 0\ntime.sleep({SLEEP})\nprint(f'loss: {{x}}')\n"


def timed_batch(script: str, store: Store, **options) -> float:
    batch = prepare(script, {"x": list(range(TRIALS))}, RunOptions(**options), store)
    t0 = time.perf_counter()
    batch.start()
    elapsed = time.perf_counter() - t0
    statuses = {r.status for r in batch.runs}
    assert len(batch.runs) == TRIALS and statuses == {Status.COMPLETED}, statuses
    return elapsed


def wall_times(use_dask: bool) -> None:
    print(f"## Wall time: {TRIALS} trials of a script that sleeps {SLEEP} s")
    with tempfile.TemporaryDirectory(prefix="hpw-bench-") as tmp:
        script = os.path.join(tmp, "sleeper.py")
        Path(script).write_text(SLEEPER)
        store = Store(os.path.join(tmp, "store"))
        serial = timed_batch(script, store)
        rows = [
            ("serial", serial, None, None),
        ]
        parallel = timed_batch(script, store, workers=WORKERS)
        rows.append((f"--workers {WORKERS}", parallel, parallel / serial, TARGETS["workers"]))
        if use_dask:
            address, procs = start_cluster(tmp, WORKERS, 1)
            try:
                cold = timed_batch(script, store, dask=address)  # workers import hpwidgets first
                warm = timed_batch(script, store, dask=address)
            finally:
                stop_cluster(procs)
            rows.append((f"--dask, {WORKERS} workers (first batch)", cold, cold / serial, TARGETS["dask"]))
            rows.append((f"--dask, {WORKERS} workers (next batch)", warm, warm / serial, TARGETS["dask"]))
    print(f"{'mode':34} {'seconds':>8} {'x serial':>9} {'target':>8}")
    for name, seconds, ratio, target in rows:
        verdict = "" if target is None else ("  ok" if ratio <= target else "  MISSED")
        r = "" if ratio is None else f"{ratio:.2f}"
        t = "" if target is None else f"<= {target:.2f}"
        print(f"{name:34} {seconds:8.2f} {r:>9} {t:>8}{verdict}")


def _flags(obj: Objective) -> dict:
    out: dict = {}
    for name, dim in obj.space.items():
        if isinstance(dim, Categorical):
            out[name] = list(dim.choices)
        elif isinstance(dim, Integer):
            out[name] = f"[{dim.low}:{dim.high}]"
        elif isinstance(dim, Real):
            out[name] = f"{'loguniform' if dim.log else ''}[{float(dim.low)!r}:{float(dim.high)!r}]"
    return out


def _draws(seed: int, params: dict) -> tuple[float, float]:
    """A point's noise draw and its trial's duration (0.1-0.3 s), the same in any order."""
    digest = hashlib.sha256(repr((seed, sorted(params.items()))).encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    return float(rng.standard_normal()), 0.1 + 0.2 * float(rng.random())


def gp_search(obj: Objective, seed: int, workers: int, store: Store) -> bool:
    def objective(**params) -> float:
        draw, duration = _draws(seed, params)
        if workers > 1:
            time.sleep(duration)
        return obj.f(params) + obj.noise_sd * draw

    options = RunOptions(optimizer="gp", max_trials=GP_TRIALS, random_seed=seed, workers=workers,
                         opt_flags={"prev-trials": "batch"})  # fmt: skip
    batch = prepare(objective, _flags(obj), options, store)
    batch.start()
    assert len(batch.runs) == GP_TRIALS
    return obj.regret(batch.best.flags) < obj.tolerance


def simulated_search(obj: Objective, seed: int, workers: int, trials: int = GP_TRIALS) -> float:
    """The same search on a simulated clock, its best observed trial's regret: each trial lasts
    its drawn duration and the first to finish is told first, so the order is reproducible."""
    opt = BayesOptimizer(obj.space, "gp", seed=seed, max_trials=trials)
    running: list = []
    done: list[tuple[float, dict]] = []
    now, asked = 0.0, 0
    while len(done) < trials:
        while len(running) < workers and asked < trials:
            params = opt.ask()
            draw, duration = _draws(seed, params)
            heapq.heappush(running, (now + duration, asked, params, draw))
            asked += 1
        now, _, params, draw = heapq.heappop(running)
        loss = obj.f(params) + obj.noise_sd * draw
        opt.tell(params, loss)
        done.append((loss, params))
    return obj.regret(min(done, key=lambda d: d[0])[1])


def gp_success(seeds: list[int], names: list[str], repeats: int) -> None:
    """Threaded searches (real threads, sleeping trials) beside the same searches on the
    simulated clock: they agree when they differ by less than twice a rate's binomial spread
    over these seeds (the simulated clock is what --in-flight judges the target on)."""
    print(f"\n## gp success after {GP_TRIALS} trials: serial vs --workers {WORKERS}, mean of {repeats} "
          f"threaded runs, and on a simulated clock (seeds {seeds[0]}-{seeds[-1]})")  # fmt: skip
    print(f"{'objective':52} {'serial':>7} {'workers':>8} {'simulated':>9} {'diff':>6} {'2 x spread':>10}  each run")
    with tempfile.TemporaryDirectory(prefix="hpw-bench-") as tmp:
        store = Store(os.path.join(tmp, "store"))
        for obj in (OBJECTIVES[n] for n in names):

            def rate(workers: int, obj: Objective = obj) -> float:
                return 100.0 * sum(gp_search(obj, seed, workers, store) for seed in seeds) / len(seeds)

            serial = rate(1)
            runs = [rate(WORKERS) for _ in range(repeats)]
            simulated = 100.0 * sum(simulated_search(obj, seed, WORKERS) < obj.tolerance for seed in seeds) / len(seeds)
            parallel = float(np.mean(runs))
            p = simulated / 100.0
            spread = 200.0 * max(np.sqrt(p * (1 - p) / len(seeds)), 1.0 / len(seeds))
            verdict = "  agree" if abs(parallel - simulated) <= spread else "  DIFFER"
            each = " ".join(f"{r:.0f}" for r in runs)
            print(f"{obj.name:52} {serial:6.0f}% {parallel:7.1f}% {simulated:8.0f}% {parallel - simulated:+6.1f} "
                  f"{spread:9.1f}{verdict:8} {each}")  # fmt: skip


def lag_table(seeds: list[int], names: list[str], jobs: int) -> None:
    """What --workers 4 costs in trials: serial searches of fewer trials beside 4 workers' of
    more, on the simulated clock. With 4 workers a suggestion sees 3 fewer results than a serial
    one at the same trial, so at 20 trials they are at best as informed as a serial search of 17."""
    print(f"\n## success (median regret) by budget: serial, and {WORKERS} workers on the simulated clock "
          f"(seeds {seeds[0]}-{seeds[-1]})")  # fmt: skip
    budgets = range(GP_TRIALS - 4, GP_TRIALS + 5)
    print(f"{'objective':40} {'workers':>7}" + "".join(f"{b:>14}" for b in budgets))
    with ProcessPoolExecutor(jobs) as pool:
        for name in names:
            obj = OBJECTIVES[name]
            for workers, shown in ((1, budgets[:5]), (WORKERS, budgets[4:])):
                cells = []
                for b in budgets:
                    if b not in shown:
                        cells.append(f"{'':>14}")
                        continue
                    r = np.array(list(pool.map(_simulated, [(name, s, workers, b) for s in seeds])))
                    cells.append(f"{100 * np.mean(r < obj.tolerance):6.1f}% ({np.median(r):4.2f})")
                print(f"{obj.name[:40]:40} {workers:7}" + "".join(cells), flush=True)


def in_flight_table(seeds: list[int], names: list[str], jobs: int) -> None:
    """4 workers at budget B against serial at B - 3 (and at B), paired by seed."""
    from bench_optimizers import sign_test

    print(f"\n## {WORKERS} workers at B against serial at B - 3, simulated clock (seeds {seeds[0]}-{seeds[-1]}): "
          "success (median regret); regret: workers better:worse, p; success: won:lost, p")  # fmt: skip
    print(f"{'objective':12} {'B':>3} {'serial B-3':>15} {'workers B':>15} {'serial B':>15} {'regret':>14} "
          f"{'success':>13}  verdict")  # fmt: skip
    with ProcessPoolExecutor(jobs) as pool:
        for name in names:
            obj = OBJECTIVES[name]
            for budget in (20, 40, 60) if name == "hartmann6" else (20, 40):
                runs = {key: np.array(list(pool.map(_simulated, [(name, s, w, b) for s in seeds])))
                        for key, (w, b) in {"short": (1, budget - 3), "workers": (WORKERS, budget),
                                            "serial": (1, budget)}.items()}  # fmt: skip
                cells = {k: f"{100 * np.mean(r < obj.tolerance):5.1f}% ({np.median(r):5.3f})" for k, r in runs.items()}
                better, worse, p = sign_test(runs["workers"], runs["short"])
                ok, short_ok = runs["workers"] < obj.tolerance, runs["short"] < obj.tolerance
                won, lost, ps = sign_test(~ok, ~short_ok)  # a failure counts as the higher regret
                verdict = "ok" if (p >= 0.05 or better > worse) and (ps >= 0.05 or won > lost) else "MISSED"
                print(f"{name:12} {budget:3} {cells['short']:>15} {cells['workers']:>15} {cells['serial']:>15} "
                      f"{better:>4}:{worse:<4} {p:4.2f} {won:>4}:{lost:<3} {ps:4.2f}  {verdict}", flush=True)  # fmt: skip


def _simulated(args: tuple[str, int, int, int]) -> float:
    name, seed, workers, trials = args
    return simulated_search(OBJECTIVES[name], seed, workers, trials)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=25)
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--no-gp", action="store_true")
    parser.add_argument("--no-wall", action="store_true", help="skip the wall-time part")
    parser.add_argument("--seed-offset", type=int, default=1000, help="first seed (0-49 were tuned on)")
    parser.add_argument("--repeats", type=int, default=3, help="parallel runs averaged per objective")
    parser.add_argument("--lag", action="store_true", help="serial at 16-20 trials beside 4 workers at 20-24 (simulated)")
    parser.add_argument("--in-flight", action="store_true",
                        help="4 workers at B against serial at B - 3 (simulated), with sign tests")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes for --lag and --in-flight")
    parser.add_argument("--objectives", default=",".join(OBJECTIVES), help=", ".join(OBJECTIVES))
    args = parser.parse_args()
    names = args.objectives.split(",")
    unknown = [n for n in names if n not in OBJECTIVES]
    if unknown:
        parser.error(f"--objectives: unknown {', '.join(unknown)}; accepted: {', '.join(OBJECTIVES)}")
    warnings.simplefilter("ignore")
    print(f"cores: {os.cpu_count()}; python {sys.version.split()[0]}\n")
    seeds = list(range(args.seed_offset, args.seed_offset + args.seeds))
    if args.lag:
        lag_table(seeds, names, args.jobs)
        return
    if args.in_flight:
        in_flight_table(seeds, names, args.jobs)
        return
    if not args.no_wall:
        wall_times(not args.no_dask)
    if not args.no_gp:
        gp_success(seeds, names, args.repeats)


if __name__ == "__main__":
    main()
