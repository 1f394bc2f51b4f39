"""Bayesian optimizers side by side: success rate and suggestion latency.

    python bench/bench_optimizers.py [--quick] [--seeds N] [--skopt-max-n N] [--jobs N]

Success: regret of the trial with the lowest OBSERVED loss (what the engine reports as best)
below the objective's tolerance, over 50 seeds with common random numbers. Latency: median
ask+tell time on one core after n observations.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).parent)]

from objectives import OBJECTIVES, Objective  # noqa: E402

from hpwidgets.core.optimizers.bayes import BayesOptimizer  # noqa: E402
from hpwidgets.core.optimizers.random import RandomOptimizer  # noqa: E402
from hpwidgets.core.space import Categorical, Integer, Space  # noqa: E402

BUDGETS = (10, 20)
TARGETS = {10: ">=80%", 20: ">=97%"}


def _skopt_dims(space: Space) -> list:
    import skopt

    out = []
    for d in space.values():
        if isinstance(d, Categorical):
            out.append(skopt.space.Categorical(list(d.choices)))
        elif isinstance(d, Integer):
            out.append(skopt.space.Integer(d.low, d.high))
        else:
            out.append(skopt.space.Real(d.low, d.high, prior="log-uniform" if d.log else "uniform"))
    return out


def _py(v):
    return v.item() if isinstance(v, np.generic) else v


class GuildGP:
    """skopt gp as Guild 0.9 runs it: a fresh gp_minimize per trial (n_calls=1) fed all earlier
    trials, 3 random starts, gp_hedge, kappa 1.96, xi 0.05, noise gaussian, normalize_y off."""

    def __init__(self, space: Space, seed: int) -> None:
        self.names, self.dims = list(space), _skopt_dims(space)
        self.state = np.random.RandomState(seed)
        self.x: list[list] = []
        self.y: list[float] = []

    def ask(self) -> dict:
        import skopt
        from skopt.utils import cook_estimator

        start = len(self.y) < 3
        gp = cook_estimator("GP", space=skopt.space.Space(self.dims), noise="gaussian",
                            random_state=self.state.randint(0, 2**31 - 1))  # fmt: skip
        gp.normalize_y = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = skopt.gp_minimize(
                lambda *a: 0, self.dims, base_estimator=gp, n_calls=1,
                n_initial_points=1 if start else 0, x0=self.x or None, y0=self.y or None,
                random_state=self.state, acq_func="gp_hedge", kappa=1.96, xi=0.05, noise="gaussian",
            )  # fmt: skip
        self.state = res.random_state
        return {n: _py(v) for n, v in zip(self.names, res.x_iters[-1])}

    def tell(self, params: dict, value: float) -> None:
        self.x.append([params[n] for n in self.names])
        self.y.append(value)


class SkoptGP:
    """skopt's own Optimizer loop: GP, gp_hedge, 5 initial random points."""

    def __init__(self, space: Space, seed: int) -> None:
        import skopt

        self.names = list(space)
        self.opt = skopt.Optimizer(_skopt_dims(space), "GP", n_initial_points=5, random_state=seed)

    def ask(self) -> dict:
        return {n: _py(v) for n, v in zip(self.names, self.opt.ask())}

    def tell(self, params: dict, value: float) -> None:
        self.opt.tell([params[n] for n in self.names], value)


METHODS = {
    "ours gp (defaults, max_trials given)": lambda s, seed, t: BayesOptimizer(s, "gp", seed, t),
    "ours gp (defaults, no max_trials)": lambda s, seed, t: BayesOptimizer(s, "gp", seed),
    "skopt gp as Guild configures it": lambda s, seed, t: GuildGP(s, seed),
    "skopt gp, 5 initial points": lambda s, seed, t: SkoptGP(s, seed),
    "random search": lambda s, seed, t: RandomOptimizer(s, seed),
}
BUDGET_AWARE = {"ours gp (defaults, max_trials given)"}


def run_one(args: tuple[str, str, int, int]) -> list[float]:
    """Regret of the best-observed trial after each trial of one seeded search."""
    method, obj_name, seed, trials = args
    obj: Objective = OBJECTIVES[obj_name]
    opt = METHODS[method](obj.space, seed, trials)
    noise = obj.noise(seed, trials)
    best_y, best_p, regrets = np.inf, None, []
    for k in range(trials):
        params = opt.ask()
        y = obj.f(params) + float(noise[k])
        opt.tell(params, y)
        if y < best_y:
            best_y, best_p = y, params
        regrets.append(obj.regret(best_p))
    return regrets


def success_table(obj_name: str, seeds: int, pool: ProcessPoolExecutor, methods: list[str]) -> None:
    obj = OBJECTIVES[obj_name]
    print(f"\n## {obj.name}: success = regret < {obj.tolerance}, {seeds} seeds, common noise")
    print(f"{'method':40} {'@10':>7} {'@20':>7}")
    for method in METHODS:
        if not any(m in method for m in methods):
            continue
        rates = []
        for budget in BUDGETS:
            if method not in BUDGET_AWARE and budget != BUDGETS[-1]:
                continue  # a budget-blind method is read at 10 inside its 20-trial runs
            jobs = [(method, obj_name, s, budget) for s in range(seeds)]
            runs = list(pool.map(run_one, jobs))
            reads = BUDGETS if method not in BUDGET_AWARE else (budget,)
            for b in reads:
                ok = sum(r[b - 1] < obj.tolerance for r in runs)
                rates.append((b, 100.0 * ok / seeds))
        cells = " ".join(f"{rate:6.0f}%" for _, rate in sorted(rates))
        print(f"{method:40} {cells}", flush=True)
    if obj_name == "tutorial":
        print(f"{'target for ours':40} {TARGETS[10]:>7} {TARGETS[20]:>7}")
    else:
        print("target for ours: at least the best peer")


def _latency(make, n: int, reps: int) -> tuple[float, float]:
    obj = OBJECTIVES["tutorial"]
    rng = np.random.default_rng(n)
    opt = make(obj.space)
    xs = rng.uniform(-2, 2, n)
    for x in xs:
        opt.observe({"x": float(x)}, obj.f({"x": float(x)}) + 0.1 * rng.standard_normal())
    times = []
    for _ in range(reps + 1):  # the first suggestion after bulk priors pays a full fit: skipped
        t0 = time.perf_counter()
        p = opt.ask()
        opt.tell(p, obj.f(p) + 0.1 * rng.standard_normal())
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times[1:]), 1000 * max(times[1:])


class _SkoptObserve(SkoptGP):
    def __init__(self, space: Space) -> None:
        import skopt

        self.names = list(space)
        self.opt = skopt.Optimizer(_skopt_dims(space), "GP", n_initial_points=5, random_state=0)
        self.pending: list = []

    def observe(self, params: dict, value: float) -> None:
        self.pending.append(([params[n] for n in self.names], value))

    def ask(self) -> dict:
        if self.pending:  # one fit for all priors, as a bulk tell does
            self.opt.tell([x for x, _ in self.pending], [y for _, y in self.pending])
            self.pending = []
        return super().ask()


def latency_table(skopt_max_n: int, quick: bool) -> None:
    print("\n## suggestion latency (ask+tell), tutorial objective, one core, ms")
    print(f"{'n observations':16} {'ours median':>12} {'ours max':>9} {'skopt GP median':>16}  target")
    for n in (10, 100, 400, 1000):
        ours = _latency(lambda s: BayesOptimizer(s, "gp", seed=0), n, 10 if quick else 20)
        if n <= skopt_max_n:
            sk = f"{_latency(_SkoptObserve, n, 1 if n >= 400 else 3)[0]:16.0f}"
        else:
            sk = f"{'skipped':>16}"
        print(f"{n:<16} {ours[0]:12.1f} {ours[1]:9.1f} {sk}  <=50 ms", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 seeds, skopt latency up to n=100")
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--skopt-max-n", type=int, default=None, help="largest n timed for skopt")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--objectives", default="tutorial,branin", help="also: mixed")
    ap.add_argument("--methods", default="ours,skopt,random", help="substrings of method names")
    ap.add_argument("--no-latency", action="store_true")
    args = ap.parse_args()
    seeds = args.seeds or (10 if args.quick else 50)
    skopt_max_n = args.skopt_max_n if args.skopt_max_n is not None else (100 if args.quick else 1000)
    threadpool_limits(1)  # one core per process, as the latency target says
    with ProcessPoolExecutor(args.jobs, initializer=threadpool_limits, initargs=(1,)) as pool:
        for name in args.objectives.split(","):
            success_table(name, seeds, pool, args.methods.split(","))
    if not args.no_latency:
        latency_table(skopt_max_n, args.quick)


if __name__ == "__main__":
    main()
