"""The house: every import walked (function-level ones too), no circle, adapters kept apart."""

import ast
from pathlib import Path

import hpwidgets

PACKAGE = Path(hpwidgets.__file__).parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _runtime_imports(tree: ast.AST):
    """Every import statement that can run: at module level or in a function, not the ones under
    ``if TYPE_CHECKING:``, which only annotations read."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for other in node.orelse:
                yield from _runtime_imports(ast.Module(body=[other], type_ignores=[]))
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _runtime_imports(node)


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in _runtime_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            edges |= {t for t in targets if t in modules and t != name}
        graph[name] = edges
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_no_import_circle_counting_function_level_imports():
    assert [" -> ".join(c) for c in circles(import_graph())] == []


def test_the_walk_sees_a_function_level_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c", "a"]]
    tree = ast.parse("def f():\n    from hpwidgets.core import errors\nif TYPE_CHECKING:\n    import x\n")
    assert [ast.unparse(n) for n in _runtime_imports(tree)] == ["from hpwidgets.core import errors"]


def private_uses(modules: dict[str, Path]) -> list[str]:
    """``_name``s one module takes from another of ours (``from m import _x`` or ``m._x``)."""
    found = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hpwidgets"):
                for a in node.names:
                    if f"{node.module}.{a.name}" in modules:
                        aliases[a.asname or a.name] = f"{node.module}.{a.name}"
                    elif a.name.startswith("_") and not a.name.startswith("__"):
                        found.append(f"{name}: {node.module}.{a.name}")
            elif isinstance(node, ast.Import):
                aliases.update({a.asname: a.name for a in node.names if a.asname and a.name in modules})
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                found.append(f"{name}: {aliases[node.value.id]}.{node.attr}")
    return found


def test_no_private_name_crosses_a_module():
    assert private_uses(_modules()) == []


def test_core_folders_show_its_parts():
    direct = sorted(p.name for p in (PACKAGE / "core").glob("*.py"))
    assert direct == ["__init__.py", "errors.py", "records.py"]
    packages = sorted(str(p.parent.relative_to(PACKAGE.parent)) for p in PACKAGE.rglob("__init__.py"))
    undocumented = [p for p in packages if not ast.get_docstring(ast.parse((PACKAGE.parent / p / "__init__.py").read_text()))]
    assert undocumented == []
