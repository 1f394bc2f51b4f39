#!/usr/bin/env bash
# Set up a fresh machine (Python 3.11, pip, apt): a virtual environment in .venv with hpwidgets
# installed from this checkout, editable (the build backend builds the Runs sidebar when node and
# npm are there, and goes on without it otherwise). Usage: source scripts/setup.sh [EXTRAS]
# (EXTRAS like "test,dask")
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extras="${1:-}"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_ready=""
apt_install() {
  [ -n "$apt_ready" ] || { as_root apt-get update -qq; apt_ready=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
if [ ! -x "$repo/.venv/bin/python" ]; then
  # Debian's own python3 needs python3-venv (ensurepip) before it can make a venv
  python3 -m venv "$repo/.venv" 2>/dev/null || { rm -rf "$repo/.venv"; apt_install python3-venv; python3 -m venv "$repo/.venv"; }
fi
# shellcheck disable=SC1091
. "$repo/.venv/bin/activate"
python -m pip install -q --upgrade pip
if [ -n "$extras" ]; then
  python -m pip install -q -e "$repo[$extras]"
else
  python -m pip install -q -e "$repo"
fi
