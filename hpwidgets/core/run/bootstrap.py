"""Runs in a trial's fresh interpreter: ``python .../hpwidgets/core/run/bootstrap.py SCRIPT SPEC``.

It forks: the parent stays as the trial's subreaper (``process_tree.py``: every descendant ends
with the trial, whatever session it made); the child sets the flags, then executes the
unmodified script as ``__main__``. Run by its path and kept to modules a bare interpreter has
already loaded or builds in (``_ast``, ``marshal``; the subreaper alone loads ``process_tree``,
stdlib only: the script sees nothing of hpwidgets), so that a trial costs little more than a bare
``python script.py`` (``ast`` and ``json`` with what they import, enum and re, cost about 17 ms
of CPU a trial: bench/README.md), and ``ps`` shows the script it runs. The flag values come from
a private file (SPEC, written by ``scripts.command`` with marshal) that it deletes: a command
line is readable by every user of the machine. Given a gate (``scripts.GATE_FD``), the script
runs only once a byte comes through it.
"""

import _ast  # the C module under ast: parse and node types without ast's own imports
import gc
import marshal
import os
import sys

_LOCATION = ("lineno", "col_offset", "end_lineno", "end_col_offset")


def _flagged(tree: _ast.Module, flags: dict) -> _ast.Module:
    """The script's module-level literal assignments of ``flags`` set to their trial values."""
    for node in tree.body:
        if isinstance(node, _ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        elif isinstance(node, _ast.AnnAssign) and node.value is not None:
            target = node.target
        else:
            continue
        if isinstance(target, _ast.Name) and target.id in flags:
            value = _ast.Constant(flags[target.id])
            for name in _LOCATION:  # ast.copy_location
                setattr(value, name, getattr(node.value, name))
            node.value = value
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


def _supervised() -> int | None:
    """Fork: the child goes on to run the trial; this process stays, a subreaper, ends every
    descendant when the child ends (or is stopped), and exits as the child did.

    The child reads its flags while this process becomes the subreaper (two cores at work), and
    waits on the pipe returned to it, closed once that is done, before the script runs.
    """
    if not sys.platform.startswith("linux"):
        return None  # no subreaper: the trial runs here, its process group still killed
    parent = os.environ.pop("HPWIDGETS_END_WITH_PARENT", None)  # process_tree.END_WITH_PARENT
    ready, done = os.pipe()
    gc.freeze()  # the collector leaves what both processes share alone: fewer pages copied (1-2 ms)
    child = os.fork()
    if child == 0:
        os.close(done)
        return ready
    os.close(ready)
    import process_tree  # beside this file, which runs by its path: sys.path[0] is its folder

    process_tree.become_subreaper(int(parent) if parent else None)
    os.close(done)  # the script may start: every process it orphans is re-parented to us now
    null = os.open(os.devnull, os.O_WRONLY)  # the trial's output pipe is the trial's to close
    os.dup2(null, 1)
    os.dup2(null, 2)
    process_tree.exit_as(process_tree.supervise(child))
    return None


def main() -> None:
    gate = os.environ.pop("HPWIDGETS_GATE_FD", None)  # scripts.GATE_FD
    ready = _supervised()
    path, spec_path = sys.argv[1], sys.argv[2]
    with open(spec_path, "rb") as fh:
        spec = marshal.load(fh)
    os.unlink(spec_path)
    with open(spec["source"], encoding="utf-8") as fh:  # ast.parse
        tree = _flagged(compile(fh.read(), path, "exec", _ast.PyCF_ONLY_AST), spec.get("globals") or {})
    sys.argv = [path] + spec.get("argv", [])
    sys.path[0] = os.path.dirname(path)
    if ready is not None:
        os.read(ready, 1)  # returns when the subreaper is set (or gone)
        os.close(ready)
    if gate is not None:
        go = os.read(int(gate), 1)  # the starter's word: a byte, or EOF when the trial must not run
        os.close(int(gate))
        if not go:
            os._exit(0)
    _run_as_main(compile(tree, path, "exec"), path, spec.get("names"))


if __name__ == "__main__":
    main()
