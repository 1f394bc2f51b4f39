"""Build the Runs sidebar (js/labextension -> hpwidgets/labextension) inside the build backend.

pyproject.toml hands this function to hatch-jupyter-builder's hook, as JupyterLab's extension
template hands it ``npm_builder``: it runs for the sdist and the wheel, the sdist carries the built
sidebar, and a wheel built from an sdist (``PKG-INFO`` there) runs no npm at all. Around
``npm_builder`` (``npm install`` then ``npm run build``, the build being ``jupyter-builder build .``)
it adds two things:

- the build is skipped when its sources (package.json, the lock, ``src/``, ``style/``) hash as
  those of the last build (``.source-hash`` in the output); ``npm_builder``'s own test compares
  modification times of one folder, which misses ``style/`` and the lock;
- without node or npm, one line says what to install (no traceback); an editable install goes on
  without the sidebar, so a machine without node can still set up and run the library.

``python hatch_build.py --up-to-date`` exits 0 when the built sidebar matches its sources
(scripts/build_labextension.sh asks before it reinstalls).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import time
from pathlib import Path

SOURCE = "js/labextension"
OUTPUT = "hpwidgets/labextension"  # package.json's jupyterlab.outputDir
STAMP = ".source-hash"
NPM = ["npm", "--no-audit", "--no-fund", "--loglevel=error"]
NEEDS_NODE = ("the Runs sidebar is built with node and npm, and {missing} not on PATH: install Node.js 18 or "
              "newer with npm (Debian/Ubuntu: apt-get install nodejs npm)")
ELSE_A_DIST = ", or install hpwidgets from a wheel or an sdist, which carry the sidebar built"
THEN_REBUILD = ", then run scripts/build_labextension.sh"


def source_hash(source: Path) -> str:
    """A digest of every file the build reads from ``source`` (js/labextension)."""
    files = [source / "package.json", source / "package-lock.json"]
    files += sorted(p for folder in ("src", "style") for p in (source / folder).rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(source).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def is_up_to_date(root: Path) -> bool:
    built = root / OUTPUT
    stamp = built / STAMP
    return (built / "package.json").is_file() and stamp.is_file() and stamp.read_text().strip() == source_hash(
        root / SOURCE)


def build_sidebar(target_name: str, version: str) -> None:
    """hatch-jupyter-builder's build function: build the sidebar unless it is up to date."""
    root = Path.cwd()  # the backend runs in the project's root
    if is_up_to_date(root):
        print(f"hpwidgets: the Runs sidebar in {OUTPUT} is up to date", file=sys.stderr)
        return
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        because = NEEDS_NODE.format(missing=" and ".join(missing) + (" are" if len(missing) > 1 else " is"))
        if version == "editable":
            print(f"hpwidgets: installing without the Runs sidebar: {because}{THEN_REBUILD}", file=sys.stderr)
            return
        sys.exit(f"hpwidgets: {because}{ELSE_A_DIST}")  # SystemExit: pip shows this line, no traceback

    from hatch_jupyter_builder import npm_builder

    started = time.time()
    npm_builder(target_name, version, path=SOURCE, build_cmd="build", npm=NPM, force=True)
    built = root / OUTPUT / "package.json"  # rewritten by every build
    if built.is_file() and built.stat().st_mtime >= started - 1:  # not when told to skip npm
        (root / OUTPUT / STAMP).write_text(source_hash(root / SOURCE) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] != ["--up-to-date"]:
        sys.exit("usage: python hatch_build.py --up-to-date")
    sys.exit(0 if is_up_to_date(Path(__file__).resolve().parent) else 1)
