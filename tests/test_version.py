"""One version: ``hpwidgets.__version__`` is what ``hpw --version`` prints, what the build reads
(pyproject.toml's ``[tool.hatch.version]``) and what the Runs sidebar's package.json declares
(``jupyter labextension list`` shows that one)."""

from __future__ import annotations

import json
from pathlib import Path

import hpwidgets
from hpwidgets.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_hpw_version_prints_the_package_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr() == (f"hpwidgets {hpwidgets.__version__}\n", "")


def test_the_sidebar_declares_the_same_version_as_the_package():
    package = json.loads((REPO / "js" / "labextension" / "package.json").read_text())
    assert package["version"] == hpwidgets.__version__
