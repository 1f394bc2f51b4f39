"""Reading a trial's output: the cost of a line through the whole reader (segments, the terminal
view, the formats), beside the issue's limits.

    python bench/bench_output.py [--repeat 7]

Limits: a non-matching line at most 2 µs (median), a matching one at most 10 µs, a 1 MB line at
most 50 ms (the reader before this one took 0.24 s). Prints medians and their ratio to the limit;
the machine is shared and noisy, so read the ratios, not single numbers.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from hpwidgets.core.run.executors.subprocess_group import Segments  # noqa: E402
from hpwidgets.core.run.output.reader import OutputReader  # noqa: E402
from hpwidgets.core.run.scalars import ScalarLog  # noqa: E402

STACKS = os.path.join(REPO, "tests", "data", "stacks")

NON_MATCHING = [
    "Downloading data from the mirror, 3 files",
    "GPU available: False, used: False",
    "Traceback (most recent call last):",
    "  File \"train.py\", line 12, in <module>",
    "[LightGBM] [Info] Number of positive: 142, number of negative: 178",
    "Sanity Checking DataLoader 0:  50%|█████     | 1/2 [00:00<00:00, 41.53it/s]",
    "Epoch 1/15",
    "",
]
MATCHING = [
    "Epoch 3/15 - loss: 0.3102 - val_loss: 0.4211 - val_acc: 0.91",
    "20/20 - 0s - 2ms/step - accuracy: 0.6187 - loss: 0.6483 - val_accuracy: 0.7000 - val_loss: 0.5434",
    "Epoch 0: 100%|██████████| 10/10 [00:00<00:00, 212.33it/s, v_num=0, val_loss=0.617, val_acc=0.688]",
    "{'eval_loss': '0.6924', 'eval_runtime': '0.0149', 'eval_samples_per_second': '5376', 'epoch': '1'}",
    "[3]\tvalidation_0-logloss:0.45302\tvalidation_0-error:0.16875\tvalidation_1-logloss:0.51094",
    "[3]\ttraining's binary_logloss: 0.499391\tvalid_1's binary_logloss: 0.523438",
    "loss: 0.31 (step 4)",
    "epoch: 3  loss: 0.31  val_loss: 0.42",
]


# Guild's one-line pattern, the first step of the reader before this one: a yardstick for how
# loaded the machine is while the bench runs.
GUILD_LINE = re.compile(r"^\s*([A-Za-z_][\w./-]*):\s+([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"
                        r"(?:\s+\(step\s+(\d+)\))?\s*$")


def per_line(lines: list[str], repeat: int, make_feed=lambda: OutputReader(ScalarLog()).feed,
             rounds: int = 2000) -> float:
    """Median seconds per line, each fed as the engine feeds it (one segment), to a fresh reader
    per repeat."""
    times = []
    for _ in range(repeat):
        feed = make_feed()
        start = time.perf_counter()
        for _ in range(rounds):
            for line in lines:
                feed(line)
        times.append((time.perf_counter() - start) / (rounds * len(lines)))
    return statistics.median(times)


def whole(data: bytes, repeat: int) -> float:
    """Median seconds for bytes read as a pipe delivers them (64 KiB chunks)."""
    times = []
    for _ in range(repeat):
        reader = OutputReader(ScalarLog())
        segments = Segments(reader.feed)
        start = time.perf_counter()
        for at in range(0, len(data), 1 << 16):
            segments.feed(data[at:at + (1 << 16)])
        segments.feed(b"", final=True)
        reader.flush()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    repeat = parser.parse_args().repeat
    rows = [
        ("a non-matching line", per_line(NON_MATCHING, repeat), 2e-6),
        ("a matching line", per_line(MATCHING, repeat), 10e-6),
        ("a 1 MB line of text", whole(b"x" * (1 << 20) + b"\n", repeat), 50e-3),
        ("a 1 MB line of pairs", whole(b"loss: 0.3 " * ((1 << 20) // 10) + b"\n", repeat), 50e-3),
        ("a 1 MB line of \\r redraws", whole(b"\r" * (1 << 20) + b"\n", repeat), 50e-3),
        ("a 1 MB line of \\b", whole(b"ab\b" * ((1 << 20) // 3) + b"\n", repeat), 50e-3),
        ("1 MB of binary", whole(bytes(range(256)) * 4096, repeat), 50e-3),
    ]
    for stack in ("keras_v1", "lightning", "transformers"):
        with open(os.path.join(STACKS, f"{stack}.out"), "rb") as fh:
            data = fh.read()
        rows.append((f"{stack}.out, {len(data)} bytes", whole(data, repeat), None))
    guild = per_line(NON_MATCHING + MATCHING, repeat, lambda: GUILD_LINE.match)
    print(f"yardstick: Guild's one-line regex takes {guild * 1e6:.2f} µs a line now")
    print(f"{'what':32} {'median':>12} {'limit':>10} {'ratio':>7}")
    for what, seconds, limit in rows:
        shown = f"{seconds * 1e6:.2f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"
        lim = "" if limit is None else (f"{limit * 1e6:g} µs" if limit < 1e-3 else f"{limit * 1e3:g} ms")
        ratio = "" if limit is None else f"{seconds / limit:.2f}"
        print(f"{what:32} {shown:>12} {lim:>10} {ratio:>7}")


if __name__ == "__main__":
    main()
