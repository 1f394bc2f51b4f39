#!/usr/bin/env bash
# Build the Runs sidebar (js/labextension -> hpwidgets/labextension) and install it into the
# active environment's editable install, after a change in js/labextension or when the install
# was made without node. The build backend does the build (hatch_build.py, the same as for the
# wheel and the sdist: npm install, then jupyter-builder); `pip install -e` runs it and copies the
# result to share/jupyter/labextensions/. Both are skipped when nothing changed. Needs node and npm.
# Usage (the venv active): bash scripts/build_labextension.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
built="$repo/hpwidgets/labextension/.source-hash"
installed="$(python -c 'import sys; print(sys.prefix)')/share/jupyter/labextensions/hpwidgets/.source-hash"
if python "$repo/hatch_build.py" --up-to-date && cmp -s "$built" "$installed"; then
  echo "labextension: up to date"
  exit 0
fi
python -m pip install -q --no-deps -e "$repo"
if ! python "$repo/hatch_build.py" --up-to-date || ! cmp -s "$built" "$installed"; then
  echo "labextension: not built: node and npm are needed (apt-get install nodejs npm)" >&2
  exit 1
fi
echo "labextension: installed from hpwidgets/labextension (built again if its sources changed)"
