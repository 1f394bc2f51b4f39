"""The Runs sidebar's server extension: a thin adapter from Jupyter's REST conventions to the core.

Enabled by ``etc/jupyter/jupyter_server_config.d/hpwidgets.json`` (shipped in the wheel). Every
handler is a jupyter_server ``APIHandler`` behind ``@tornado.web.authenticated``: the server's
own token, cookie and XSRF rules apply, and its routes sit under the server's ``base_url`` (a
JupyterHub prefix included). The store is the one of the user running the server (``Store()``:
``HPWIDGETS_HOME`` or ``~/.hpwidgets``); no request names a path.
"""

from __future__ import annotations

from typing import Any


def load(serverapp: Any) -> None:
    from jupyter_server.utils import url_path_join

    from hpwidgets.labserver.handlers import routes
    from hpwidgets.labserver.watcher import StoreWatcher

    base = url_path_join(serverapp.web_app.settings["base_url"], "hpwidgets")
    watcher = StoreWatcher()
    serverapp.web_app.add_handlers(".*$", [(url_path_join(base, path), handler, {"watcher": watcher})
                                           for path, handler in routes()])
    serverapp.log.info("hpwidgets: the Runs sidebar's API is at %s", base)
