"""A notebook cell as a script: ``%%hprun`` trials run the cell's body in a fresh interpreter.

The body is written, once per distinct text, to ``<store>/cells/cell-<hash>.py``: a script like
any other, so its flags are found, its copy is kept in each run, ``--resume`` and priors work.
The file's first line stands for the magic's line, so a traceback's line numbers are the
cell's own.

Names the body uses but does not define reach the trial from the notebook's namespace through a
private companion file ``cell-<hash>.names.pkl`` that the trial reads before the body runs:
modules as imports (``np`` -> ``import numpy as np``), other values pickled. The trial gets
copies: nothing it does changes the notebook. A value that cannot travel (a function or
class defined in the notebook, an open file) is refused up front, by name.

Both files are code we run, so both are held to the store's rules (core/store/safety.py): ours,
not readable by group or others, no link; anything else is refused in one line. The names file
is read once when a batch is prepared, its hash kept in the manifest (``--resume`` refuses
other names), and each trial unpickles that copy from its own run directory.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import io
import os
import pickle
import re
import types
from collections.abc import Mapping
from typing import Any

from hpwidgets.core.errors import ScriptError
from hpwidgets.core.store import safety
from hpwidgets.core.store.run_files import write_private
from hpwidgets.core.store.runstore import Store

HEADER = "# %%hprun cell: line 1 is the magic's line, so line numbers are the cell's own\n"
_CELL_NAME = re.compile(r"^cell-[0-9a-f]{12}\.py$")
# IPython's own names: never the body's inputs
_NOTEBOOK_ONLY = {"In", "Out", "get_ipython", "exit", "quit"}


def cells_dir(store: Store) -> str:
    return os.path.join(store.root, "cells")


def write_cell(store: Store, body: str, namespace: Mapping[str, Any]) -> str:
    """Write the body (and the names it takes from ``namespace``) as a script; returns its path."""
    source = HEADER + body if body.endswith("\n") else HEADER + body + "\n"
    try:
        tree = ast.parse(source, "<cell>")
    except SyntaxError as exc:
        raise ScriptError(f"The cell is not valid Python: {exc.msg} at line {exc.lineno}") from None
    folder = cells_dir(store)
    try:
        safety.private_dir(folder)
    except OSError as exc:
        raise ScriptError(f"Cannot write the cell into {folder}: {exc.strerror}") from None
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    path = os.path.join(folder, f"cell-{digest}.py")
    if not os.path.lexists(path) or safety.read_secret(path) != source.encode():  # a link or another's: refused
        write_private(path, source.encode())
    write_private_names(names_file(path), free_names(tree), namespace)  # replaces whatever is there
    return path


def free_names(tree: ast.AST) -> set[str]:
    """Names the code reads but never binds anywhere, builtins aside."""
    loaded, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return loaded - bound - set(dir(builtins))


class _Pickler(pickle.Pickler):
    """Refuses what pickles by reference to ``__main__``: the trial's ``__main__`` is the cell."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, (types.FunctionType, type)) and getattr(obj, "__module__", None) == "__main__":
            raise pickle.PicklingError(f"{obj.__name__} is defined in the notebook")
        return NotImplemented


def write_private_names(path: str, wanted: set[str], namespace: Mapping[str, Any]) -> dict[str, Any]:
    """Pickle the notebook's values of ``wanted`` into ``path``: ``{"modules": {name: module},
    "values": {name: pickled value}}``; names the notebook lacks are left for the trial to miss."""
    modules, values = {}, {}
    for name in sorted(wanted):
        if name.startswith("_") or name in _NOTEBOOK_ONLY or name not in namespace:
            continue
        value = namespace[name]
        if isinstance(value, types.ModuleType):
            modules[name] = value.__name__
            continue
        buffer = io.BytesIO()
        try:
            _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
        except Exception as exc:  # noqa: BLE001 - any pickling failure: say which name
            raise ScriptError(
                f"The cell uses the notebook's {name!r} ({type(value).__name__}), which cannot reach a trial: "
                f"{exc}; define or import it in the cell (accepted: modules and values that pickle)"
            ) from None
        values[name] = buffer.getvalue()  # each value unpickled on its own in the trial
    data = {"modules": modules, "values": values}
    write_private(path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    return data


def names_file(cell_path: str) -> str:
    return cell_path[:-3] + ".names.pkl"


def is_cell(script_path: str) -> bool:
    return bool(_CELL_NAME.match(os.path.basename(script_path)))


def check_cell(script_path: str) -> None:
    """A cell script is held to the store's rules before it is read: ours, private (not even
    readable by others), no link; UnsafePathError says which rule it breaks."""
    if is_cell(script_path):
        safety.check(os.path.dirname(script_path))  # the cells folder too
        safety.read_secret(script_path)


def read_names(script_path: str) -> bytes | None:
    """The names file of a cell script as the store's rules allow it (ours, private, no link),
    read once: its trials get this copy. None for any other script, or a cell without one."""
    if not is_cell(script_path):
        return None
    try:
        return safety.read_secret(names_file(script_path))
    except FileNotFoundError:
        return None


def names_hash(names: bytes | None) -> str | None:
    """What the manifest keeps of the names a batch's trials got: ``--resume`` must find the same."""
    return None if names is None else hashlib.sha256(names).hexdigest()
