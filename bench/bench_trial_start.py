"""A trivial trial's start (its first line read) and end, through the bootstrap (a subreaper
that forks the script) against a bare ``python script.py``: medians side by side, and the ratio.

Usage: python bench/bench_trial_start.py [REPEATS] [BOOTSTRAP]  (another bootstrap to compare,
e.g. one taken from an earlier commit with ``git show REV:hpwidgets/core/run/bootstrap.py``; its
spec is written as JSON if its source reads JSON, as bootstraps before marshal did)

Each line also gives the CPU time the trial's processes took (user and system, median).
"""

import json
import marshal
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from hpwidgets.core.run.scripts import BOOTSTRAP


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(argv: list[str]) -> tuple[float, float, float]:
    start, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE)
    proc.stdout.readline()
    first = time.perf_counter() - start
    proc.stdout.read()
    proc.wait()
    return first * 1000, (time.perf_counter() - start) * 1000, (_children_cpu() - cpu) * 1000


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    other = sys.argv[2] if len(sys.argv) > 2 else None
    with tempfile.TemporaryDirectory() as tmp:
        script, spec = os.path.join(tmp, "train.py"), os.path.join(tmp, "spec.json")
        with open(script, "w") as fh:
            fh.write("x = 1\nprint('loss:', x, flush=True)\n")
        kinds = {"python script.py": lambda: [sys.executable, script], "bootstrap": lambda: _spec(BOOTSTRAP)}
        if other:
            kinds["other bootstrap"] = lambda: _spec(other)

        def _spec(path: str) -> list[str]:
            content = {"source": script, "globals": {"x": 2}}
            with open(path) as fh:
                as_json = "json.load" in fh.read()
            with open(spec, "w" if as_json else "wb") as fh:
                json.dump(content, fh) if as_json else marshal.dump(content, fh)
            return [sys.executable, path, script, spec]

        times: dict[str, list[tuple[float, float, float]]] = {k: [] for k in kinds}
        for _ in range(repeats):  # interleaved: the machine's load falls on each alike
            for kind, argv in kinds.items():
                times[kind].append(_timed(argv()))
    bare = [statistics.median(t[i] for t in times["python script.py"]) for i in (0, 1, 2)]
    for kind, measured in times.items():
        first, end, cpu = (statistics.median(t[i] for t in measured) for i in (0, 1, 2))
        print(f"{kind:18} first line {first:6.1f} ms ({first / bare[0]:.2f}x)  exit {end:6.1f} ms "
              f"({end / bare[1]:.2f}x)  CPU {cpu:5.1f} ms ({cpu / bare[2]:.2f}x)")


if __name__ == "__main__":
    main()
