"""Run by `nox -s smoke` inside the fresh venv: `python tools/smoke_check.py <extra>`.

Checks that tinytorch[<extra>] installed exactly the extra's modules, all from our wheels, that
the installed tinytorch is ours, that the next part's namespace names its extra, and that the
wheel carries the course notebooks as built (notebooks/NN_<name>.ipynb, byte for byte), which
`tinytorch new` writes beside a scaffold (tried on the extra's last module).
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import graph  # tools/graph.py, next to this file

ROOT = Path(__file__).resolve().parent.parent
NEXT_PART = {  # extra -> (a name from the next exit point, the extra its error must name)
    "foundations": ("tinytorch.optim", "vision"),
    "vision": ("tinytorch.nn.Embedding", "language"),
}


def installed(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def check_modules(extra: str, versions: dict[str, str]) -> list[str]:
    """Exactly the extra's modules are installed (at our versions) and import."""
    expected = set(graph.exit_point(extra))
    problems = []
    for name in graph.COURSE:
        import_name, version = name.replace("-", "_"), installed(name)
        if name not in expected:
            if version is not None or importlib.util.find_spec(import_name) is not None:
                problems.append(f"{name} is installed but [{extra}] does not include it")
        elif version != versions[name]:
            problems.append(f"{name} is {version}, expected {versions[name]} from dist/")
        else:
            importlib.import_module(import_name)
    return problems


def check_tinytorch(versions: dict[str, str]) -> list[str]:
    """The importable tinytorch is the installed wheel of our version (>= 0.2.0)."""
    import tinytorch

    dist = metadata.distribution("tinytorch")
    problems = []
    if dist.version != versions["tinytorch"] or graph.release(dist.version) < (0, 2, 0):
        problems.append(f"tinytorch {dist.version} is installed, not ours "
                        f"({versions['tinytorch']})")
    module_file = Path(tinytorch.__file__).resolve()
    if module_file != Path(dist.locate_file("tinytorch/__init__.py")).resolve():
        problems.append(f"tinytorch imports from {module_file}, not from its distribution")
    if ROOT / "packages" in module_file.parents:
        problems.append(f"tinytorch imports from the source ({module_file}), not a wheel")
    return problems


def check_next_part(extra: str) -> list[str]:
    """Using the next part fails with an ImportError that names the next extra."""
    if extra not in NEXT_PART:
        return [f"{name} does not import" for name in ("nn", "optim", "data", "autograd")
                if importlib.util.find_spec(f"tinytorch.{name}") is None]
    dotted, next_extra = NEXT_PART[extra]
    import tinytorch

    try:
        value = tinytorch
        for part in dotted.split(".")[1:]:
            value = getattr(value, part)
    except ImportError as error:
        if f"tinytorch[{next_extra}]" in str(error):
            return []
        return [f"{dotted}: the ImportError does not name [{next_extra}]: {error}"]
    return [f"{dotted} resolved with only [{extra}] installed"]


def check_notebooks(extra: str) -> list[str]:
    """The wheel's tinytorch/_notebooks/ holds every notebook of the checkout, byte for byte,
    and `tinytorch new` writes the module's notebook into the scaffold."""
    dist = metadata.distribution("tinytorch")
    shipped = Path(dist.locate_file("tinytorch/_notebooks"))
    problems = []
    sources = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for source in sources:
        copy = shipped / source.name
        if not copy.is_file():
            problems.append(f"the wheel has no tinytorch/_notebooks/{source.name}")
        elif copy.read_bytes() != source.read_bytes():
            problems.append(f"the wheel's {source.name} differs from notebooks/{source.name}")
    last = graph.exit_point(extra)[-1]
    number = list(graph.COURSE).index(last) + 1
    name = f"{number:02d}_{last.removeprefix('tt-')}.ipynb"
    with tempfile.TemporaryDirectory(prefix="tinytorch-smoke-") as scratch:
        dest = Path(scratch) / "mine"
        done = subprocess.run([sys.executable, "-m", "tinytorch", "new", last, str(dest)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            problems.append(f"tinytorch new {last} failed: {done.stderr.strip()}")
        elif not (dest / name).is_file() \
                or (dest / name).read_bytes() != (ROOT / "notebooks" / name).read_bytes():
            problems.append(f"tinytorch new {last} wrote a {name} unlike notebooks/{name}")
    return problems or ([] if sources else ["notebooks/ holds no NN_<name>.ipynb"])


def main(extra: str) -> int:
    packages = graph.load_packages(ROOT)
    versions = {name: package.version for name, package in packages.items()}
    problems = (check_modules(extra, versions) + check_tinytorch(versions)
                + check_next_part(extra) + check_notebooks(extra))
    for problem in problems:
        print(f"smoke [{extra}]: {problem}")
    modules = ", ".join(graph.exit_point(extra))
    print(f"smoke [{extra}]: {'FAILED' if problems else 'ok'}: installed exactly {modules}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
