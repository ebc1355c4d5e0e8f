"""Solution regions: find them, replace them by stubs, and fill stubs back from the reference.

A solution region is the lines between `### BEGIN SOLUTION` and `### END SOLUTION` inside a
function body. `stub_text` keeps the two marker lines and puts one
`raise NotImplementedError("<module>: implement <function>(<args>) - <contract> [see <doc>]")`
between them, at the marker's indentation; everything else of the file (imports, module-level
code, signatures, docstrings) is untouched, so the stubbed package still imports.
The contract comes from the function's docstring (its first paragraphs), so the docstring is the
one source of truth; a function without one (a gradient rule, say) gets the comment lines just
above its region and its file's docstring. `<doc>` is the first sentence of the docstring (or
of the file's docstring) that starts with "See ", else the module's course text, COURSE.md.
`fill_text` is the inverse: it copies the reference's region bodies into the stub places.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
MAX_LINE = 99  # the house limit is < 100 columns
COURSE = "COURSE.md"  # a scaffold's copy of the module's README
CONTRACT_LIMIT = 400  # characters of docstring in a stub's message


class ScaffoldError(Exception):
    """Solution markers that do not pair up, or sit outside a function body."""


@dataclass(frozen=True)
class Region:
    """One solution region of a file: the 0-based line numbers of its two marker lines."""

    begin: int
    end: int
    indent: str
    function: str  # e.g. "relu(x)" or "Module.__setattr__(name, value)"
    summary: str  # the task's contract, from its docstring (see the module doc)
    see: str = COURSE  # the document the task needs

    @property
    def qualname(self) -> str:
        """The task's name: `relu`, `Module.__setattr__` (the function without arguments)."""
        return self.function.split("(", 1)[0]

    def task(self, distribution: str, part: str = "") -> str:
        """The stub's message: '<module>: implement <function> - <contract> [see <doc>]'."""
        text = f"{distribution}: implement {self.function}{part}"
        text = f"{text} - {self.summary}" if self.summary else text
        return f"{text} [see {self.see}]"


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
    tree = ast.parse(text, filename=filename)
    functions = _functions(tree)
    module_doc = ast.get_docstring(tree) or ""
    return [_region(lines, b, e, functions, filename, module_doc) for b, e in pairs]


def _region(lines, begin, end, functions, filename, module_doc="") -> Region:
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
    if inner.docstring:
        summary = contract(inner.name, inner.docstring)
    else:  # the comments just above the region, then what the file says of all its functions
        comments = []
        for line in reversed(lines[inner.node.lineno: begin]):
            if not line.strip().startswith("#"):
                break
            comments.insert(0, line.strip().lstrip("#").strip())
        paragraphs = module_doc.strip().split("\n\n")
        shared = contract("", "\n\n".join(paragraphs[1:]) or module_doc)  # not its title
        summary = "; ".join(part for part in (" ".join(comments), shared) if part)
    see = see_also(inner.docstring) or see_also(module_doc) or COURSE
    return Region(begin, end, indent, inner.signature, summary, see)


@dataclass(frozen=True)
class _Function:
    node: ast.AST
    signature: str
    docstring: str  # its own, or for a method without one its class's

    @property
    def name(self) -> str:
        return self.node.name


def _functions(tree: ast.AST) -> list[_Function]:
    """Every function and method with its display signature and docstring."""
    found: list[_Function] = []

    def visit(node, owners, class_doc):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, [*owners, child.name], _docstring(child))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                signature = f"{child.name}({_parameters(child.args)})"
                if owners:
                    signature = f"{'.'.join(owners)}.{signature}"
                doc = _docstring(child) or class_doc
                found.append(_Function(child, signature, doc))
                visit(child, [*owners, child.name], "")
            else:
                visit(child, owners, class_doc)

    visit(tree, [], "")
    return found


def _docstring(node: ast.AST) -> str:
    """A function's or class's docstring, dedented by its body's indentation only, so that a
    formula block indented inside it stays indented (inspect.cleandoc would flatten it)."""
    raw = ast.get_docstring(node, clean=False)
    if not raw:
        return ""
    indent = node.body[0].col_offset
    first, *rest = raw.expandtabs().splitlines()
    rest = [line[min(indent, len(line) - len(line.lstrip())):].rstrip() for line in rest]
    return "\n".join([first.strip(), *rest]).strip()


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


def contract(name: str, docstring: str, limit: int = CONTRACT_LIMIT) -> str:
    """A task's contract from its docstring: its paragraphs while they fit in `limit` (at
    least the first, cut at its last full sentence that fits), on one line.

    'relu(x) = max(x, 0), elementwise.' for relu -> 'max(x, 0), elementwise': a statement
    that opens with the function's own call drops that part (the task names it already).
    "See ..." sentences are left out (the stub names that document on its own).
    """
    paragraphs = [_one_line(p) for p in docstring.strip().split("\n\n") if p.strip()]
    # a "See" sentence runs to its last full stop: dots inside it (COURSE.md) do not end it
    see = r"(^|(?<=\. ))See [^.]*(?:\.[A-Za-z][^.]*)*\.?\s*"
    paragraphs = [re.sub(see, "", p).strip() for p in paragraphs]
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        return ""
    text = paragraphs[0]
    if name and text.startswith(f"{name}(") and " = " in text:
        text = text.split(" = ", 1)[1]
    for more in paragraphs[1:]:
        if len(text) + 1 + len(more) > limit:
            break
        text = f"{text} {more}"
    if len(text) > limit:  # the last full sentence that fits, else words and "..."
        sentence_end = text.rfind(". ", 0, limit)
        if sentence_end >= 40:
            text = text[:sentence_end]
        else:
            text = text[: text.rfind(" ", 0, limit - 3)].rstrip(",;:") + "..."
    return text.rstrip(".").rstrip(":").strip()


def _one_line(paragraph: str) -> str:
    """A docstring paragraph on one line; its indented lines (a formula block) joined by '; '."""
    lines = [line for line in paragraph.strip("\n").splitlines() if line.strip()]
    block = lines[0][:1].isspace()  # a paragraph that is all formula lines
    text = " ".join(lines[0].split())
    for line in lines[1:]:
        indented = line[:1].isspace()
        joiner = "; " if indented and (block or not text.endswith(":")) else " "
        text = f"{text}{joiner}{' '.join(line.split())}"
    return text


def summarize(name: str, docstring: str, limit: int = 160) -> str:
    """The first paragraph of a docstring as one short line (see `contract`)."""
    first = docstring.strip().split("\n\n")[0]
    return contract(name, first, limit)


def see_also(docstring: str) -> str:
    """The document a docstring points to: its first 'See ...' sentence, without 'See '."""
    match = re.search(r"(?:^|(?<=\s))See ([^.]*(?:\.[A-Za-z][^.]*)*)", " ".join(docstring.split()))
    return match.group(1).strip() if match else ""


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


def stub_text(text: str, distribution: str, filename: str = "<file>",
              only: str | None = None) -> tuple[str, list[tuple[int, str]]]:
    """The file with every region's body replaced by its raise (with `only`, just the regions
    of that task, e.g. `Module.train`); also (1-based line of the raise, message) for each
    region replaced."""
    lines = text.splitlines()
    out, stubs, last = [], [], 0
    for region, message in stub_tasks(text, distribution, filename):
        if only is not None and region.qualname != only:
            continue
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
