"""``hpw run SCRIPT --help-flags``: a script's flags with their types and defaults, as Guild's
``--help-op`` lists them."""

from __future__ import annotations

from hpwidgets.core.run.scripts import inspect_script
from hpwidgets.core.search.flags import format_value


def help_flags_lines(path: str) -> list[str]:
    info = inspect_script(path)
    name = info.path.rsplit("/", 1)[-1]
    if not info.flags:
        return [f"{name} has no flags (module-level assignments of literals, or argparse options)"]
    width = max(len(n) for n in info.flags)
    kinds = {n: (f.type.__name__ if f.type is not None else "any") for n, f in info.flags.items()}
    kind_width = max(len(k) for k in kinds.values())
    lines = [f"Flags of {name} ({'argparse options' if info.style == 'argparse' else 'module-level assignments'}):"]
    for n, f in sorted(info.flags.items()):
        value = False if f.store_true and f.default is None else f.default  # a switch is off unless given
        default = "no default" if value is None else f"default is {format_value(value)}"
        option = f"  {f.option}" if f.option else ""
        lines.append(f"  {n.ljust(width)}  {kinds[n].ljust(kind_width)}  ({default}){option}")
    return lines
