"""Cross-package jobs. Per-package isolation lives in tox.ini; these sessions see the whole repo.

    nox -s build            wheels and sdists of all 18 into dist/ (reproducible, twine check)
    nox -s smoke            per exit point: a fresh venv installs tinytorch[<extra>] offline,
                            then `tinytorch run`s its capstone (xornet; cifar10 --quick on
                            generated CIFAR-format data; tinygpt --quick and its sampling)
    nox -s build smoke      both, in that order
    nox -s oldest           each module's tests with the oldest siblings its ranges allow
    nox -s check            python tools/graph.py check, python tools/release.py check
    nox -s tests            one dev venv (everything editable), every test directory
    nox -s swap             the learner's loop for every module (long; not part of CI):
                            scaffold, stubs fail, fill from the reference, whole stack passes
    nox -s swap -- tt-layers tt-autograd      the same for the modules named
    nox -s learners         each hand-written learner package in learners/ swapped in:
                            its contract tests, doctor says own, capstones pass, restore
    nox -s notebooks        every notebook executed headless on the reference stack, then the
                            activations notebook on learners/activations (own)
    nox -s bench            the benchmark table (bench/run.py): MLP, CNN, GPT step, generation
    nox -s bench -- --torch mlp cnn     the same with PyTorch 2.13.0 rows (a local CPU build)
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nox
from nox.command import CommandFailed

ROOT = Path(__file__).resolve().parent
DIST = ROOT / "dist"
WHEELHOUSE = ROOT / "wheelhouse"  # numpy, tqdm and pytest wheels for the offline installs
# pytest: a dependency of tinytorch itself (`tinytorch test` runs the contract tests)
THIRD_PARTY = ["numpy>=1.24", "tqdm>=4.60", "pytest>=7"]
EXTRAS = ["foundations", "vision", "language"]
# tinytorch[language] brings tt-systems[metrics]: the wheelhouse holds prometheus-client too
METRICS = ["prometheus-client>=0.17"]

sys.path.insert(0, str(ROOT / "tools"))
import graph  # noqa: E402  (tools/graph.py: the course graph and the package reader)
import release  # noqa: E402  (tools/release.py: releases.json, old releases from git)

nox.options.sessions = ["check", "tests"]
nox.options.reuse_venv = "no"


def package_dirs() -> list[Path]:
    """The 18 distributions' folders, dependencies first (the meta-package last)."""
    packages = graph.load_packages(ROOT)
    order, _ = graph.topological_order(graph.declared_graph(packages))
    return [packages[name].path for name in order]


def wheel_name(distribution: str) -> str:
    return distribution.replace("-", "_")


def artifact_prefixes(dirs: list[Path]) -> tuple[str, ...]:
    """File-name prefixes of our wheels and sdists in dist/ (`tt_attention-`, ...)."""
    return tuple(f"{wheel_name(d.name)}-" for d in dirs)


def source_date_epoch(package_dir: Path) -> str | None:
    """The date of the last commit that touched the package (None outside a git checkout):
    the timestamp hatchling writes into every archive member, so a rebuild is byte-identical."""
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%ct", "--", str(package_dir)],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return out or None


def build_package(session: nox.Session, package_dir: Path, out: Path) -> list[Path]:
    """sdist and wheel of one distribution into `out` (hatchling, no isolation, no index)."""
    epoch = source_date_epoch(package_dir)
    env = {"SOURCE_DATE_EPOCH": epoch} if epoch else {}
    before = set(out.glob("*"))
    with session.chdir(package_dir):
        session.run("python", "-m", "hatchling", "build", "-t", "sdist", "-t", "wheel",
                    "-d", str(out), env=env, silent=True)
    return sorted(set(out.glob("*")) - before)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@nox.session
def build(session: nox.Session) -> None:
    """Wheel and sdist of every distribution into dist/ (ours removed first), each built twice
    to prove the bytes reproducible, then their metadata checked by `twine check --strict`.
    dist/SHA256SUMS lists the 36 artifacts."""
    dirs = package_dirs()
    DIST.mkdir(exist_ok=True)
    for old in DIST.iterdir():
        if old.name.startswith(artifact_prefixes(dirs)) or old.name == "SHA256SUMS":
            old.unlink()
    session.install("hatchling>=1.18", "twine>=5")  # one build backend for all 18
    again = Path(session.create_tmp()).resolve() / "build-again"
    shutil.rmtree(again, ignore_errors=True)
    again.mkdir()
    built, differ = [], []
    for package_dir in dirs:
        artifacts = build_package(session, package_dir, DIST)
        kinds = sorted(a.name.endswith(".whl") for a in artifacts)
        if kinds != [False, True]:
            session.error(f"{package_dir.name}: expected one sdist and one wheel, got "
                          f"{[a.name for a in artifacts]}")
        second = {a.name: a for a in build_package(session, package_dir, again)}
        differ += [a.name for a in artifacts
                   if a.name not in second or sha256(second[a.name]) != sha256(a)]
        built += artifacts
    if differ:
        session.error(f"not reproducible (a second build differs): {', '.join(differ)}")
    session.run("twine", "check", "--strict", *[str(a) for a in built])
    sums = "".join(f"{sha256(a)}  {a.name}\n" for a in sorted(built))
    (DIST / "SHA256SUMS").write_text(sums, encoding="utf-8")
    session.log(f"{len(built)} artifacts in {DIST}, identical on a second build:\n{sums}")


@nox.session
@nox.parametrize("extra", EXTRAS)
def smoke(session: nox.Session, extra: str) -> None:
    """A fresh venv installs tinytorch[extra] from dist/ + wheelhouse/ only, with no index."""
    if not list(DIST.glob("tinytorch-*.whl")):
        session.error("dist/ has no tinytorch wheel: run `nox -s build smoke`")
    session.run("python", "-m", "pip", "download", "--quiet", "--only-binary=:all:",
                "--dest", str(WHEELHOUSE), *THIRD_PARTY, *METRICS)
    session.install("--no-index", "--find-links", str(DIST), "--find-links", str(WHEELHOUSE),
                    f"tinytorch[{extra}]")
    session.run("python", str(ROOT / "tools" / "smoke_check.py"), extra)
    session.run("tinytorch", "--version")
    session.run("tinytorch", "doctor")
    # The extra's capstone, from the wheels only (`tinytorch run` finds the programs shipped
    # in the tinytorch wheel), in an empty folder so nothing of the checkout is on the path.
    # A capstone is a program, not a module: its own third-party needs (tqdm) come from the
    # wheelhouse too, after the check above has seen exactly the extra's modules.
    session.install("--no-index", "--find-links", str(WHEELHOUSE), *THIRD_PARTY)
    runs = Path(session.create_tmp()) / "capstones"
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir()
    session.chdir(runs)
    if extra == "vision":
        session.run("python", str(ROOT / "tools" / "fake_cifar.py"), "fake-cifar")
    for args in CAPSTONE_SMOKE[extra]:
        session.run("tinytorch", "run", *args)


# Per extra: the `tinytorch run` commands of the smoke session, run in an empty folder.
# CIFAR-10 trains on a tiny generated data set in the real format (tools/fake_cifar.py: 40
# random images per batch file), not on the real one: the smoke run checks the wiring.
CAPSTONE_SMOKE = {
    "foundations": [["xornet", "--out", "xornet"]],
    "vision": [["cifar10", "--quick", "--data", "fake-cifar", "--out", "cifar10",
                "--no-progress"]],
    "language": [["tinygpt", "--quick", "--out", "tinygpt", "--no-progress"],
                 ["tinygpt-sample", "--run", "tinygpt", "--max-new-tokens", "40"]],
}


# ---------------------------------------------------------------- oldest allowed siblings

def wheel_of(session: nox.Session, name: str, version: str, out: Path) -> Path:
    """The wheel of `name` `version` in `out`: built from the tree when that is the current
    version, else from the commit holding that release's sources (releases.json's hash)."""
    found = list(out.glob(f"{wheel_name(name)}-{version}-*.whl"))
    if found:
        return found[0]
    package = graph.load_packages(ROOT)[name]
    source = package.path
    if version != package.version:
        source = release.export_release(ROOT, name, version, out.parent / "sources")
        session.log(f"{name} {version}: rebuilt from the history ({source.parent.parent.name})")
    for artifact in build_package(session, source, out):
        if artifact.suffix != ".whl":
            artifact.unlink()
    return next(out.glob(f"{wheel_name(name)}-{version}-*.whl"))


def installed_siblings(session: nox.Session) -> dict[str, str]:
    """Our module distributions installed in the session's venv: {name: version}."""
    listed = session.run("python", "-m", "pip", "list", "--format=json", silent=True)
    rows = json.loads(listed[listed.index("["):])
    return {graph.normalise(row["name"]): row["version"] for row in rows
            if graph.normalise(row["name"]) in graph.COURSE}


def oldest_one(session: nox.Session, name: str, wheels: Path) -> dict[str, str]:
    """Install `name` (current) with the oldest siblings its ranges allow; run its tests."""
    packages = graph.load_packages(ROOT)
    floors = release.oldest_allowed(release.load_manifest(ROOT), packages[name])
    wanted = {name: packages[name].version, **floors}
    closure = graph.test_closure(packages, name) - {name}
    for other in closure - set(floors):  # indirect siblings: let pip pick among current ones
        wheel_of(session, other, packages[other].version, wheels)
    for other, version in wanted.items():
        wheel_of(session, other, version, wheels)
    ours = list(installed_siblings(session))
    if ours:
        session.run("python", "-m", "pip", "uninstall", "--yes", "--quiet", *ours)
    # third-party extras its tests exercise (tt-systems[metrics]) come from the index first
    extras = [req.text for reqs in packages[name].extras.values() for req in reqs
              if req.name not in graph.COURSE]
    if extras:
        session.install(*extras)
    pins = [f"{other}=={version}" for other, version in wanted.items()]
    session.install("--no-index", "--find-links", str(wheels), *pins)
    have = installed_siblings(session)
    wrong = [f"{other} {have.get(other)} (not {version})" for other, version in wanted.items()
             if have.get(other) != version]
    if wrong:
        session.error(f"{name}: pip installed {', '.join(wrong)}")
    session.run("python", str(ROOT / "tools" / "pytest_allow_empty.py"), "-q", "-p",
                "no:cacheprovider", f"packages/{name}/tests")
    return floors


@nox.session
def oldest(session: nox.Session) -> None:
    """Each module (or those named after --), installed from its wheel with the OLDEST version
    of each sibling that its declared ranges (and its test extra's) allow, runs its contract
    tests: a range that claims more than the package works with fails here. Old versions are
    rebuilt from the git commit that holds their recorded sources (tools/release.py)."""
    session.install("hatchling>=1.18", *THIRD_PARTY)
    wheels = Path(session.create_tmp()).resolve() / "oldest" / "wheels"
    shutil.rmtree(wheels.parent, ignore_errors=True)
    wheels.mkdir(parents=True)
    names = session.posargs or [d.name for d in package_dirs() if d.name != graph.META]
    failed, table = [], []
    for name in names:
        try:
            floors = oldest_one(session, name, wheels)
            table.append(f"  {name:<18} " + (", ".join(f"{d} {v}" for d, v in floors.items())
                                              or "(no siblings)"))
        except CommandFailed:
            failed.append(name)
    session.log("oldest siblings allowed, tests passed:\n" + "\n".join(table))
    if failed:
        session.error(f"tests fail with the oldest allowed siblings: {', '.join(failed)}")


@nox.session(venv_backend="none")
def check(session: nox.Session) -> None:
    """The declared graph, pins, extras, imports and tox requirement files agree, and every
    distribution's sources match the hash recorded for its version (tools/release.py)."""
    session.run(sys.executable, str(ROOT / "tools" / "graph.py"), "check")
    session.run(sys.executable, str(ROOT / "tools" / "release.py"), "check")


def install_dev(session: nox.Session) -> None:
    """pytest, the build backend (installed once, no build isolation) and all 18 editable,
    plus prometheus-client, the extra tt-systems' server tests exercise (tt-systems[metrics]),
    and matplotlib, which the capstones' picture tests need (tinytorch[plots])."""
    session.install("pytest", "hatchling>=1.18", "editables>=0.3", "prometheus-client>=0.17",
                    "matplotlib>=3.5")
    session.install("--no-build-isolation", "-r", str(ROOT / "tools/requirements/tinytorch.txt"))


@nox.session
def tests(session: nox.Session) -> None:
    """Every package's tests, then tools/ and capstones/, in one venv with all 18 editable.

    One pytest process per folder: each package's tests/ is its own root, as in tox.
    """
    install_dev(session)
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


# ---------------------------------------------------------------- the learner's loop (issue 8)

class Failed(Exception):
    """A check of the learner's loop failed (the message says which); sessions report it."""


def install_editable(session: nox.Session, folder: Path | str) -> None:
    session.install("--no-build-isolation", "--no-deps", "-e", str(folder))


def dependants(name: str) -> list[str]:
    """Every package whose code or contract tests use `name`, directly or not (course order)."""
    packages = graph.load_packages(ROOT)
    order, _ = graph.topological_order(graph.declared_graph(packages))
    return [other for other in order if other not in (name, graph.META)
            and name in graph.test_closure(packages, other)]


def run_tests(session: nox.Session, *folders: str) -> None:
    session.run("python", str(ROOT / "tools" / "pytest_allow_empty.py"), "-q", "-p",
                "no:cacheprovider", "--import-mode=importlib", *folders)


def doctor_row(session: nox.Session, distribution: str) -> dict:
    """The `tinytorch doctor --json` record of one module: version, kind (reference/own),
    pip (ok/conflict), location, ..."""
    # stderr=None: warnings go to the terminal, only the JSON report is returned
    text = session.run("tinytorch", "doctor", "--json", silent=True, success_codes=[0, 1],
                       stderr=None)
    try:
        modules = json.loads(text)["modules"]
    except (TypeError, ValueError, KeyError) as error:
        raise Failed(f"tinytorch doctor --json printed no report ({error}):\n{text}") from None
    for row in modules:
        if row["distribution"] == distribution:
            return row
    raise Failed(f"tinytorch doctor --json has no record of {distribution}")


def check_stubs_fail(session: nox.Session, name: str) -> None:
    """`tinytorch test` on the fresh scaffold: failures with the stub messages, every task
    counted as a stub, no crash."""
    text = session.run("tinytorch", "test", name, silent=True, success_codes=[1])
    summary = text[text.find("summary of"):]
    # "  tasks: 7, stub 7, failing 0, ...": every task of a fresh scaffold is a stub
    counts = next((line.split(",")[:2] for line in summary.splitlines()
                   if line.strip().startswith("tasks: ")), ["tasks: 0", "stub -1"])
    total, stubs = (part.replace(":", " ").split()[-1] for part in counts)
    if f"): {name}: implement " not in summary or total != stubs:
        raise Failed(f"{name}: the stubbed tests did not report every task as a stub:\n{text}")
    if "died (exit code" in text:
        raise Failed(f"{name}: the test process died on the stubs:\n{text}")
    session.log(summary)


def swap_one(session: nox.Session, name: str, scratch: Path) -> None:
    """Scaffold, see it fail, fill it back, install it, run it and everything above it."""
    dest = scratch / name
    shutil.rmtree(dest, ignore_errors=True)
    session.run("tinytorch", "new", name, str(dest), silent=True)
    install_editable(session, dest)
    if doctor_row(session, name)["kind"] != "own":
        raise Failed(f"{name}: doctor does not show the scaffold as own")
    check_stubs_fail(session, name)
    session.run("python", str(ROOT / "tools" / "fill_check.py"), name, str(dest))
    install_editable(session, dest)
    session.run("tinytorch", "test", name)
    above = dependants(name)
    session.log(f"{name}: tests of the {len(above)} package(s) that use it: {', '.join(above)}")
    failing = []
    for other in above:  # all of them, then XORNet, before reporting what failed
        try:
            run_tests(session, f"packages/{other}/tests")
        except CommandFailed:
            failing.append(other)
    session.run("python", str(ROOT / "capstones/xornet/xornet.py"), "--steps", "200",
                "--out", str(scratch / "xornet-results"))
    if failing:
        raise CommandFailed(f"on the filled {name}, the tests of {', '.join(failing)} fail")


@nox.session
def swap(session: nox.Session) -> None:
    """For every module (or those named after --): `tinytorch new` it, check its contract
    tests fail with the stub messages, fill the stubs from the reference (the markers round
    trip), install that editable, run its contract tests, the tests of every package that
    depends on it and XORNet; then reinstall the reference. Prints the time of each."""
    install_dev(session)
    names = session.posargs or [d.name for d in package_dirs() if d.name != graph.META]
    scratch = Path(session.create_tmp()) / "swap"
    times, failed = {}, []
    for name in names:
        start = time.perf_counter()
        try:
            swap_one(session, name, scratch)
        except (CommandFailed, Failed) as error:
            failed.append(f"{name} ({error})")
        finally:
            install_editable(session, ROOT / "packages" / name)
            times[name] = time.perf_counter() - start
        if reported(session, doctor_row, name)["kind"] != "reference":
            session.error(f"{name}: the reference was not restored")
    table = "\n".join(f"  {name:<18} {seconds:6.1f} s" for name, seconds in times.items())
    session.log(f"swap times:\n{table}\n  total              {sum(times.values()):6.1f} s")
    if failed:
        session.error(f"swap failed for: {'; '.join(failed)}")


LEARNERS = ROOT / "learners"
# capstones/tests (the programs' arguments, pictures, threads) and each capstone's own tests
CAPSTONE_TESTS = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("capstones/**/tests")
                        if p.is_dir())


def learner_packages() -> list:
    """The learner packages in learners/ (graph.Package: name, path, version, ...)."""
    return [graph.load_package(p.parent) for p in sorted(LEARNERS.glob("*/pyproject.toml"))]


def reported(session: nox.Session, check, *args):
    """`check(session, *args)`, with a Failed check reported as the session's error."""
    try:
        return check(session, *args)
    except Failed as error:
        session.error(str(error))


def check_own(session: nox.Session, package) -> None:
    row = reported(session, doctor_row, package.name)
    if row["kind"] != "own" or Path(row["location"]) != package.path or row["pip"] != "ok":
        session.error(f"doctor shows {package.name} as {row}, not own at {package.path}")
    session.log(f"doctor: {package.name} {row['version']} {row['kind']} at {row['location']}")


@nox.session
def learners(session: nox.Session) -> None:
    """Each learner package of learners/ in place of the reference: its contract tests pass,
    doctor says own, the capstones' tests pass; uninstalled and the reference reinstalled,
    doctor says reference. Then all of them at once under the capstones."""
    install_dev(session)
    packages = learner_packages()
    for package in packages:
        install_editable(session, package.path)
        check_own(session, package)
        session.run("tinytorch", "test", package.name)
        run_tests(session, *CAPSTONE_TESTS)
        session.run("python", "-m", "pip", "uninstall", "--yes", package.name)
        install_editable(session, ROOT / "packages" / package.name)
        if reported(session, doctor_row, package.name)["kind"] != "reference":
            session.error(f"{package.name}: the reference was not restored")
    for package in packages:  # the whole stack on all the learners' code at once
        install_editable(session, package.path)
    for package in packages:
        check_own(session, package)
        session.run("tinytorch", "test", package.name)
    run_tests(session, *CAPSTONE_TESTS)
    # The milestones on the learners' stack must pass: the milestone tests train all three on
    # tiny generated data in the real formats (the full-budget run on real data is the
    # command in packages/tinytorch/README.md, "Milestones").
    run_tests(session, "packages/tinytorch/tests/test_milestone.py")
    for package in packages:
        install_editable(session, ROOT / "packages" / package.name)


@nox.session
def notebooks(session: nox.Session) -> None:
    """The course notebooks: each is its cells' build, and executes headless with a real
    python3 kernel (nbclient + ipykernel, offline) on the reference stack, every task cell
    passing; then the activations notebook on learners/activations, the reference restored.
    `-- 03 09` executes only those notebooks on the reference."""
    install_dev(session)
    session.install("-r", str(ROOT / "notebooks" / "requirements.txt"))
    runner = str(ROOT / "tools" / "notebooks.py")
    session.run("python", runner, "check")
    session.run("python", runner, "run", *session.posargs)
    own = graph.load_package(LEARNERS / "activations")
    install_editable(session, own.path)
    try:
        check_own(session, own)
        session.run("python", runner, "run", "03", "--expect", "own")
    finally:
        install_editable(session, ROOT / "packages" / own.name)
    if reported(session, doctor_row, own.name)["kind"] != "reference":
        session.error(f"{own.name}: the reference was not restored")


@nox.session
def bench(session: nox.Session) -> None:
    """Print the benchmark table and write bench/results.json (targets: see each benchmark).

    `-- --torch` first installs torch==2.13.0 into this session's venv for the comparison rows
    (that exact version is a local CPU build here; any other would download a CUDA build).
    torch is never a dependency of any package. Other arguments go to bench/run.py.
    """
    install_dev(session)
    args = list(session.posargs)
    if "--torch" in args:
        args.remove("--torch")
        session.install("torch==2.13.0")
    session.run("python", str(ROOT / "bench" / "run.py"), *args)

