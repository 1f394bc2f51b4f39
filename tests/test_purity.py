"""The core stays pure, and the public API is exactly what __all__ says."""

import ast
import subprocess
import sys

import hpwidgets

FRONT_ENDS = ("IPython", "ipywidgets", "anywidget", "matplotlib", "ipykernel")
WIDGETS = ("IPython", "ipywidgets", "anywidget", "hpwidgets.notebook")


def loaded_after(imports: str, prefixes: tuple[str, ...], core: bool = True) -> list[str]:
    """The modules starting with ``prefixes`` that a fresh interpreter holds after ``imports``
    (and, with ``core``, after importing every module of hpwidgets.core)."""
    code = (
        "import sys, pkgutil, importlib, hpwidgets.core as c\n"
        f"for m in (pkgutil.walk_packages(c.__path__, 'hpwidgets.core.') if {core!r} else ()):\n"
        "    importlib.import_module(m.name)\n"
        f"import {imports}\n"
        f"print(sorted(k for k in sys.modules if k.startswith({prefixes!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return ast.literal_eval(out)


def test_core_imports_no_front_end():
    assert loaded_after("hpwidgets.api, hpwidgets.cli, hpwidgets.console", FRONT_ENDS) == []


def test_cli_server_pictures_and_core_load_no_widget_module():
    imports = ("hpwidgets.cli, hpwidgets.labserver, hpwidgets.labserver.handlers, hpwidgets.labserver.view, "
               "hpwidgets.pictures.batchplot, hpwidgets.pictures.manyflags, hpwidgets.pictures.record")
    assert loaded_after(imports, WIDGETS) == []


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
