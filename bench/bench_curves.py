"""Learning-curves redraw cost beside the 30 ms target: 100 trials of 100 steps.

    python bench/bench_curves.py [--updates 30]

The batch's read model is filled with 96 finished trials of 100 steps (some pruned) and 4
running ones; each update feeds every running trial one more step (4 TrialProgress events,
what --workers 4 prints between two redraws) and then times what the dashboard's refresh
thread does: the curves PNG alone, and the whole refresh (progress line, table with the running
rows, curves; the loss-vs-flag plot is unchanged by steps). Prints medians; the machine is
shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from bench_plot import FLAGS, FakeBatch, _Manual  # noqa: E402

from hpwidgets.core.records import RunRecord, Status  # noqa: E402
from hpwidgets.core.run.events import TrialFinished, TrialProgress, TrialStarted  # noqa: E402
from hpwidgets.core.search.plan import RunOptions, build_plan  # noqa: E402

TARGET_MS = 30.0
TRIALS, STEPS, RUNNING = 100, 100, 4


def curve(rng: np.random.Generator) -> list[float]:
    start, floor, rate = rng.uniform(1.5, 2.5), rng.uniform(0.05, 0.6), rng.uniform(0.02, 0.2)
    steps = np.arange(1, STEPS + 1)
    return list(floor + (start - floor) * np.exp(-rate * steps) + rng.normal(0, 0.01, STEPS))


def record(i: int, status: Status, **changes) -> RunRecord:
    return RunRecord(id=f"{i:032x}", batch="b", operation="train.py", flags={"x": i / TRIALS, "n": 1, "opt": "adam"},
                     status=status, trial=i, **changes)


def fill(feed, rng: np.random.Generator) -> list[list[float]]:
    """Finished trials with their whole series; running ones started, with 50 steps each."""
    running = []
    for i in range(TRIALS):
        ys = curve(rng)
        if i >= TRIALS - RUNNING:
            feed(TrialStarted(record(i, Status.RUNNING)))
            for step in range(1, 51):
                feed(TrialProgress(record(i, Status.RUNNING).id, "loss", step, ys[step - 1]))
            running.append(ys)
            continue
        pruned = i % 3 == 0
        last = 10 if pruned else STEPS
        series = {"loss": [[s, ys[s - 1]] for s in range(1, last + 1)]}
        feed(TrialFinished(record(i, Status.PRUNED if pruned else Status.COMPLETED, scalars={"loss": ys[last - 1]},
                                  step=last), series))
    return running


def bench(updates: int) -> tuple[float, float, float]:
    """(median ms: curves PNG, median ms: whole refresh, median µs per TrialProgress event)."""
    from hpwidgets.notebook import dashboard

    dashboard.Throttle = _Manual  # refresh only when the benchmark says so
    plan = build_plan("train.py", FLAGS, {"x": "[0.0:1.0]"}, RunOptions(max_trials=TRIALS, random_seed=1))
    batch = FakeBatch(plan)
    dash = dashboard.Dashboard(batch, top=5)
    rng = np.random.default_rng(0)
    running = fill(batch.events.emit, rng)
    dash._refresh()  # the background for these limits
    curves, whole, event = [], [], []
    for u in range(updates):
        step = 51 + u
        t0 = time.perf_counter()
        for j, ys in enumerate(running):
            batch.events.emit(TrialProgress(record(TRIALS - RUNNING + j, Status.RUNNING).id, "loss", step, ys[step - 1]))
        event.append((time.perf_counter() - t0) / RUNNING)
        t0 = time.perf_counter()
        dash.curves.render(batch.snapshot())
        curves.append(time.perf_counter() - t0)
        batch.events.emit(TrialProgress(record(TRIALS - 1, Status.RUNNING).id, "acc", step, 0.5))  # a new version
        t0 = time.perf_counter()
        dash._refresh()
        whole.append(time.perf_counter() - t0)
    assert dash.curves.lines == {"running": RUNNING, "finished": 64, "pruned": 32}, dash.curves.lines
    return statistics.median(curves) * 1e3, statistics.median(whole) * 1e3, statistics.median(event) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=30, help="updates timed")
    ns = parser.parse_args()
    os.environ.setdefault("HPWIDGETS_HOME", tempfile.mkdtemp(prefix="hpw-bench-"))
    curves, whole, event = bench(ns.updates)
    ok = "ok" if max(curves, whole) <= TARGET_MS else "OVER"
    print(f"{TRIALS} trials x {STEPS} steps ({RUNNING} running), median of {ns.updates} redraws:")
    print(f"  curves panel   {curves:6.1f} ms   (target <= {TARGET_MS:.0f} ms)")
    print(f"  whole refresh  {whole:6.1f} ms   (target <= {TARGET_MS:.0f} ms)  {ok}")
    print(f"  batch thread   {event:6.0f} µs per TrialProgress event (fold + poke)")


if __name__ == "__main__":
    main()
