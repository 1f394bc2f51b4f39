#!/usr/bin/env bash
# The tutorial, end to end: a grid of three, a random search, a Bayesian search, the top-5 table,
# a CSV, and the notebook run headless with its plot. Everything lands in examples/out/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../scripts/setup.sh" test
out="$here/out"
rm -rf "$out" && mkdir -p "$out"
export HPWIDGETS_HOME="$out/store"   # a store of its own, so the figures below are this run's
cd "$here"
hpw run train.py x=[-2,0,2] -y
hpw run train.py x=[-2.0:2.0] --max-trials 20 --random-seed 1 -y
hpw run train.py x=[-2.0:2.0] --optimizer gp --max-trials 10 --random-seed 4 -y
hpw compare --top 5 --min loss --table | tee "$out/top5.txt"
hpw compare --csv "$out/results.csv"
python -m hpwidgets.notebook.tutorial --out "$out"
echo "tutorial done: $out (top5.txt, results.csv, optimize.png, optimize.html)"
