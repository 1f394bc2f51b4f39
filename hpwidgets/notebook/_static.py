"""Where the widgets' ES modules live: in the wheel, or in the repository for an editable install."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # hpwidgets/


def esm_path(name: str) -> Path:
    """``hpwidgets/static/<name>`` (the wheel force-includes js/ there), else ``<repo>/js/<name>``.

    An editable install does not see force-included files, hence the repository fallback.
    """
    candidates = (_PACKAGE / "static" / name, _PACKAGE.parent / "js" / name)
    for path in candidates:
        if path.is_file():
            return path
    tried = ", ".join(str(p) for p in candidates)
    raise FileNotFoundError(f"hpwidgets front-end module {name!r} not found (looked in {tried})")
