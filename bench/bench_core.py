"""Core speed beside Guild 0.9's figures (measured on this kind of machine) and our targets.

    python bench/bench_core.py [--repeat N] [--runs 10000]

Prints medians; the machine is shared and noisy, so read the ratios, not single numbers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TRAIN = os.path.join(REPO, "examples", "train.py")
sys.path.insert(0, REPO)

GUILD = {"bare": 0.079, "run": 0.70, "grid3": 1.33, "compare500": 0.69}


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def hpw(*args: str, env: dict) -> None:
    subprocess.run([shutil.which("hpw") or "hpw", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def bench_trial(repeat: int, env: dict) -> tuple[float, float]:
    from hpwidgets.core.run.cancel import CancelToken
    from hpwidgets.core.run.executors.local import ScriptRunner
    from hpwidgets.core.run.scripts import inspect_script
    from hpwidgets.core.run.trial import TrialSpec

    bare = timed(lambda: subprocess.run([sys.executable, TRAIN], check=True, stdout=subprocess.DEVNULL), repeat)
    runner = ScriptRunner(inspect_script(TRAIN))
    work = tempfile.mkdtemp()
    os.makedirs(os.path.join(work, "sourcecode"))
    shutil.copy(TRAIN, os.path.join(work, "sourcecode", "train.py"))
    spec = TrialSpec("r", work, {"x": 0.3, "noise": 0.1})
    ours = timed(lambda: runner(spec, CancelToken(), lambda line: None), repeat)
    return bare, ours


def bench_inprocess(n: int = 300) -> tuple[float, float]:
    import hpwidgets as hp

    def objective(x=0.0):
        return (x - 0.3) ** 2

    xs = [i / n for i in range(n)]
    t0 = time.perf_counter()
    for x in xs:
        objective(x)
    direct = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    hp.run(objective, flags={"x": xs})
    ours = (time.perf_counter() - t0) / n
    return direct, ours


def fill_store(n: int) -> None:
    from hpwidgets.core.records import RunRecord, Status
    from hpwidgets.core.store.runstore import Store

    store = Store()
    import random

    rng = random.Random(0)
    for i in range(n):
        x = rng.uniform(-2, 2)
        store.create(RunRecord(id=uuid.uuid4().hex, batch="b", operation="train.py",
                               flags={"noise": 0.1, "x": x}, status=Status.COMPLETED,
                               started=1e9 + i, stopped=1e9 + i + 0.1, label=f"noise=0.1 x={x:.5g}",
                               scalars={"loss": rng.gauss(0, 1)}, step=0))


def bench_reconcile(repeat: int) -> tuple[float, float]:
    """What a reader pays to match the index with the runs/ listing: in sync, and one run off."""
    from hpwidgets.core.store.runstore import Store

    store = Store()
    store.runs(limit=1)  # the index is open: time the reconcile alone

    def again() -> None:
        store._listed = None
        store._sync()

    in_sync = timed(again, repeat)
    victim = store.runs(limit=1)[0]

    def one_off() -> None:  # a run deleted by hand, then put back by hand: both noticed
        os.rename(store.run_dir(victim.id), os.path.join(store.root, "aside"))
        again()
        os.rename(os.path.join(store.root, "aside"), store.run_dir(victim.id))
        again()

    off = timed(one_off, repeat) / 2
    store.close()
    return in_sync, off


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--runs", type=int, default=10000)
    args = ap.parse_args()
    home = tempfile.mkdtemp(prefix="hpw-bench-")
    env = dict(os.environ, HPWIDGETS_HOME=home)
    os.environ["HPWIDGETS_HOME"] = home
    rows = []

    bare, trial = bench_trial(args.repeat, env)
    rows.append(("one subprocess trial / bare python train.py", f"{trial:.3f} s / {bare:.3f} s",
                 f"{trial / bare:.2f}x", "<= 1.15x", trial / bare <= 1.15))
    single = timed(lambda: hpw("run", TRAIN, "x=0.1", "-y", env=env), args.repeat)
    rows.append(("hpw run train.py x=0.1 -y", f"{single:.3f} s", f"{single / GUILD['run']:.2f}x Guild's 0.70 s",
                 "(no target)", None))
    grid = timed(lambda: hpw("run", TRAIN, "x=[-2,0,2]", "-y", env=env), args.repeat)
    rows.append(("hpw run train.py x=[-2,0,2] -y", f"{grid:.3f} s", f"{grid / GUILD['grid3']:.2f}x Guild's 1.33 s",
                 "<= 0.50x", grid / GUILD["grid3"] <= 0.5))
    direct, ours = bench_inprocess()
    added = (ours - direct) * 1000
    rows.append(("in-process function trial, added per trial", f"{added:.3f} ms", "", "<= 1 ms", added <= 1.0))

    fill_store(args.runs - len(os.listdir(os.path.join(home, "runs"))))
    compare = timed(lambda: hpw("compare", "--top", "5", "--min", "loss", "--table", env=env), args.repeat)
    rows.append((f"hpw compare --top 5 --min loss --table, {args.runs} runs", f"{compare:.3f} s",
                 f"Guild: 0.69 s at 500 runs ({compare / GUILD['compare500']:.2f}x)", "<= 0.5 s", compare <= 0.5))

    in_sync, off = bench_reconcile(args.repeat)
    rows.append((f"index matched with runs/ listing, {args.runs} runs", f"{in_sync * 1000:.1f} ms",
                 f"one run off: {off * 1000:.1f} ms", "<= 50 ms", in_sync <= 0.05))

    print(f"medians of {args.repeat}; Guild 0.9 figures as measured on this kind of machine\n")
    width = max(len(r[0]) for r in rows)
    for name, value, ratio, target, ok in rows:
        mark = "" if ok is None else ("  met" if ok else "  NOT met")
        print(f"{name:<{width}}  {value:>18}  {ratio:<34} target {target}{mark}")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
