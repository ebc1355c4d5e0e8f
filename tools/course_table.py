"""The course table as tools/graph.py sees it, and the text it generates from it.

The table is `packages/tt-setup/src/tt_setup/course.json` (tt_setup.course_table() reads the
same file at run time). From it come tox.ini's env_list, labels and set_env lines, and the
tables between markers in README.md (modules), ARCHITECTURE.md (parts, extra edges) and
packages/tinytorch/README.md (namespaces); `python tools/graph.py sync` writes them and
`python tools/graph.py check` fails when they drift.

Standard library only, so that it works before anything is installed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import NamedTuple

TABLE = Path("packages/tt-setup/src/tt_setup/course.json")
PYTHONS = ("3.10", "3.11", "3.12", "3.13")  # the py3XX tox factors and labels
# tox envs beyond one per module, and the package whose requirement file each one installs
OTHER_ENVS = {"tinytorch": "tinytorch", "tools": "tt-setup", "capstones": "tinytorch"}
ROMAN = {1: "I", 2: "II", 3: "III"}


class Module(NamedTuple):
    number: int
    part: int  # 1, 2 or 3: the course part, and so the first exit point that has it
    deps: tuple[str, ...]  # the course edges: siblings it must depend on directly
    extra: tuple[tuple[str, str], ...] = ()  # (sibling, reason): further edges it may declare
    title: str = ""
    provides: str = ""
    import_name: str = ""

    @property
    def declared(self) -> tuple[str, ...]:
        """What its pyproject.toml must declare: the course edges plus the extra edges."""
        return self.deps + tuple(to for to, _ in self.extra)


class Course(NamedTuple):
    modules: dict[str, Module]  # distribution -> Module, in course order
    extras: dict[str, int]  # exit-point extra -> the last part it installs
    parts: dict[int, dict]  # part -> its entry in the table: extra, title, capstone
    namespaces: dict[str, tuple[str, ...]]  # tinytorch namespace -> its modules, search order


def load_course(root: Path) -> Course:
    """Read root's course table; ValueError names the file and what is wrong."""
    path = root / TABLE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        modules = {entry["distribution"]: Module(
            entry["number"], entry["part"], tuple(entry["requires"]),
            tuple((edge["to"], edge["reason"]) for edge in entry["extra_edges"]),
            entry["title"], entry["provides"], entry["import"])
            for entry in data["modules"]}
        parts = {part["part"]: part for part in data["parts"]}
        namespaces = {entry["name"]: search_order(entry, data["modules"])
                      for entry in data["namespaces"]}
        extras = {part["extra"]: number for number, part in parts.items()}
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: cannot read the course table: {error}") from None
    except (KeyError, TypeError) as error:
        raise ValueError(f"{path}: missing or malformed field {error}") from None
    extras["all"] = max(extras.values())
    return Course(modules, extras, parts, namespaces)


def search_order(namespace: dict, modules: list[dict]) -> tuple[str, ...]:
    """The modules a tinytorch namespace searches: its primary, then the rest in course order
    (what tt_setup.course_table() gives tinytorch)."""
    members = [m["distribution"] for m in modules if m["namespace"] == namespace["name"]]
    rest = [name for name in members if name != namespace["primary"]]
    return (namespace["primary"], *rest)


# ---------------------------------------------------------------- tox.ini

def short(distribution: str) -> str:
    """`tt-layers` -> `layers`: the tox factor (env names split into factors at '-')."""
    return distribution.removeprefix("tt-")


def tox_values(course: Course) -> dict[str, list[str]]:
    """The lines (without indent) of tox.ini's env_list, labels and set_env values."""
    parts = sorted(set(module.part for module in course.modules.values()))
    env_list = [", ".join(name for name, module in course.modules.items()
                          if module.part == part) + "," for part in parts]
    env_list.append(", ".join(OTHER_ENVS))
    labels = []
    for extra, last in course.extras.items():
        if extra != "all":
            names = [short(n) for n, m in course.modules.items() if m.part <= last]
            labels.append(f"{extra} = tt-{{{','.join(names)}}}")
    every = ",".join(short(name) for name in course.modules)
    for python in PYTHONS:
        factor = "py" + python.replace(".", "")
        others = ", ".join(f"{factor}-{env}" for env in OTHER_ENVS)
        labels.append(f"{factor} = {factor}-tt-{{{every}}}, {others}")
    set_env = [f"{short(name)}: TT_PACKAGE = {name}" for name in course.modules]
    set_env += [f"{env}: TT_PACKAGE = {package}" for env, package in OTHER_ENVS.items()]
    set_env.append("# pyenv shims answer `python3.10` only for an active version: "
                   "make the factor's one active.")
    set_env += [f"py{python.replace('.', '')}: PYENV_VERSION = {python}" for python in PYTHONS]
    return {"env_list": env_list, "labels": labels, "set_env": set_env}


def synced_tox(text: str, course: Course) -> str:
    """tox.ini's text with its generated values replaced; ValueError if a key is not there once.
    """
    for key, lines in tox_values(course).items():
        pattern = re.compile(rf"^{key} =\n(?:    .*\n)+", re.MULTILINE)
        found = pattern.findall(text)
        if len(found) != 1:
            raise ValueError(f"tox.ini has {len(found)} `{key} =` blocks, expected one")
        block = f"{key} =\n" + "".join(f"    {line}\n" for line in lines)
        text = pattern.sub(lambda _: block, text)
    return text


# ---------------------------------------------------------------- the root README

def depends_text(name: str, module: Module, course: Course) -> str:
    """The README's 'depends on' cell: short names, `01–10` for every earlier module."""
    earlier = [n for n, m in course.modules.items() if m.number < module.number]
    if not module.deps:
        text = "—"
    elif len(earlier) > 2 and list(module.deps) == earlier:
        text = f"01–{module.number - 1:02d}"
    else:
        text = ", ".join(short(dep) for dep in module.deps)
    if module.extra:
        text += "; extra: " + ", ".join(short(to) for to, _ in module.extra)
    return text


def readme_table(course: Course) -> str:
    """The module table of the root README, with its extra edges and their reasons."""
    rows = ["| # | distribution | import | part | provides | depends on |",
            "|---|---|---|---|---|---|"]
    for name, module in course.modules.items():
        rows.append(f"| {module.number:02d} | {name} | `{module.import_name}` | "
                    f"{ROMAN[module.part]} | {module.provides} | "
                    f"{depends_text(name, module, course)} |")
    rows += ["", "Extra edges (each to an earlier module, with its reason):", ""]
    rows += [f"- {name} → {to}: {reason}" for name, module in course.modules.items()
             for to, reason in module.extra]
    return "\n".join(rows)


def parts_table(course: Course) -> str:
    """ARCHITECTURE.md's overview: each part's modules, its exit point and its capstone."""
    rows = ["| part | modules | exit point | capstone |", "|---|---|---|---|"]
    for part in sorted(course.parts):
        members = [(name, m) for name, m in course.modules.items() if m.part == part]
        first, last = members[0][1].number, members[-1][1].number
        names = ", ".join(short(name) for name, _ in members)
        extra = course.parts[part]["extra"]
        exit_point = f"`tinytorch[{extra}]`" + (" (= `[all]`)" if part == max(course.parts)
                                                 else "")
        rows.append(f"| {ROMAN[part]}, {extra} | {first:02d}–{last:02d}: {names} | "
                    f"{exit_point} | {course.parts[part]['capstone']} |")
    return "\n".join(rows)


def extra_edges_table(course: Course) -> str:
    """ARCHITECTURE.md's table of the extra edges and their reasons."""
    rows = ["| module | extra edge | reason |", "|---|---|---|"]
    for name, module in course.modules.items():
        for to, reason in module.extra:
            target = course.modules[to].number if to in course.modules else "??"
            rows.append(f"| {module.number:02d} {name} | {target:>02} {to} | {reason} |")
    return "\n".join(rows)


def namespace_table(course: Course) -> str:
    """tinytorch's README: where each namespace looks its names up, in order."""
    rows = ["| name | comes from the `__all__` of |", "|---|---|"]
    for name, members in course.namespaces.items():
        shown = "tinytorch.<name>" if name == "tinytorch" else name
        imports = ", ".join(course.modules[m].import_name if m in course.modules else m
                            for m in members)
        rows.append(f"| `{shown}` | {imports} |")
    return "\n".join(rows)


# file -> [(block name, what writes its text)]: the generated blocks of the Markdown files
BLOCKS = {
    "README.md": [("module table", readme_table)],
    "ARCHITECTURE.md": [("parts table", parts_table), ("extra edges table", extra_edges_table)],
    "packages/tinytorch/README.md": [("namespace table", namespace_table)],
}


def markers(block: str) -> tuple[str, str]:
    return (f"<!-- {block}: written by `python tools/graph.py sync` -->",
            f"<!-- end of the {block} -->")


def synced_markdown(file: str, text: str, course: Course) -> str:
    """The file's text with each generated block rewritten; ValueError when markers are missing.
    """
    for block, render in BLOCKS[file]:
        start_marker, end_marker = markers(block)
        start, end = text.find(start_marker), text.find(end_marker)
        if start < 0 or end < start:
            raise ValueError(f"{file} has no {block} markers ({start_marker} ... {end_marker})")
        head = text[:start + len(start_marker)]
        text = f"{head}\n{render(course)}\n{text[end:]}"
    return text


# ---------------------------------------------------------------- checking and writing

def generated_files(root: Path, course: Course) -> dict[Path, str]:
    """{file: the text it must have} for tox.ini and the Markdown files with generated blocks
    (README.md, ARCHITECTURE.md); ValueError when one cannot be synced."""
    tox = root / "tox.ini"
    wanted = {tox: synced_tox(tox.read_text(encoding="utf-8"), course)}
    for name in BLOCKS:
        text = (root / name).read_text(encoding="utf-8")
        wanted[root / name] = synced_markdown(name, text, course)
    return wanted


def check_generated(root: Path, course: Course) -> list[str]:
    """tox.ini's lists and the Markdown tables say what the course table says."""
    try:
        wanted = generated_files(root, course)
    except (OSError, ValueError) as error:
        return [str(error)]
    return [f"{path.relative_to(root)} differs from the course table: "
            "run python tools/graph.py sync"
            for path, text in wanted.items() if path.read_text(encoding="utf-8") != text]


def heading(name: str, module: Module) -> str:
    """The first line of a module's README: `# tt-layers (module 04, Part I)`."""
    return f"# {name} (module {module.number:02d}, Part {ROMAN[module.part]})"


def check_headings(root: Path, course: Course) -> list[str]:
    """Each module's README opens with its number and part as the course table has them."""
    problems = []
    for name, module in course.modules.items():
        readme = root / "packages" / name / "README.md"
        if readme.is_file():
            first = readme.read_text(encoding="utf-8").partition("\n")[0]
            if first != heading(name, module):
                problems.append(f"packages/{name}/README.md opens with {first!r}; the course "
                                f"table says {heading(name, module)!r}")
    return problems


def write_generated(root: Path, course: Course) -> list[Path]:
    """Rewrite tox.ini's generated values and the Markdown tables where they drifted."""
    written = []
    for path, text in generated_files(root, course).items():
        if path.read_text(encoding="utf-8") != text:
            write_atomic(path, text)
            written.append(path)
    return written


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary name beside `path`, then rename: never a half-written file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
