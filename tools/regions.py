"""Code after a solution region must not read the region's locals.

    python tools/regions.py          # each offending read; exit 1 if there is any

A learner's stub replaces a `### BEGIN SOLUTION` / `### END SOLUTION` region by a raise; code
after the region that reads a name the region assigned (`tokens`, `outputs`) makes the task a
fragment whose contract is the reference's local variables. For every function holding a region,
a name bound inside the region (assigned, a loop or `with` target, an import) and read below the
region's END line in the same function is reported, also when it was bound above the region too
(`tokens = ...` before a region that rebinds it: the code after reads the region's result). A
region that computes the function's result returns it. Run by `tools/tests/test_regions.py`.
"""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

# (file, name) reads let through, each with its reason; remove an entry once it is fixed
ALLOWED = {}


def regions(text):
    """[(begin line, end line)] of the solution regions of a file (1-based)."""
    found, start = [], None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() == BEGIN:
            start = number
        elif line.strip() == END and start is not None:
            found.append((start, number))
            start = None
    return found


def _own_nodes(function):
    """The nodes of `function`'s body, not those of functions, lambdas or classes in it."""
    nested = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    stack = [node for node in function.body if not isinstance(node, nested)]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(child for child in ast.iter_child_nodes(node)
                     if not isinstance(child, nested))


def leaks(text, filename="<source>"):
    """[(line, name, region begin line)] of reads after a region of names bound inside it."""
    spans = regions(text)
    if not spans:
        return []
    found = []
    for function in ast.walk(ast.parse(text, filename=filename)):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        end = function.end_lineno
        nodes = list(_own_nodes(function))
        for begin, finish in spans:
            if not function.lineno < begin < end:
                continue
            inside = set()
            for node in nodes:
                if (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
                        and begin < node.lineno < finish):
                    inside.add(node.id)
                elif (isinstance(node, (ast.Import, ast.ImportFrom))
                        and begin < node.lineno < finish):
                    inside |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
            for node in nodes:
                if (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
                        and node.lineno > finish and node.id in inside):
                    found.append((node.lineno, node.id, begin))
    return sorted(set(found))


def check(root=ROOT):
    """[(path, line, name, begin)] over every package's sources."""
    found = []
    for path in sorted((root / "packages").glob("*/src/**/*.py")):
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(root).as_posix()
        for line, name, begin in leaks(text, str(path)):
            if (relative, name) not in ALLOWED:
                found.append((relative, line, name, begin))
    return found


def main():
    found = check()
    for path, line, name, begin in found:
        print(f"{path}:{line}: reads {name!r}, a local of the solution region at line {begin}")
    if found:
        print("code after a solution region reads its locals: move that code into the region, "
              "or make the region return the value")
        return 1
    print("regions check: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
