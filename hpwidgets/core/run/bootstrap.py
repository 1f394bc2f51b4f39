"""Runs in a trial's fresh interpreter: ``python .../hpwidgets/core/run/bootstrap.py SCRIPT SPEC``.

It sets the flags, then executes the unmodified script as ``__main__``. Run by its path and
kept to the standard library's ast and json (it imports nothing of hpwidgets), so that a trial
costs little more than a bare ``python script.py``, and ``ps`` shows the script it runs. The flag values come
from a private file (SPEC) that it deletes: a command line is readable by every user of the
machine.
"""

import ast
import json
import os
import sys


def _flagged(tree: ast.Module, flags: dict) -> ast.Module:
    """The script's module-level literal assignments of ``flags`` set to their trial values."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target = node.target
        else:
            continue
        if isinstance(target, ast.Name) and target.id in flags:
            node.value = ast.copy_location(ast.Constant(flags[target.id]), node.value)
    return tree


def _run_as_main(code, path: str, names: str | None) -> None:
    import __main__

    main = __main__.__dict__
    builtins = main["__builtins__"]
    main.clear()  # the script's globals are __main__'s, as under `python script.py`
    main.update(__name__="__main__", __file__=path, __builtins__=builtins)
    if names:  # a notebook cell's inputs (core/run/cell_scripts.py), unpickled in the script's __main__
        import importlib
        import pickle

        with open(names, "rb") as fh:
            loaded = pickle.load(fh)
        for name, module in loaded["modules"].items():
            main[name] = importlib.import_module(module)
        for name, data in loaded["values"].items():
            main[name] = pickle.loads(data)
    exec(code, main)


def main() -> None:
    path, spec_path = sys.argv[1], sys.argv[2]
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    os.unlink(spec_path)
    with open(spec["source"], encoding="utf-8") as fh:
        tree = _flagged(ast.parse(fh.read(), path), spec.get("globals") or {})
    sys.argv = [path] + spec.get("argv", [])
    sys.path[0] = os.path.dirname(path)
    _run_as_main(compile(tree, path, "exec"), path, spec.get("names"))


if __name__ == "__main__":
    main()
