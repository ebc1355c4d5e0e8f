"""Cross-package jobs. Per-package isolation lives in tox.ini; these sessions see the whole repo.

    nox -s build            wheels of all 18 distributions into dist/
    nox -s smoke            per exit point: a fresh venv installs tinytorch[<extra>] offline
    nox -s build smoke      both, in that order
    nox -s check            python tools/graph.py check
    nox -s tests            one dev venv (everything editable), every test directory
"""

from __future__ import annotations

import sys
from pathlib import Path

import nox
from nox.command import CommandFailed

ROOT = Path(__file__).resolve().parent
DIST = ROOT / "dist"
WHEELHOUSE = ROOT / "wheelhouse"  # numpy and tqdm wheels for the offline installs
THIRD_PARTY = ["numpy>=1.24", "tqdm>=4.60"]
EXTRAS = ["foundations", "vision", "language"]

sys.path.insert(0, str(ROOT / "tools"))
import graph  # noqa: E402  (tools/graph.py: the course graph and the package reader)

nox.options.sessions = ["check", "tests"]
nox.options.reuse_venv = "no"


def package_dirs() -> list[Path]:
    """The 18 distributions' folders, dependencies first (the meta-package last)."""
    packages = graph.load_packages(ROOT)
    order, _ = graph.topological_order(graph.declared_graph(packages))
    return [packages[name].path for name in order]


def wheel_name(distribution: str) -> str:
    return distribution.replace("-", "_")


@nox.session
def build(session: nox.Session) -> None:
    """Build one wheel per distribution into dist/ (old wheels of ours are removed first)."""
    dirs = package_dirs()
    DIST.mkdir(exist_ok=True)
    for old in DIST.glob("*.whl"):
        if any(old.name.startswith(f"{wheel_name(d.name)}-") for d in dirs):
            old.unlink()
    session.install("hatchling>=1.18")  # one build backend for all 18, not one venv each
    session.run("python", "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                "--wheel-dir", str(DIST), *[str(d) for d in dirs])
    built = sorted(path.name for path in DIST.glob("*.whl"))
    missing = [d.name for d in dirs
               if not any(name.startswith(f"{wheel_name(d.name)}-") for name in built)]
    if missing:
        session.error(f"no wheel built for {', '.join(missing)}")
    session.log(f"{len(dirs)} wheels in {DIST}:\n  " + "\n  ".join(built))


@nox.session
@nox.parametrize("extra", EXTRAS)
def smoke(session: nox.Session, extra: str) -> None:
    """A fresh venv installs tinytorch[extra] from dist/ + wheelhouse/ only, with no index."""
    if not list(DIST.glob("tinytorch-*.whl")):
        session.error("dist/ has no tinytorch wheel: run `nox -s build smoke`")
    session.run("python", "-m", "pip", "download", "--quiet", "--only-binary=:all:",
                "--dest", str(WHEELHOUSE), *THIRD_PARTY)
    session.install("--no-index", "--find-links", str(DIST), "--find-links", str(WHEELHOUSE),
                    f"tinytorch[{extra}]")
    session.run("python", str(ROOT / "tools" / "smoke_check.py"), extra)
    session.run("tinytorch", "--version")
    session.run("tinytorch", "doctor")
    # --- capstone hook: XORNet (issue 3) runs here, on the wheels just installed. ---
    # A capstone is a program, not a module: its own third-party needs (tqdm) come from the
    # wheelhouse too, after the check above has seen exactly the extra's modules.
    xornet = ROOT / "capstones" / "xornet" / "xornet.py"
    if xornet.is_file():
        session.install("--no-index", "--find-links", str(WHEELHOUSE), *THIRD_PARTY)
        session.run("python", str(xornet))


@nox.session(venv_backend="none")
def check(session: nox.Session) -> None:
    """The declared graph, pins, extras, imports and tox requirement files agree."""
    session.run(sys.executable, str(ROOT / "tools" / "graph.py"), "check")


@nox.session
def tests(session: nox.Session) -> None:
    """Every package's tests, then tools/ and capstones/, in one venv with all 18 editable.

    One pytest process per folder: each package's tests/ is its own root, as in tox.
    """
    session.install("pytest", "hatchling>=1.18", "editables>=0.3")  # build backend, installed once
    session.install("--no-build-isolation", "-r", str(ROOT / "tools/requirements/tinytorch.txt"))
    runs = [[f"packages/{d.name}/tests"] for d in package_dirs()] + [["tools/tests"]]
    if (ROOT / "capstones").is_dir():  # importlib mode: capstones may share test file names
        runs.append(["--import-mode=importlib", "capstones"])
    failed = []
    for args in runs:
        try:
            session.run("python", str(ROOT / "tools" / "pytest_allow_empty.py"), "-q", *args,
                        *session.posargs)
        except CommandFailed:  # go on: one report of every failing folder at the end
            failed.append(args[-1])
    if failed:
        session.error(f"tests failed in: {', '.join(failed)}")


# Later issues add sessions here: `swap` (the learner's loop, issue 8), `capstones`, `bench`.
