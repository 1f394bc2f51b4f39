"""Record the validation loss of a real model over a lattice of its hyperparameters, once.

    python bench/record_digits.py   # writes bench/digits_svc.csv (needs scikit-learn)

The model: an RBF support vector classifier on scikit-learn's built-in digits data set (no
download), trained on 60 % of it; the loss is its error rate (percent) on the other 40 %. Each
lattice point is trained on SPLITS stratified splits with fixed seeds; the suite's objective
(objectives.DIGITS) interpolates the mean over splits and draws its noise with the spread
between splits. The lattice: log10 C in [-2, 3] and log10 gamma in [-4, 1], 13 points each.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("digits_svc.csv")
LOG_C = np.linspace(-2.0, 3.0, 13)
LOG_GAMMA = np.linspace(-4.0, 1.0, 13)
SPLITS = (0, 1, 2)


def main() -> None:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    rows = []
    for split in SPLITS:
        xt, xv, yt, yv = train_test_split(x, y, test_size=0.4, stratify=y, random_state=split)
        for lc in LOG_C:
            for lg in LOG_GAMMA:
                model = SVC(C=10**lc, gamma=10**lg).fit(xt, yt)
                err = 100.0 * float((model.predict(xv) != yv).mean())
                rows.append((split, round(float(lc), 6), round(float(lg), 6), round(err, 4)))
        print(f"split {split} done", file=sys.stderr, flush=True)
    with OUT.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["split", "log10_C", "log10_gamma", "val_error_pct"])
        w.writerows(rows)
    print(f"wrote {OUT} ({len(rows)} rows)")


if __name__ == "__main__":
    main()
