"""The course graph and the checks that keep every pyproject.toml faithful to it.

    python tools/graph.py check   # the dependency rule, pins, extras, imports, generated files,
                                  # the uv workspace's sources
    python tools/graph.py sync    # write every generated file: tools/requirements/<dist>.txt
                                  # (used by tox), tox.ini's lists, the README's module table
    python tools/graph.py reqs    # the same as sync (its older name)
    python tools/graph.py order   # distributions in dependency order

The course graph is the course table, packages/tt-setup/src/tt_setup/course.json (read by
course_table.py beside this file). The dependency rule: a module declares every course edge of
the table, plus only the extra edges the table records, each to an earlier module with a reason;
so every exit point's extra installs a closed set.

Standard library only; Python >= 3.10 (tomllib where it exists, a small reader otherwise).
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))  # course_table.py, also when imported
import course_table  # noqa: E402

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: read our own pyproject subset
    tomllib = None

ROOT = Path(__file__).resolve().parent.parent


Module = course_table.Module
# The course table of this checkout. check(root) reads root's own table instead.
try:
    _COURSE_TABLE = course_table.load_course(ROOT)
except ValueError:  # check() reports what is wrong with it; nothing else can run
    _COURSE_TABLE = course_table.Course({}, {}, {}, {})
COURSE = _COURSE_TABLE.modules
META = "tinytorch"
META_BASE = ("tt-setup",)  # what `pip install tinytorch` brings without an extra
META_MIN_VERSION = (0, 2, 0)  # an unrelated tinytorch 0.1.0 exists on PyPI
TEST_EXTRA = "test"  # optional-dependencies group: siblings only the contract tests need
EXTRAS = _COURSE_TABLE.extras  # exit-point extra -> the last part it installs
TOOL_EXTRAS = ("plots", "grade")  # meta-package extras of third-party tools only (no course module)


class Requirement(NamedTuple):
    name: str  # normalised: lower case, runs of -_. as one -
    spec: str  # e.g. "~=0.1.0"; "" when unconstrained
    text: str  # as written in pyproject.toml


class Package(NamedTuple):
    name: str
    path: Path
    version: str
    deps: list[Requirement]
    extras: dict[str, list[Requirement]]


# ---------------------------------------------------------------- reading pyproject.toml files

def normalise(name: str) -> str:
    """PEP 503 name normalisation: `TT_Tensor` and `tt-tensor` are the same distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(text: str) -> Requirement:
    """Split `name[extra] spec ; marker` into a Requirement (extras and markers are dropped)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*)", text)
    if match is None:
        raise ValueError(f"cannot read requirement {text!r}")
    return Requirement(normalise(match.group(1)), match.group(3).replace(" ", ""), text)


def read_toml(path: Path) -> dict:
    """Read a TOML file: tomllib when the interpreter has it, else `read_toml_subset`."""
    if tomllib is not None:
        with path.open("rb") as file:
            return tomllib.load(file)
    return read_toml_subset(path.read_text(encoding="utf-8"))


def read_toml_subset(text: str) -> dict:
    """Read the TOML our pyprojects use: [tables], `key = "string"` and `key = [strings]`.

    Arrays may span lines; comments are dropped. Anything else is ignored.
    """
    data: dict = {}
    table = data
    pending = ""  # the text of an array that has not closed yet
    for line in text.splitlines():
        stripped = strip_comment(line).strip()
        if pending:
            pending += " " + stripped
            if pending.rstrip().endswith("]"):
                key, value = pending.split("=", 1)
                table[key.strip()] = ast.literal_eval(value.strip())
                pending = ""
        elif re.fullmatch(r"\[[^\[\]]+\]", stripped):
            table = data
            for key in stripped[1:-1].split("."):
                table = table.setdefault(key.strip().strip('"'), {})
        elif re.match(r"[\w\"-]+\s*=\s*\[", stripped) and not stripped.endswith("]"):
            pending = stripped
        elif re.match(r"[\w\"-]+\s*=\s*[\"\[]", stripped):
            key, value = stripped.split("=", 1)
            table[key.strip().strip('"')] = ast.literal_eval(value.strip())
    return data


def strip_comment(line: str) -> str:
    """The line without its `# comment` (a # inside a "string" is kept)."""
    in_string = False
    for position, char in enumerate(line):
        if char == '"' and (position == 0 or line[position - 1] != "\\"):
            in_string = not in_string
        elif char == "#" and not in_string:
            return line[:position]
    return line


def read_version(package_dir: Path, pyproject: dict) -> str:
    """The version from the file named by [tool.hatch.version] path (or [project] version)."""
    if "version" in pyproject["project"]:
        return pyproject["project"]["version"]
    version_file = package_dir / pyproject["tool"]["hatch"]["version"]["path"]
    match = re.search(r"""__version__\s*=\s*["']([^"']+)["']""", version_file.read_text())
    if match is None:
        raise ValueError(f"{version_file}: no __version__ = '...' line")
    return match.group(1)


def load_package(package_dir: Path) -> Package:
    """One package's name, version, dependencies and extras, from its pyproject.toml."""
    pyproject = read_toml(package_dir / "pyproject.toml")
    project = pyproject["project"]
    extras = {name: [parse_requirement(req) for req in reqs]
              for name, reqs in project.get("optional-dependencies", {}).items()}
    return Package(normalise(project["name"]), package_dir, read_version(package_dir, pyproject),
                   [parse_requirement(req) for req in project.get("dependencies", [])], extras)


def load_packages(root: Path) -> dict[str, Package]:
    """Every package under root/packages, by normalised distribution name."""
    packages = [load_package(p.parent) for p in sorted(root.glob("packages/*/pyproject.toml"))]
    return {package.name: package for package in packages}


def siblings(requirements: list[Requirement]) -> dict[str, Requirement]:
    """The requirements that name one of the seventeen module distributions."""
    return {req.name: req for req in requirements if req.name in COURSE}


# ---------------------------------------------------------------- graph algorithms

def topological_order(graph: dict[str, tuple[str, ...]]) -> tuple[list[str], list[str]]:
    """Kahn's algorithm, ties broken by module number: (ordered nodes, nodes left in cycles)."""
    rank = {name: COURSE[name].number if name in COURSE else 99 for name in graph}
    waiting = {name: {dep for dep in deps if dep in graph} for name, deps in graph.items()}
    order: list[str] = []
    while True:
        ready = sorted((n for n, deps in waiting.items() if not deps), key=rank.__getitem__)
        if not ready:
            return order, sorted(waiting, key=rank.__getitem__)
        order.append(ready[0])
        del waiting[ready[0]]
        for deps in waiting.values():
            deps.discard(ready[0])


def closure(graph: dict[str, tuple[str, ...]], start: str) -> set[str]:
    """Start plus everything it depends on, directly or not."""
    seen, todo = {start}, [start]
    while todo:
        for dep in graph.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def declared_graph(packages: dict[str, Package]) -> dict[str, tuple[str, ...]]:
    """The sibling edges the pyprojects declare (the meta-package with all its extras)."""
    graph = {name: tuple(siblings(pkg.deps)) for name, pkg in packages.items()}
    if META in packages:
        extras = [req for reqs in packages[META].extras.values() for req in reqs]
        graph[META] = tuple(siblings(packages[META].deps + extras))
    return graph


def test_closure(packages: dict[str, Package], name: str) -> set[str]:
    """What a package's contract tests may import: its own closure plus its `test` extra's.

    Modules taught before autograd (spatial, normalization, ...) cannot depend on tt-autograd,
    yet their gradient checks need it: they list it in `[project.optional-dependencies] test`.
    """
    graph = declared_graph(packages)
    allowed = closure(graph, name)
    for dep in siblings(packages[name].extras.get(TEST_EXTRA, [])):
        allowed |= closure(graph, dep)
    return allowed


def exit_point(extra: str, course: course_table.Course | None = None) -> list[str]:
    """The modules an extra installs: every module of parts 1..the extra's last part."""
    course = course or _COURSE_TABLE
    return [name for name, module in course.modules.items()
            if module.part <= course.extras[extra]]


# ---------------------------------------------------------------- checks (each returns problems)

def check_packages_present(packages: dict[str, Package],
                           course: dict[str, Module] = COURSE) -> list[str]:
    """Exactly the seventeen modules and the meta-package live under packages/."""
    expected = set(course) | {META}
    problems = [f"packages/ has no package {name}" for name in sorted(expected - set(packages))]
    problems += [f"packages/ has {name}, which is not in the course graph"
                 for name in sorted(set(packages) - expected)]
    return problems


def check_course_graph(course: course_table.Course | None = None) -> list[str]:
    """The table itself: known names, extra edges only backwards and with a reason, no cycle,
    and every exit point's modules closed under their declared edges."""
    modules = (course or _COURSE_TABLE).modules
    problems = [f"course graph: {name} depends on unknown {dep}"
                for name, module in modules.items() for dep in module.declared
                if dep not in modules]
    for name, module in modules.items():
        if module.import_name != name.replace("-", "_"):
            problems.append(f"course table: {name} has import name {module.import_name!r}")
        problems += [problem for to, reason in module.extra
                     if (problem := extra_edge_problem(modules, name, to, reason))]
    _, cyclic = topological_order({name: module.declared for name, module in modules.items()})
    if cyclic:
        problems.append(f"course graph has a cycle through {', '.join(cyclic)}")
    return problems + check_exit_points_closed(course or _COURSE_TABLE)


def extra_edge_problem(modules: dict[str, Module], name: str, to: str, reason: str) -> str:
    """What is wrong with the extra edge name -> to ('' when nothing is)."""
    if to not in modules:
        return ""  # reported as an unknown dependency
    module, target = modules[name], modules[to]
    if to in module.deps:
        return f"course table: {name} -> {to} is a course edge and also an extra edge"
    if not reason.strip():
        return f"course table: the extra edge {name} -> {to} has no reason"
    if target.number >= module.number or target.part > module.part:
        return (f"course table: the extra edge {name} -> {to} points forward (module "
                f"{target.number:02d}, part {target.part}, is not before module "
                f"{module.number:02d}, part {module.part}): an extra edge may only point to "
                "an earlier module")
    return ""


def check_exit_points_closed(course: course_table.Course) -> list[str]:
    """Installing an exit point's modules installs nothing outside it."""
    graph = {name: module.declared for name, module in course.modules.items()}
    problems = []
    for extra in course.extras:
        members = set(exit_point(extra, course))
        for name in sorted(members):
            outside = sorted(closure(graph, name) - members)
            if outside:
                problems.append(f"course table: tinytorch[{extra}] is not closed: {name} "
                                f"needs {', '.join(outside)}")
    return problems


def check_edges(packages: dict[str, Package],
                course: dict[str, Module] = COURSE) -> list[str]:
    """Each module declares exactly its course edges plus its recorded extra edges, as ~=
    ranges its siblings satisfy."""
    problems = []
    for name, module in course.items():
        if name not in packages:
            continue
        declared = siblings(packages[name].deps)
        for dep in sorted(set(declared) - set(module.declared)):
            problems.append(f"{name} declares {dep} but the course graph does not (an extra "
                            "edge must be recorded in the course table, with its reason)")
        for dep in module.deps:
            if dep not in declared:
                problems.append(f"{name} is missing {dep} (the course graph says {name} -> {dep})")
        for dep, reason in module.extra:
            if dep not in declared:
                problems.append(f"{name} is missing {dep} (an extra edge of the course table: "
                                f"{reason})")
        for dep, req in sorted(declared.items()):
            if dep in packages:
                problems += check_compatible(name, req, packages[dep].version)
    _, cyclic = topological_order(declared_graph(packages))
    if cyclic:
        problems.append(f"declared dependencies have a cycle through {', '.join(cyclic)}")
    return problems


def check_test_extras(packages: dict[str, Package]) -> list[str]:
    """A `test` extra names siblings that do not depend back on the package, as ~= ranges."""
    graph = declared_graph(packages)
    problems = []
    for name in sorted(set(COURSE) & set(packages)):
        for dep, req in sorted(siblings(packages[name].extras.get(TEST_EXTRA, [])).items()):
            if dep not in packages:
                continue
            if name in closure(graph, dep):
                problems.append(f"{name}'s test extra names {dep}, which depends on {name}")
            problems += check_compatible(name, req, packages[dep].version)
    return problems


def release(version: str) -> tuple[int, ...]:
    """The numeric release part of a version: '0.1.0+own' -> (0, 1, 0)."""
    match = re.match(r"\d+(\.\d+)*", version)
    return tuple(int(part) for part in match.group(0).split(".")) if match else ()


def check_compatible(owner: str, req: Requirement, version: str) -> list[str]:
    """`req` is `~=X.Y.Z` and the sibling's current version falls in that range."""
    match = re.fullmatch(r"~=(\d+(?:\.\d+)+)", req.spec)
    if match is None:
        return [f"{owner} requires {req.text!r}: sibling requirements must be "
                f"'{req.name}~={version}' (a compatible range)"]
    base, have = release(match.group(1)), release(version)
    if have < base or have[:len(base) - 1] != base[:-1]:
        return [f"{owner} requires {req.name}{req.spec} but packages/{req.name} is {version}"]
    return []


def check_meta(packages: dict[str, Package],
               course: course_table.Course | None = None) -> list[str]:
    """The meta-package: version, base dependency, the four extras and their exact pins."""
    if META not in packages:
        return []
    meta = packages[META]
    problems = []
    if release(meta.version) < META_MIN_VERSION:
        problems.append(f"{META} is {meta.version}; it must be >= 0.2.0 "
                        "(an unrelated tinytorch 0.1.0 exists on PyPI)")
    problems += check_pins(packages, "base install", meta.deps, list(META_BASE))
    for extra in sorted(set(meta.extras) - set((course or _COURSE_TABLE).extras)):
        if extra not in TOOL_EXTRAS:
            problems.append(f"{META} has extra [{extra}], which is not an exit point")
        elif siblings(meta.extras[extra]):
            problems.append(f"{META}'s extra [{extra}] names course modules; it is for "
                            "third-party tools only")
    for extra in (course or _COURSE_TABLE).extras:
        if extra not in meta.extras:
            problems.append(f"{META} is missing extra [{extra}]")
        else:
            problems += check_pins(packages, f"[{extra}]", meta.extras[extra],
                                   exit_point(extra, course))
    return problems


def check_pins(packages: dict[str, Package], where: str, reqs: list[Requirement],
               expected: list[str]) -> list[str]:
    """`reqs` pins exactly the `expected` modules, each at `==` its package's version."""
    pinned = siblings(reqs)
    problems = [f"{META} {where} pins {name} but that exit point does not include it"
                for name in sorted(set(pinned) - set(expected))]
    problems += [f"{META} {where} is missing {name}" for name in expected if name not in pinned]
    for name, req in sorted(pinned.items()):
        version = packages[name].version if name in packages else None
        if version is not None and req.spec != f"=={version}":
            problems.append(f"{META} {where} pins {req.text!r} but packages/{name} is {version}: "
                            f"pin {name}=={version}")
    return problems


def imported_modules(path: Path) -> set[str]:
    """Dotted names of every module a Python file imports (absolute imports only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def check_imports(packages: dict[str, Package]) -> list[str]:
    """Code and tests import only siblings they depend on, and only their public top level."""
    graph = declared_graph(packages)
    problems = []
    for name, package in sorted(packages.items()):
        allowed_code = {dep.replace("-", "_") for dep in closure(graph, name)}
        allowed_tests = {dep.replace("-", "_") for dep in test_closure(packages, name)}
        for path in source_files(package):
            in_tests = path.relative_to(package.path).parts[0] == "tests"
            allowed = allowed_tests if in_tests else allowed_code
            shown = path.relative_to(package.path.parent.parent)
            problems += [f"{shown} imports {module}{problem}"
                         for module in sorted(imported_modules(path))
                         if (problem := import_problem(name, allowed, module, in_tests))]
    return problems


def source_files(package: Package) -> list[Path]:
    """The Python files of a package's code (src/) and contract tests (tests/)."""
    return sorted([*package.path.glob("src/**/*.py"), *package.path.glob("tests/**/*.py")])


def import_problem(name: str, allowed: set[str], module: str, in_tests: bool) -> str:
    """What is wrong with package `name` importing `module` ('' when nothing is)."""
    top, _, submodule = module.partition(".")
    if top not in {course_name.replace("-", "_") for course_name in COURSE}:
        return ""  # the standard library, numpy, tqdm, pytest, ...
    if top not in allowed:
        return f" but {name} does not depend on {top.replace('_', '-')}"
    own_code = top == name.replace("-", "_") and not in_tests
    if submodule and not own_code:
        return f": use the public names of {top} (its __all__), not a submodule"
    return ""


def check_uv_workspace(packages: dict[str, Package], root: Path) -> list[str]:
    """The root pyproject.toml (uv only) names every distribution as a workspace source, so uv
    never looks one of our names up on an index, and nothing else."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    if re.search(r"^\[project\]", text, flags=re.MULTILINE):
        return ["pyproject.toml: the workspace root must not be a package (no [project] table)"]
    # a line reader, not TOML: Python 3.10's subset reader does not read inline tables
    listed = {normalise(name) for name in re.findall(
        r"^([A-Za-z0-9_.-]+)\s*=\s*\{\s*workspace\s*=\s*true\s*\}", text, flags=re.MULTILINE)}
    problems = [f"pyproject.toml: [tool.uv.sources] is missing {name} = {{ workspace = true }}"
                for name in sorted(set(packages) - listed)]
    problems += [f"pyproject.toml: [tool.uv.sources] names {name}, which is not in packages/"
                 for name in sorted(listed - set(packages))]
    return problems


# ---------------------------------------------------------------- requirement files for tox

def requirement_lines(packages: dict[str, Package], name: str) -> list[str]:
    """Editable local paths of `name`, every sibling it depends on and what its tests need
    (its `test` extra), dependencies first.

    Editable, so that a reused tox env always runs the current source; each package's src/
    holds only its own import package, so an undeclared sibling is still not importable.
    """
    graph = declared_graph(packages)
    wanted = test_closure(packages, name)
    order, cyclic = topological_order({n: graph[n] for n in wanted if n in graph})
    return [f"-e ./packages/{packages[n].path.name}" for n in order + cyclic]


def requirement_files(packages: dict[str, Package], root: Path) -> dict[Path, str]:
    """The text each tools/requirements/<dist>.txt must have."""
    header = "# Generated by `python tools/graph.py reqs`: do not edit.\n"
    return {root / "tools" / "requirements" / f"{name}.txt":
            header + "\n".join(requirement_lines(packages, name)) + "\n"
            for name in sorted(packages)}


def check_requirement_files(packages: dict[str, Package], root: Path) -> list[str]:
    """Every generated requirement file exists with the right content; no stale extras."""
    wanted = requirement_files(packages, root)
    problems = [f"{path.relative_to(root)} is out of date: run python tools/graph.py reqs"
                for path, text in wanted.items()
                if not path.is_file() or path.read_text(encoding="utf-8") != text]
    problems += [f"{path.relative_to(root)} belongs to no package: delete it"
                 for path in sorted((root / "tools" / "requirements").glob("*.txt"))
                 if path not in wanted]
    return problems


def write_requirement_files(packages: dict[str, Package], root: Path) -> list[Path]:
    """Write every requirement file whose content changed; return the paths written."""
    written = []
    for path, text in requirement_files(packages, root).items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            course_table.write_atomic(path, text)
            written.append(path)
    return written


# ---------------------------------------------------------------- command line

def check(root: Path) -> list[str]:
    """Every problem in the repository at root; an empty list means all is well."""
    try:
        course = course_table.load_course(root)
    except ValueError as error:
        return [str(error)]
    packages = load_packages(root)
    return (check_course_graph(course) + check_packages_present(packages, course.modules)
            + check_edges(packages, course.modules) + check_test_extras(packages)
            + check_meta(packages, course) + check_imports(packages)
            + check_requirement_files(packages, root)
            + course_table.check_generated(root, course)
            + course_table.check_headings(root, course)
            + check_uv_workspace(packages, root))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    parser.add_argument("command", choices=["check", "sync", "reqs", "order"])
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.command == "check":
        problems = check(root)
        for problem in problems:
            print(f"error: {problem}")
        print(f"graph check: {len(problems)} problem(s)" if problems else "graph check: ok")
        return 1 if problems else 0
    packages = load_packages(root)
    if args.command in ("sync", "reqs"):
        written = write_requirement_files(packages, root)
        try:
            written += course_table.write_generated(root, course_table.load_course(root))
        except (OSError, ValueError) as error:
            print(f"error: {error}")
            return 1
        for path in written:
            print(f"wrote {path.relative_to(root)}")
        return 0
    order, cyclic = topological_order(declared_graph(packages))
    print("\n".join(order + cyclic))
    return 1 if cyclic else 0


if __name__ == "__main__":
    sys.exit(main())
