#!/usr/bin/env bash
# Every test: Python (unit, CLI, kernel, Dask, real browser) and JavaScript (node:test).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
. "$repo/scripts/setup.sh" test,dask,e2e
need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-liberation)
if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi
# Debian's own nodejs comes without npm (NodeSource's includes it): add it only when missing
command -v npm >/dev/null 2>&1 || apt_install npm
cd "$repo"
bash scripts/build_labextension.sh  # the Runs sidebar, when setup.sh ran before node was there (skipped when built)
ruff check hpwidgets tests bench
node --test js/
# one worker a CPU (pytest-xdist); tests that share a costly session resource keep to one worker
# (tests/conftest.py: GROUPS). Passing -n 0 runs them all in this process.
python -m pytest tests -n logical --dist loadgroup "$@"
