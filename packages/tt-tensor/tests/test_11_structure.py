"""Task 11: the package's own structure. Its files import each other without a circle (every
import counts, also one inside a function or at the bottom of a file), and only tensor.py
constructs Tensor objects (through `make`, or the public constructor)."""

import ast
import pathlib

import tt_tensor

PACKAGE = pathlib.Path(tt_tensor.__file__).parent


def _modules():
    return {path.stem: ast.parse(path.read_text(), str(path)) for path in PACKAGE.glob("*.py")}


def _imported(tree, modules):
    """The package's modules that `tree` imports, wherever the import statement is."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            absolute = node.level == 0 and (node.module or "").split(".")[0] == "tt_tensor"
            if node.level != 1 and not absolute:
                continue
            parts = (node.module or "").split(".")[1 if absolute else 0:]
            if parts and parts[0]:
                found.add(parts[0])
            else:  # from . import x: a module, or a name of __init__
                found |= {a.name if a.name in modules else "__init__" for a in node.names}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "tt_tensor":
                    found.add(parts[1] if len(parts) > 1 else "__init__")
    return found


def _cycle(graph):
    """One import circle as a list of modules, or None (depth-first search, three colours)."""
    colour, path = {}, []

    def visit(name):
        colour[name] = "grey"
        path.append(name)
        for nxt in sorted(graph.get(name, ())):
            if colour.get(nxt) == "grey":
                return path[path.index(nxt):] + [nxt]
            if nxt not in colour and (found := visit(nxt)):
                return found
        colour[name] = "black"
        path.pop()
        return None

    for name in sorted(graph):
        if name not in colour and (found := visit(name)):
            return found
    return None


def test_the_import_graph_of_the_package_files_is_acyclic():
    modules = _modules()
    graph = {name: _imported(tree, modules) - {name} for name, tree in modules.items()}
    assert {"tensor", "ops", "composed"} <= set(graph)
    assert _cycle(graph) is None, f"import circle: {' -> '.join(_cycle(graph))}"


def test_the_cycle_finder_finds_a_late_import_circle():
    late = ast.parse("import numpy\n\ndef f():\n    from .b import g\n")
    modules = {"a": late, "b": ast.parse("from . import a\n")}
    graph = {name: _imported(tree, modules) for name, tree in modules.items()}
    assert graph == {"a": {"b"}, "b": {"a"}}
    assert _cycle(graph) == ["a", "b", "a"]


def _constructs_tensor(node):
    """True for Tensor(...) and Tensor.__new__(...) calls."""
    if not isinstance(node, ast.Call):
        return False
    fn = node.func
    if isinstance(fn, ast.Attribute) and fn.attr == "__new__":
        fn = fn.value
    return isinstance(fn, ast.Name) and fn.id == "Tensor"


def test_only_tensor_py_constructs_tensors():
    makers = {name for name, tree in _modules().items()
              if any(_constructs_tensor(node) for node in ast.walk(tree))}
    assert makers == {"tensor"}
