"""Run the tutorial notebook headless: ``python -m hpwidgets.notebook.tutorial [--out DIR]``.

Executes examples/optimize.ipynb with nbclient (in the examples folder, with this process's
environment, so HPWIDGETS_HOME picks the run store), then writes optimize.html (nbconvert),
optimize.png (the plot of the cell tagged ``plot``: the tutorial search against its true curve)
and results.csv (the notebook's ``%hpcompare --csv``) to DIR.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import sys
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTEBOOK = EXAMPLES / "optimize.ipynb"
PLOT_TAG = "plot"  # the cell whose plot is written out as <notebook>.png
RESULTS = "results.csv"


def execute(notebook: Path, cwd: Path, timeout: int = 600) -> Any:
    """The notebook executed in ``cwd``; widget state is not stored, so exports show the
    dashboards' static PNG and HTML table instead of widgets that need a live kernel."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


def plot_png(nb: Any, tag: str = PLOT_TAG) -> bytes | None:
    """The last image/png of the cells tagged ``tag`` (the final frame of that search's
    dashboard), or of the whole notebook when no cell carries the tag."""
    cells = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])] or nb.cells
    found = None
    for cell in cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                found = data["image/png"]
    return None if found is None else base64.b64decode(found)


def export(nb: Any, notebook: Path, cwd: Path, out: Path) -> list[Path]:
    from nbconvert import HTMLExporter

    out.mkdir(parents=True, exist_ok=True)
    html, _ = HTMLExporter().from_notebook_node(nb, resources={"metadata": {"name": notebook.stem}})
    written = [out / f"{notebook.stem}.html"]
    written[0].write_text(html, encoding="utf-8")
    png = plot_png(nb)
    if png is not None:
        written.append(out / f"{notebook.stem}.png")
        written[-1].write_bytes(png)
    csv = cwd / RESULTS
    if csv.is_file():
        target = out / RESULTS
        if csv.resolve() != target.resolve():
            shutil.move(str(csv), target)
        written.append(target)
    return written


def run(notebook: Path, out: Path, timeout: int = 600) -> tuple[Any, list[Path]]:
    """Execute ``notebook`` in its own folder and export it to ``out``: (the notebook, files written)."""
    nb = execute(notebook, notebook.parent, timeout)
    return nb, export(nb, notebook, notebook.parent, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hpwidgets.notebook.tutorial",
                                     description="Execute the tutorial notebook headless and export it.")
    parser.add_argument("--out", default=str(EXAMPLES), help="folder for optimize.html, optimize.png, "
                                                             "results.csv (default: examples/)")
    parser.add_argument("--notebook", default=str(NOTEBOOK), help="the notebook (default: examples/optimize.ipynb)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds a cell may take")
    ns = parser.parse_args(argv)
    notebook = Path(ns.notebook).resolve()
    if not notebook.is_file():
        print(f"tutorial: error: notebook not found: {notebook}", file=sys.stderr)
        return 2
    from nbclient.exceptions import CellExecutionError

    try:
        _nb, written = run(notebook, Path(ns.out).resolve(), ns.timeout)
    except CellExecutionError as exc:
        print(f"tutorial: a cell failed:\n{exc}", file=sys.stderr)
        return 1
    store = os.environ.get("HPWIDGETS_HOME", "~/.hpwidgets")
    for path in written:
        print(f"wrote {path}")
    print(f"runs are in {store}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
