"""Early stopping on recorded curves: no pruning vs our median and asha vs Optuna's pruners.

    python bench/bench_pruning.py [--pool 100] [--seeds 20] [--trials 40] [--curves FILE] [--no-wall]

1. Record: a random search of examples/train_sgd.py (log-uniform ``lr`` and ``alpha``, 30
   epochs) is run for real, ``--pool`` trials, and every trial's whole validation-loss curve is
   kept (``--curves FILE`` saves them, or loads them when the file exists).
2. Replay: for each of ``--seeds`` seeds, a ``--trials``-trial random search draws its trials
   from the pool (the same trials, in the same order, for every method) and feeds each trial's
   curve step by step to the pruner, which may stop it. Epochs used count the steps each trial
   ran; the best final loss found is the best among the trials that ran to the end; its regret
   is its distance to the best final loss in the whole pool.
3. Wall time: a real 4-worker search of the example with ``--prune asha`` against the same
   search without pruning.

Optuna (the MedianPruner and SuccessiveHalvingPruner columns) is a benchmark-only dependency,
never one of hpwidgets: ``pip install optuna`` into the environment that runs this script, or
put it on PYTHONPATH; without it those columns are skipped with the reason. Both kinds get the
same settings as ours: the median rule after 5 completed trials, asha's rungs at 1, 3, 9, 27
(min-step / min_resource 1, reduction factor 3).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from hpwidgets.core.search.pruners import AshaPruner, MedianPruner  # noqa: E402

EXAMPLE = os.path.join(os.path.dirname(HERE), "examples", "train_sgd.py")
SPACE = {"lr": "loguniform[1e-4:1]", "alpha": "loguniform[1e-6:1e-1]"}
EPOCHS = 30


def record(pool: int) -> list[list[float]]:
    """Run ``pool`` real trials of the example; each trial's losses at steps 1..EPOCHS."""
    import hpwidgets as hp

    batch = hp.run(EXAMPLE, SPACE, max_trials=pool, random_seed=0, workers=2)
    snap = batch.snapshot()
    curves = []
    for run in snap.runs:
        steps = dict(snap.curve(run.id))
        if len(steps) == EPOCHS:  # a failed trial has no whole curve
            curves.append([float(steps[s]) for s in range(1, EPOCHS + 1)])
    return curves


class Ours:
    def __init__(self, make):
        self.pruner = make()

    def trial(self, i, curve):
        for step, value in enumerate(curve, 1):
            if self.pruner.report(str(i), step, value):
                return step, False
        self.pruner.complete(str(i))
        return len(curve), True


class OptunaPruned:
    def __init__(self, optuna, pruner):
        self.optuna = optuna
        self.study = optuna.create_study(direction="minimize", pruner=pruner,
                                         sampler=optuna.samplers.RandomSampler(seed=0))

    def trial(self, _i, curve):
        trial = self.study.ask()
        for step, value in enumerate(curve, 1):
            trial.report(value, step)
            if trial.should_prune():
                self.study.tell(trial, state=self.optuna.trial.TrialState.PRUNED)
                return step, False
        self.study.tell(trial, curve[-1])
        return len(curve), True


def methods(optuna):
    out = {
        "none": lambda: None,
        "median": lambda: Ours(lambda: MedianPruner()),
        "asha": lambda: Ours(lambda: AshaPruner()),
    }
    if optuna is not None:
        out["optuna median"] = lambda: OptunaPruned(optuna, optuna.pruners.MedianPruner(n_startup_trials=5))
        out["optuna sha"] = lambda: OptunaPruned(optuna, optuna.pruners.SuccessiveHalvingPruner(
            min_resource=1, reduction_factor=3, min_early_stopping_rate=0))
    return out


def replay(curves, make, order):
    """(epochs used, best final loss among trials that ran to the end) for one search."""
    method = make()
    epochs, finals = 0, []
    for i in order:
        curve = curves[i]
        if method is None:
            ran, whole = len(curve), True
        else:
            ran, whole = method.trial(i, curve)
        epochs += ran
        if whole:
            finals.append(curve[-1])
    return epochs, min(finals) if finals else float("inf")


def wall_times(trials: int) -> dict[str, float]:
    import hpwidgets as hp

    out = {}
    for name, prune in (("none", None), ("asha", "asha")):
        t0 = time.perf_counter()
        hp.run(EXAMPLE, SPACE, max_trials=trials, random_seed=1, workers=4, prune=prune)
        out[name] = time.perf_counter() - t0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=100, help="real trials recorded")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--trials", type=int, default=40, help="trials per replayed search")
    parser.add_argument("--curves", help="JSON file of recorded curves: loaded if it exists, else written")
    parser.add_argument("--no-wall", action="store_true", help="skip the real 4-worker wall-time runs")
    ns = parser.parse_args()
    os.environ.setdefault("HPWIDGETS_HOME", tempfile.mkdtemp(prefix="hpw-bench-"))
    try:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
    except ImportError as exc:
        optuna = None
        print(f"Optuna columns skipped: {exc} (pip install optuna into this environment; bench only)")
    if ns.curves and os.path.exists(ns.curves):
        with open(ns.curves) as fh:
            curves = json.load(fh)
        print(f"{len(curves)} recorded curves loaded from {ns.curves}")
    else:
        t0 = time.perf_counter()
        curves = record(ns.pool)
        print(f"recorded {len(curves)} whole curves of {ns.pool} real trials in {time.perf_counter() - t0:.0f} s")
        if ns.curves:
            with open(ns.curves, "w") as fh:
                json.dump(curves, fh)
    floor = min(c[-1] for c in curves)
    table = {name: [] for name in methods(optuna)}
    for seed in range(ns.seeds):
        order = np.random.default_rng(seed).choice(len(curves), size=min(ns.trials, len(curves)), replace=False)
        for name, make in methods(optuna).items():
            table[name].append(replay(curves, make, order))
    base_epochs = statistics.median(e for e, _ in table["none"])
    base_best = [b for _, b in table["none"]]
    print(f"\n{ns.trials}-trial random searches of train_sgd.py, {ns.seeds} seeds, identical trials for every "
          f"method; medians over seeds (pool best final loss {floor:.4f})")
    print("(vs none: how much worse the best final loss found is than no pruning's, same trials)")
    print(f"{'method':>14}  {'epochs':>7}  {'of none':>7}  {'regret':>8}  {'vs none':>8}  {'worst seed':>10}")
    for name, rows in table.items():
        epochs = statistics.median(e for e, _ in rows)
        regret = statistics.median(b - floor for _, b in rows)
        excess = [(b - n) / n for (_, b), n in zip(rows, base_best)]
        print(f"{name:>14}  {epochs:>7.0f}  {epochs / base_epochs:>6.0%}  {regret:>8.4f}  "
              f"{statistics.median(excess):>+7.2%}  {max(excess):>+9.2%}")
    asha = table["asha"]
    ok_epochs = statistics.median(e for e, _ in asha) <= base_epochs / 3
    ok_regret = statistics.median((b - n) / n for (_, b), n in zip(asha, base_best)) <= 0.01
    print(f"targets: asha epochs <= 1/3 of none: {'ok' if ok_epochs else 'MISSED'}; "
          f"asha median best within 1% of none's: {'ok' if ok_regret else 'MISSED'}")
    if not ns.no_wall:
        walls = wall_times(ns.trials)
        print(f"\nwall time, real {ns.trials}-trial search, --workers 4: none {walls['none']:.1f} s, "
              f"asha {walls['asha']:.1f} s ({walls['asha'] / walls['none']:.2f}x)")


if __name__ == "__main__":
    main()
