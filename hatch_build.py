"""Ship the Runs sidebar in the wheel: the prebuilt labextension and the server extension's config.

Both go to the environment's shared data (``share/jupyter/labextensions/hpwidgets/`` and
``etc/jupyter/jupyter_server_config.d/``), where JupyterLab and jupyter_server find them, so
``pip install hpwidgets`` needs no node. A wheel without the built labextension is refused; an
editable install goes on without it (a machine without node: the sidebar is then missing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LABEXTENSION = "share/jupyter/labextensions/hpwidgets"
SERVER_CONFIG = "etc/jupyter/jupyter_server_config.d/hpwidgets.json"


class SidebarHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        shared = build_data.setdefault("shared_data", {})
        shared[str(root / "jupyter-config" / "jupyter_server_config.d" / "hpwidgets.json")] = SERVER_CONFIG
        built = root / "hpwidgets" / "labextension"
        if not (built / "package.json").is_file():
            if version == "editable":
                return
            raise RuntimeError(f"hpwidgets: the Runs sidebar is not built ({built} has no package.json): "
                               "run scripts/build_labextension.sh first (it needs node and npm)")
        for path in sorted(built.rglob("*")):
            if path.is_file():
                shared[str(path)] = f"{LABEXTENSION}/{path.relative_to(built).as_posix()}"
