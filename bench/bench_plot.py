"""Live-plot cost per update beside the 30 ms target, at 10, 100 and 1,000 points.

    python bench/bench_plot.py [--updates 15]

An update is what the dashboard's refresh thread does after a trial ends: draw the figure with
one more point and encode the PNG for the ipywidgets.Image. Three figures: one searched flag
with the true curve and a gp surrogate band (redrawn each update), three searched flags plus
the convergence panel, six searched flags (parallel coordinates and the objective by trial:
the dashboard's view from four flags on), and the whole dashboard refresh (plot + progress + top-5 table, widgets
without a front end). The batch thread itself only folds the event and pokes the refresh
thread; its cost is the last column. Prints medians; the machine is shared and noisy.
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

from hpwidgets.core.records import RunRecord, Status  # noqa: E402
from hpwidgets.core.run.events import ModelUpdated, TrialFinished  # noqa: E402
from hpwidgets.core.search.plan import RunOptions, build_plan  # noqa: E402

TARGET_MS = 30.0
POINTS = (10, 100, 1000)
FLAGS = {"x": (0.1, float), "n": (1, int), "opt": ("adam", str), "lr": (0.01, float), "a": (0.0, float),
         "b": (0.0, float)}
SEARCHED = {
    "1 flag + gp": {"x": "[-2.0:2.0]"},
    "3 flags": {"x": "[-2.0:2.0]", "n": "[1:9]", "opt": "[adam,sgd]"},
    "6 flags": {"x": "[-2.0:2.0]", "n": "[1:9]", "opt": "[adam,sgd]", "lr": "loguniform[1e-4:1e-1]",
                "a": "[-1.0:1.0]", "b": "[-1.0:1.0]"},
}


def truth(x):
    return np.sin(5 * x) * (1 - np.tanh(x**2))


def make_record(i: int, rng: np.random.Generator) -> RunRecord:
    flags = {"x": float(rng.uniform(-2, 2)), "n": int(rng.integers(1, 10)), "opt": ("adam", "sgd")[i % 2],
             "lr": float(10 ** rng.uniform(-4, -1)), "a": float(rng.uniform(-1, 1)), "b": float(rng.uniform(-1, 1))}
    loss = float(truth(flags["x"]) + rng.normal() * 0.1)
    return RunRecord(id=f"{i:032x}", batch="b", operation="train.py", flags=flags, status=Status.COMPLETED,
                     scalars={"loss": loss}, trial=i)


def model(rng: np.random.Generator) -> ModelUpdated:
    xs = np.linspace(-2, 2, 200)
    return ModelUpdated("x", tuple(xs), tuple(truth(xs) + rng.normal() * 0.01), tuple(0.05 + 0.1 * np.abs(xs)))


class FakeBatch:
    """What a Dashboard reads from a batch, without an engine: its events and its read model."""

    def __init__(self, plan):
        from hpwidgets.core.results.read_model import BatchState
        from hpwidgets.core.run.events import Dispatcher

        self.plan, self.events, self.id, self.priors = plan, Dispatcher(), "f" * 32, []
        self.state = BatchState(plan)
        self.events.subscribe(self.state.apply)  # the engine folds every event first

    def snapshot(self):
        return self.state.snapshot()

    def describe(self):
        return self.plan.text()

    def stop(self):
        pass


def bench(kind: str, updates: int) -> dict[int, tuple[float, float]]:
    """points -> (median ms per update, median µs per event on the batch thread)."""
    from hpwidgets.notebook import dashboard
    from hpwidgets.pictures.manyflags import live_plot

    bayes = kind in ("1 flag + gp", "dashboard")
    plan = build_plan("train.py", FLAGS, SEARCHED.get(kind, SEARCHED["1 flag + gp"]),
                      RunOptions(optimizer="gp" if bayes else "random", max_trials=1000, random_seed=1))
    rng = np.random.default_rng(0)
    if kind == "dashboard":
        dashboard.Throttle = _Manual  # refresh only when the benchmark says so
        batch = FakeBatch(plan)
        dash = dashboard.Dashboard(batch, truth=truth, top=5)
        feed, update = batch.events.emit, dash._refresh
    else:
        from hpwidgets.core.results.read_model import BatchState

        plot = live_plot(plan, truth if kind == "1 flag + gp" else None)  # the dashboard's choice
        state = BatchState(plan)
        feed = state.apply

        def update():
            plot.render(state.snapshot())
    results = {}
    count = 0
    for n in POINTS:
        while count < n - updates:
            feed(TrialFinished(make_record(count, rng)))
            count += 1
        update()  # the background for these limits
        draw, event = [], []
        while count < n:
            events = [TrialFinished(make_record(count, rng))] + ([model(rng)] if bayes else [])
            t0 = time.perf_counter()
            for e in events:
                feed(e)
            event.append((time.perf_counter() - t0) / len(events))
            count += 1
            t0 = time.perf_counter()
            update()
            draw.append(time.perf_counter() - t0)
        results[n] = (statistics.median(draw) * 1e3, statistics.median(event) * 1e6)
    return results


class _Manual:
    def __init__(self, refresh, interval=0.0, name=""):
        pass

    def poke(self):
        pass

    def close(self):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=15, help="updates timed at each size")
    ns = parser.parse_args()
    os.environ.setdefault("HPWIDGETS_HOME", tempfile.mkdtemp(prefix="hpw-bench-"))
    kinds = ("1 flag + gp", "3 flags", "6 flags", "dashboard")
    rows = {kind: bench(kind, ns.updates) for kind in kinds}
    print(f"median ms per update (target <= {TARGET_MS:.0f} ms at 1000 points); batch-thread µs per event")
    print(f"{'points':>6}  " + "  ".join(f"{k:>13}" for k in kinds) + f"  {'target':>7}  {'event µs':>9}")
    for n in POINTS:
        cells = "  ".join(f"{rows[k][n][0]:>10.1f} ms" for k in kinds)
        ok = "ok" if max(rows[k][n][0] for k in kinds) <= TARGET_MS else "OVER"
        print(f"{n:>6}  {cells}  {TARGET_MS:>4.0f} ms  {rows['dashboard'][n][1]:>9.0f}  {ok}")


if __name__ == "__main__":
    main()
