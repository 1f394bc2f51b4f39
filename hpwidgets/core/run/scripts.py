"""Find a script's flags without running it, and build the command that runs it with new values.

Two styles, as Guild has them: module-level assignments of literals (``x = 0.1``), or argparse
options (``parser.add_argument("--lr", type=float, default=0.1)``) when the script has them.
"""

from __future__ import annotations

import ast
import marshal
import numbers
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from hpwidgets.core.errors import ScriptError, UnknownFlagError
from hpwidgets.core.store import safety

_LITERALS = (bool, int, float, str)


@dataclass(frozen=True)
class FlagDef:
    name: str
    default: Any
    type: type | None
    option: str | None = None  # the argparse option string, e.g. "--learning-rate"
    store_true: bool = False
    choices: tuple[Any, ...] = ()  # argparse's choices=[...], when given as literals


@dataclass(frozen=True)
class ScriptInfo:
    path: str  # absolute
    source: str
    style: str  # "globals" or "argparse"
    flags: dict[str, FlagDef] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    def flag(self, name: str) -> FlagDef:
        if name not in self.flags:
            raise UnknownFlagError(self.name, name, sorted(self.flags))
        return self.flags[name]


def inspect_script(path: str) -> ScriptInfo:
    """Read and parse a script; raise ScriptError naming the file when it cannot be used."""
    accepted = "a path to a Python script such as train.py"
    if not os.path.exists(path):
        raise ScriptError(f"Script not found: '{path}' (accepted: {accepted})")
    if os.path.isdir(path):
        raise ScriptError(f"Script '{path}' is a directory (accepted: {accepted})")
    if not path.endswith(".py"):
        raise ScriptError(f"Script '{path}' is not a Python file: its name does not end in .py (accepted: {accepted})")
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScriptError(
            f"Script '{path}' is not a Python text file: byte {exc.start} is not UTF-8 "
            f"(accepted: {accepted})"
        ) from None
    except OSError as exc:
        raise ScriptError(f"Script '{path}' cannot be read: {exc.strerror}") from None
    if "\x00" in source:
        raise ScriptError(f"Script '{path}' is not a Python text file: it holds NUL bytes")
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        raise ScriptError(
            f"Script '{path}' is not valid Python: {exc.msg} at line {exc.lineno} "
            f"(accepted: {accepted})"
        ) from None
    abspath = os.path.abspath(path)
    options = _argparse_flags(tree)
    if options:
        return ScriptInfo(abspath, source, "argparse", options)
    return ScriptInfo(abspath, source, "globals", _global_flags(tree))


def _literal(node: ast.AST) -> tuple[bool, Any]:
    if isinstance(node, ast.Constant) and isinstance(node.value, _LITERALS):
        return True, node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, (ast.USub, ast.UAdd))
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) in (int, float)
    ):
        value = node.operand.value
        return True, -value if isinstance(node.op, ast.USub) else value
    return False, None


def _global_flags(tree: ast.Module) -> dict[str, FlagDef]:
    flags: dict[str, FlagDef] = {}
    for node in tree.body:
        target, value = _assignment(node)
        if target is None or target.startswith("_") or target in flags:
            continue
        ok, default = _literal(value)
        if ok:
            flags[target] = FlagDef(target, default, type(default))
    return flags


def _assignment(node: ast.stmt) -> tuple[str | None, ast.AST | None]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        if isinstance(node.targets[0], ast.Name):
            return node.targets[0].id, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
        return node.target.id, node.value
    return None, None


_TYPES = {"float": float, "int": int, "str": str}


def _argparse_flags(tree: ast.Module) -> dict[str, FlagDef]:
    flags: dict[str, FlagDef] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "add_argument" or not node.args:
            continue
        options = [a.value for a in node.args if isinstance(a, ast.Constant)]
        long = [o for o in options if isinstance(o, str) and o.startswith("--")]
        if not long:
            continue
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        name = _dest(kw, long[0])
        ok, default = _literal(kw["default"]) if "default" in kw else (True, None)
        action = kw.get("action")
        store_true = isinstance(action, ast.Constant) and action.value == "store_true"
        ftype = _arg_type(kw.get("type"), default if ok else None, store_true)
        flags[name] = FlagDef(name, default if ok else None, ftype, long[0], store_true, _choices(kw.get("choices")))
    return flags


def _choices(node: ast.AST | None) -> tuple[Any, ...]:
    """``choices=["adam", "sgd"]`` (a list or tuple of literals) as values; anything else: none."""
    if not isinstance(node, (ast.List, ast.Tuple)):
        return ()
    values = [_literal(item) for item in node.elts]
    return tuple(v for ok, v in values) if values and all(ok for ok, _ in values) else ()


def _dest(kw: dict[str, ast.AST], option: str) -> str:
    dest = kw.get("dest")
    if isinstance(dest, ast.Constant) and isinstance(dest.value, str):
        return dest.value
    return option[2:].replace("-", "_")


def _arg_type(node: ast.AST | None, default: Any, store_true: bool) -> type | None:
    if store_true:
        return bool
    if isinstance(node, ast.Name) and node.id in _TYPES:
        return _TYPES[node.id]
    return type(default) if default is not None else None


BOOTSTRAP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bootstrap.py")
# An open file descriptor, named in the trial's environment, on which the bootstrap waits for one
# byte before the script runs (EOF: it exits without running it): a Dask task starts its trial's
# interpreter while its claim on the attempt's mark travels (executors/dask.py)
GATE_FD = "HPWIDGETS_GATE_FD"
SPEC_FILE = "trial-spec"  # in the trial's directory while it starts; the bootstrap deletes it


def command(info: ScriptInfo, flags: dict[str, Any], source_copy: str, spec_path: str,
            names: str | None = None) -> list[str]:
    """The argv that runs ``info``'s script with ``flags`` set, from its copy ``source_copy``.

    The flags go into ``spec_path`` (mode 0600, marshal: the bootstrap reads it without importing
    json), never onto the command line, which keeps only the script's path so that trials stay
    recognisable in ``ps``. ``names`` is a notebook
    cell's names file (core/run/cell_scripts.py), loaded into the trial's globals before the body runs.
    """
    if info.style == "argparse":
        spec: dict[str, Any] = {"source": source_copy, "argv": _argv(info, flags)}
    else:
        spec = {"source": source_copy, "globals": {name: _plain(value) for name, value in flags.items()}}
    if names:
        spec["names"] = names
    fd = safety.open_private(spec_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)  # ours, or refused
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
        marshal.dump(spec, fh)
    # `ps` shows `python .../hpwidgets/core/run/bootstrap.py /path/train.py SPEC`: the script it
    # runs. By path, not `-m`: a trial then imports nothing of hpwidgets (nor its version lookup).
    return [sys.executable, BOOTSTRAP, info.path, spec_path]


def _plain(value: Any) -> Any:
    """A flag's value as the trial reads it: the exact built-in type (marshal refuses subclasses
    and numpy's scalars, such as float64 and int64); lists and tuples as lists, as JSON gave them."""
    if isinstance(value, bool):
        return value
    for kind, abstract in ((str, str), (int, numbers.Integral), (float, numbers.Real)):
        if isinstance(value, abstract):
            return kind(value)
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value  # None, or what marshal refuses in one line


def _argv(info: ScriptInfo, flags: dict[str, Any]) -> list[str]:
    argv: list[str] = []
    for name in sorted(flags):
        flag = info.flags[name]
        value = flags[name]
        if value is None:  # no default and not given: the script's parser decides
            continue
        option = flag.option or f"--{name}"
        if flag.store_true:
            if value:
                argv.append(option)
        else:
            argv += [option, str(value)]
    return argv
