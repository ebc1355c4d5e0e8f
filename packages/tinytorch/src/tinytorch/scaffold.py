"""Solution regions: find them, replace them by stubs, and fill stubs back from the reference.

A solution region is the lines between `### BEGIN SOLUTION` and `### END SOLUTION` inside a
function body. `stub_text` keeps the two marker lines and puts one
`raise NotImplementedError("<module>: implement <function>(<args>) - <what>")` between them,
at the marker's indentation; everything else of the file (imports, module-level code,
signatures, docstrings) is untouched, so the stubbed package still imports.
`fill_text` is the inverse: it copies the reference's region bodies into the stub places.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
MAX_LINE = 99  # the house limit is < 100 columns


class ScaffoldError(Exception):
    """Solution markers that do not pair up, or sit outside a function body."""


@dataclass(frozen=True)
class Region:
    """One solution region of a file: the 0-based line numbers of its two marker lines."""

    begin: int
    end: int
    indent: str
    function: str  # e.g. "relu(x)" or "Module.__setattr__(name, value)"
    summary: str  # what the function does, from its docstring ("" when it has none)

    @property
    def qualname(self) -> str:
        """The task's name: `relu`, `Module.__setattr__` (the function without arguments)."""
        return self.function.split("(", 1)[0]

    def task(self, distribution: str, part: str = "") -> str:
        """The stub's message: '<module>: implement <function> - <summary>'."""
        text = f"{distribution}: implement {self.function}{part}"
        return f"{text} - {self.summary}" if self.summary else text


def find_regions(text: str, filename: str = "<file>") -> list[Region]:
    """Every solution region of a Python source text, in order."""
    lines = text.splitlines()
    pairs, begin = [], None
    for number, line in enumerate(lines):
        marker = line.strip()
        if marker == BEGIN:
            if begin is not None:
                raise ScaffoldError(f"{filename}:{number + 1}: {BEGIN} inside another region "
                                    f"(opened at line {begin + 1})")
            begin = number
        elif marker == END:
            if begin is None:
                raise ScaffoldError(f"{filename}:{number + 1}: {END} without a {BEGIN}")
            pairs.append((begin, number))
            begin = None
    if begin is not None:
        raise ScaffoldError(f"{filename}:{begin + 1}: {BEGIN} is never closed")
    if not pairs:
        return []
    functions = _functions(ast.parse(text, filename=filename))
    return [_region(lines, b, e, functions, filename) for b, e in pairs]


def _region(lines, begin, end, functions, filename) -> Region:
    indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
    if lines[end][: len(indent)] != indent or lines[end].strip() != END or \
            len(lines[end]) - len(lines[end].lstrip()) != len(indent):
        raise ScaffoldError(f"{filename}:{end + 1}: {END} is not indented like its {BEGIN} "
                            f"(line {begin + 1})")
    around = [f for f in functions if f.node.lineno < begin + 1 <= f.node.end_lineno]
    if not around:
        raise ScaffoldError(f"{filename}:{begin + 1}: a solution region must sit inside a "
                            "function body (module- or class-level code runs at import)")
    inner = max(around, key=lambda f: f.node.lineno)
    return Region(begin, end, indent, inner.signature, inner.summary)


@dataclass(frozen=True)
class _Function:
    node: ast.AST
    signature: str
    summary: str


def _functions(tree: ast.AST) -> list[_Function]:
    """Every function and method with its display signature and docstring summary."""
    found: list[_Function] = []

    def visit(node, owners, class_doc):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, [*owners, child.name], ast.get_docstring(child) or "")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                signature = f"{child.name}({_parameters(child.args)})"
                if owners:
                    signature = f"{'.'.join(owners)}.{signature}"
                doc = ast.get_docstring(child) or class_doc
                found.append(_Function(child, signature, summarize(child.name, doc)))
                visit(child, [*owners, child.name], "")
            else:
                visit(child, owners, class_doc)

    visit(tree, [], "")
    return found


def _parameters(args: ast.arguments) -> str:
    """`x, axis` for def f(x, axis=-1); self and cls are left out."""
    names = [a.arg for a in [*args.posonlyargs, *args.args]]
    if args.vararg:
        names.append(f"*{args.vararg.arg}")
    elif args.kwonlyargs:
        names.append("*")
    names += [a.arg for a in args.kwonlyargs]
    if args.kwarg:
        names.append(f"**{args.kwarg.arg}")
    return ", ".join(n for n in names if n not in ("self", "cls"))


def summarize(name: str, docstring: str, limit: int = 160) -> str:
    """What a function does, from its docstring's first paragraph.

    'relu(x) = max(x, 0), elementwise.' for relu -> 'max(x, 0), elementwise': a statement
    that opens with the function's own call drops that part (the task names it already).
    """
    paragraph = " ".join(docstring.strip().split("\n\n")[0].split())
    if not paragraph:
        return ""
    if paragraph.startswith(f"{name}(") and " = " in paragraph:
        paragraph = paragraph.split(" = ", 1)[1]
    if len(paragraph) > limit:  # the last full sentence that fits, else words and "..."
        sentence_end = paragraph.rfind(". ", 0, limit)
        if sentence_end >= 40:
            paragraph = paragraph[:sentence_end]
        else:
            paragraph = paragraph[: paragraph.rfind(" ", 0, limit - 3)].rstrip(",;:") + "..."
    return paragraph.rstrip(".").rstrip(":").strip()


def stub_tasks(text: str, distribution: str, filename: str = "<file>") -> list[tuple[Region, str]]:
    """(region, stub message) for every region; several regions in one function are parts."""
    regions = find_regions(text, filename)
    totals: dict[str, int] = {}
    for region in regions:
        totals[region.function] = totals.get(region.function, 0) + 1
    seen: dict[str, int] = {}
    tasks = []
    for region in regions:
        seen[region.function] = seen.get(region.function, 0) + 1
        total = totals[region.function]
        part = f" (part {seen[region.function]} of {total})" if total > 1 else ""
        tasks.append((region, region.task(distribution, part)))
    return tasks


def raise_lines(indent: str, message: str) -> list[str]:
    """`raise NotImplementedError("...")` at `indent`, wrapped to stay under 100 columns."""
    one_line = f"{indent}raise NotImplementedError({_quote(message)})"
    if len(one_line) <= MAX_LINE:
        return [one_line]
    width = MAX_LINE - len(indent) - 4 - 3  # 4 more spaces of indent, quotes and a space
    pieces = textwrap.wrap(message, width, drop_whitespace=False) or [message]
    body = [f"{indent}    {_quote(piece)}" for piece in pieces]
    return [f"{indent}raise NotImplementedError(", *body[:-1], body[-1] + ")"]


def _quote(text: str) -> str:
    return f'"{text}"' if '"' not in text and "\\" not in text else repr(text)


def stub_text(text: str, distribution: str,
              filename: str = "<file>") -> tuple[str, list[tuple[int, str]]]:
    """The file with every region's body replaced by its raise; also (1-based line of the
    raise, message) for each region."""
    lines = text.splitlines()
    out, stubs, last = [], [], 0
    for region, message in stub_tasks(text, distribution, filename):
        out += lines[last: region.begin + 1]
        stubs.append((len(out) + 1, message))
        out += raise_lines(region.indent, message)
        last = region.end
    out += lines[last:]
    return "\n".join(out) + ("\n" if text.endswith("\n") else ""), stubs


def fill_text(stub: str, reference: str, filename: str = "<file>") -> str:
    """Put the reference's region bodies back into the stub's regions, one for one."""
    stub_regions = find_regions(stub, f"{filename} (stub)")
    ref_regions = find_regions(reference, f"{filename} (reference)")
    if [r.function for r in stub_regions] != [r.function for r in ref_regions]:
        raise ScaffoldError(
            f"{filename}: the regions differ: stub has "
            f"{[r.function for r in stub_regions]}, reference has "
            f"{[r.function for r in ref_regions]}"
        )
    lines, ref_lines = stub.splitlines(), reference.splitlines()
    out, last = [], 0
    for mine, theirs in zip(stub_regions, ref_regions):
        out += lines[last: mine.begin + 1]
        out += ref_lines[theirs.begin + 1: theirs.end]
        last = mine.end
    out += lines[last:]
    return "\n".join(out) + ("\n" if stub.endswith("\n") else "")
