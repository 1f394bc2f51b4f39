"""The core stays pure, and the public API is exactly what __all__ says."""

import subprocess
import sys

import hpwidgets

FRONT_ENDS = ("IPython", "ipywidgets", "anywidget", "matplotlib", "ipykernel")


def test_core_imports_no_front_end():
    code = (
        "import sys, pkgutil, importlib, hpwidgets.core as c\n"
        "for m in pkgutil.walk_packages(c.__path__, 'hpwidgets.core.'):\n"
        "    if not m.name.endswith(('.bayes', '.dask')):\n"
        "        importlib.import_module(m.name)\n"
        "import hpwidgets.api, hpwidgets.cli, hpwidgets.console\n"
        f"print(sorted(k for k in sys.modules if k.split('.')[0] in {FRONT_ENDS!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "[]\n"


def test_cli_start_imports_stay_light():
    code = ("import sys, hpwidgets.cli, hpwidgets.core.results.compare, hpwidgets.core.store.runstore\n"
            "print(sorted(k for k in ('numpy', 'pandas', 'skopt', 'sklearn', 'IPython') if k in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "[]\n"


def test_all_lists_exactly_the_public_names():
    assert hpwidgets.__all__ == sorted(hpwidgets.__all__)
    assert hpwidgets.__all__ == ["__version__", "compare", "load_ipython_extension", "panel", "plot", "run", "runs",
                                 "stop", "watch"]
    for name in hpwidgets.__all__:
        assert getattr(hpwidgets, name) is not None
