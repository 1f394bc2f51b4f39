"""hpwidgets: Guild AI's hyperparameter search in Jupyter: magics, live widgets, a CLI.

Heavy modules load on first use, so `import hpwidgets` and the `hpw` command start fast.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "compare", "load_ipython_extension", "panel", "plot", "run", "runs", "stop", "watch"]


def __getattr__(name: str) -> Any:
    if name in ("run", "compare", "runs", "plot", "watch", "stop"):
        from hpwidgets import api

        return getattr(api, name)
    if name == "panel":
        from hpwidgets.notebook.panel import panel

        return panel
    raise AttributeError(f"module 'hpwidgets' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    from hpwidgets.notebook.magics import load_ipython_extension as load

    load(ipython)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """The Runs sidebar's server extension (hpwidgets/labserver), enabled by the config file the
    wheel installs in etc/jupyter/jupyter_server_config.d/."""
    return [{"module": "hpwidgets"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from hpwidgets.labserver import load

    load(serverapp)
