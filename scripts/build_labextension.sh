#!/usr/bin/env bash
# Build the Runs sidebar's labextension (js/labextension -> hpwidgets/labextension) and install
# it into the active environment. Needs node and npm (a user's `pip install` of the wheel does
# not). Skips npm ci when the lock file is unchanged, and the build when the sources are.
# Usage (the venv active): bash scripts/build_labextension.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$repo/js/labextension"
out="$repo/hpwidgets/labextension"
cd "$src"
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat node_modules/.hpw-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.hpw-lock-hash
fi
source_hash="$( (cat package.json package-lock.json; find src style -type f | sort | xargs cat) | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$out/.source-hash" 2>/dev/null)" = "$source_hash" ] && [ -f "$out/package.json" ]; then
  echo "labextension: up to date"
else
  rm -rf "$out"
  jupyter labextension build . >"$src/build.log" 2>&1 || { cat "$src/build.log"; exit 1; }
  echo "$source_hash" > "$out/.source-hash"
  echo "labextension: built into hpwidgets/labextension"
fi
# the shared data lands in the environment at install time: install again when it is not there
installed="$(python -c 'import sys; print(sys.prefix)')/share/jupyter/labextensions/hpwidgets/.source-hash"
if ! cmp -s "$out/.source-hash" "$installed"; then
  python -m pip install -q --no-deps -e "$repo"
fi
