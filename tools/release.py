"""Releases: the manifest of released versions, the content check and the one bump command.

    python tools/release.py check                      # sources match the hash of their version
    python tools/release.py bump tt-attention minor    # new version, changelog, ranges, pins, hash
    python tools/release.py bump tt-a minor tt-b patch # several at once (one meta-package bump)
    python tools/release.py rehash tt-attention        # re-record an unpublished version's hash
    python tools/release.py hash tt-attention          # print the content hash and its files

The manifest is releases.json at the repository root. The content hash, the changelog rules and
the versioning policy are described in CONTRIBUTING.md ("Versions and releases").
Standard library only, like tools/graph.py.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import graph  # noqa: E402  (tools/graph.py: the course graph and the pyproject reader)
from changelog import (  # noqa: E402  (tools/changelog.py)
    UNRELEASED, check_changelog, release_changelog, unreleased_notes, without_unreleased)

ROOT = graph.ROOT
MANIFEST = "releases.json"
LEVELS = ("major", "minor", "patch")
# What hatchling leaves out of an sdist here (the repository's .gitignore), and so do we.
SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".tox", ".nox", ".venv", ".git", "build", "dist",
                "wheelhouse", "runs", "results"}
SKIPPED_SUFFIXES = (".pyc", ".egg-info", ".npz.tmp")


# ---------------------------------------------------------------- content hash

def content_files(package_dir: Path) -> list[str]:
    """Relative posix paths of the files that go into the package's sdist (a wheel holds a
    subset): everything under the package folder except caches and build output."""
    found = []
    for folder, dirs, files in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS
                         and not d.endswith(SKIPPED_SUFFIXES))
        for name in files:
            if not name.endswith(SKIPPED_SUFFIXES):
                found.append((Path(folder) / name).relative_to(package_dir).as_posix())
    return sorted(found)


# The meta-package's sdist also ships the capstone programs as _capstones/<name>/ (its build
# hook, packages/tinytorch/hatch_build.py, for `tinytorch run`) and the course notebooks as
# _notebooks/ (for `tinytorch new`); they count in its hash.
# tools/tests/test_release.py checks this list against what the built sdist holds.
CAPSTONES = ("xornet", "cifar10", "tinygpt")


def capstone_files(package_dir: Path) -> dict[str, Path]:
    """{path in the meta-package's sdist: file} for the capstone programs it ships."""
    if package_dir.name != graph.META:
        return {}
    source = package_dir.parent.parent / "capstones"
    return {f"_capstones/{path.relative_to(source).as_posix()}": path
            for name in CAPSTONES
            for path in sorted([*(source / name).glob("*.py"), *(source / name).glob("README.md")])}


def notebook_files(package_dir: Path) -> dict[str, Path]:
    """{path in the meta-package's sdist: file} for the course notebooks it ships (as built,
    for `tinytorch new`)."""
    if package_dir.name != graph.META:
        return {}
    source = package_dir.parent.parent / "notebooks"
    return {f"_notebooks/{path.name}": path for path in sorted(source.glob("[0-9][0-9]_*.ipynb"))}


def shipped_files(package_dir: Path) -> dict[str, Path]:
    """{path in the sdist: file} of what a package's sdist holds from outside its folder: for
    the meta-package, the capstone programs and the course notebooks."""
    return {**capstone_files(package_dir), **notebook_files(package_dir)}


def content_hash(package_dir: Path) -> str:
    """sha256 of the lines `<sha256 of the file>  <relative path>` (sorted by path, as
    `sha256sum` prints them), CHANGELOG.md counted without its Unreleased notes; for the
    meta-package also the capstone programs and the notebooks its sdist ships."""
    lines = []
    files = {relative: package_dir / relative for relative in content_files(package_dir)}
    files.update(shipped_files(package_dir))
    for relative, path in sorted(files.items()):
        data = path.read_bytes()
        if relative == "CHANGELOG.md":
            data = without_unreleased(data.decode("utf-8")).encode("utf-8")
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {relative}\n")
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- the manifest

def load_manifest(root: Path) -> dict:
    path = root / MANIFEST
    if not path.is_file():
        return {"distributions": {}}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SystemExit(f"{MANIFEST}: not valid JSON ({error})") from None


ABOUT = ("Released versions of each TinyTorch distribution, written by tools/release.py. sha256: "
         "the content hash of the distribution's sources for that version (CONTRIBUTING.md, "
         "'Versions and releases'); date: the release date in its CHANGELOG.md.")


def save_manifest(root: Path, manifest: dict) -> None:
    """Write releases.json through a temporary file, so a failure leaves the old one intact."""
    path = root / MANIFEST
    manifest["about"] = ABOUT
    manifest["distributions"] = {name: dict(sorted(versions.items(), key=version_key))
                                 for name, versions in sorted(manifest["distributions"].items())}
    manifest = {"about": manifest.pop("about"), **manifest}
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def version_key(item: tuple[str, dict]) -> tuple[int, ...]:
    return graph.release(item[0])


def record(manifest: dict, package: graph.Package, date: str, keep_date: bool = False) -> str:
    """Record the package's current version with the hash of its current sources (`keep_date`:
    an entry that exists keeps its release date)."""
    digest = content_hash(package.path)
    versions = manifest["distributions"].setdefault(package.name, {})
    if keep_date and package.version in versions:
        date = versions[package.version]["date"]
    versions[package.version] = {"date": date, "sha256": digest}
    return digest


# ---------------------------------------------------------------- the check

def bump_hint(name: str) -> str:
    return (f"python tools/release.py bump {name} patch   "
            "(minor for a contract change; see CONTRIBUTING.md)")


def check(root: Path) -> list[str]:
    """Every distribution's sources match the hash recorded for its current version."""
    manifest = load_manifest(root)
    problems = []
    for name, package in sorted(graph.load_packages(root).items()):
        versions = manifest["distributions"].get(name, {})
        entry = versions.get(package.version)
        if entry is None:
            problems.append(f"{name} {package.version} is not in {MANIFEST}: set versions with "
                            f"`python tools/release.py bump {name} <major|minor|patch>`")
        elif content_hash(package.path) != entry["sha256"]:
            problems.append(f"{name}: the sources differ from {name} {package.version} as "
                            f"recorded in {MANIFEST}; bump it: {bump_hint(name)}")
        problems += check_changelog(package)
    return problems


# ---------------------------------------------------------------- versions and ranges

def next_version(version: str, level: str) -> str:
    major, minor, patch = (graph.release(version) + (0, 0, 0))[:3]
    if level == "major":
        return f"{major + 1}.0.0"
    if level == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def is_breaking(old: str, new: str) -> bool:
    """A new major, or a new minor while in 0.x: the contract may have changed."""
    before, after = graph.release(old)[:2], graph.release(new)[:2]
    return after[0] != before[0] or (after[0] == 0 and after[1] != before[1])


def compatible_range(version: str) -> str:
    """The range a dependant declares on `version`: its series (0.x: the minor; then the major).

    `~=0.3.0` is >=0.3.0,<0.4 and `~=1.2` is >=1.2,<2; never `~=0.3`, which would accept every
    later 0.x and so contracts that changed."""
    major, minor, patch = (graph.release(version) + (0, 0, 0))[:3]
    return f"~={major}.{minor}.{patch}" if major == 0 else f"~={major}.{minor}"


class Plan(NamedTuple):
    new: dict[str, str]  # distribution -> its new version
    why: dict[str, list[str]]  # distribution -> generated changelog lines (ranges, pins)


def plan_bumps(packages: dict[str, graph.Package], levels: dict[str, str]) -> Plan:
    """New versions: the requested ones, then a patch for every dependant whose range must move
    to a new series (repeated until nothing moves), then one bump of the meta-package."""
    levels = dict(levels)
    why: dict[str, list[str]] = {name: [] for name in packages}
    new: dict[str, str] = {}
    settled = False
    while not settled:
        settled = True
        for name, level in list(levels.items()):
            version = next_version(packages[name].version, level)
            if new.get(name) == version:
                continue
            new[name], settled = version, False
            if not is_breaking(packages[name].version, version):
                continue
            for other, package in packages.items():
                if other == graph.META or name not in uses(package):
                    continue
                why[other].append(f"Requires {name}{compatible_range(version)} "
                                  f"(was {uses(package)[name]}).")
                if other not in levels:
                    levels[other] = "patch"
    modules = sorted((n for n in new if n != graph.META), key=lambda n: graph.COURSE[n].number)
    if modules and graph.META in packages:
        why[graph.META].append("Pins " + ", ".join(f"{n} {new[n]}" for n in modules) + ".")
        meta_level = levels.get(graph.META, "patch")
        new[graph.META] = next_version(packages[graph.META].version, meta_level)
    return Plan(new, {name: lines for name, lines in why.items() if name in new})


def uses(package: graph.Package) -> dict[str, str]:
    """Sibling -> declared range, over the dependencies and every extra."""
    reqs = package.deps + [req for extra in package.extras.values() for req in extra]
    return {req.name: req.spec for req in reqs if req.name in graph.COURSE}


# ---------------------------------------------------------------- rewriting files

def rewrite_requirements(text: str, plan: Plan, old: dict[str, str]) -> str:
    """Exact pins follow every new version; ranges move when the new version is breaking."""
    def replace(match: re.Match) -> str:
        name, operator = graph.normalise(match.group(2)), match.group(4)
        extras = match.group(3) or ""
        if name not in plan.new:
            return match.group(0)
        if operator == "==":
            spec = f"=={plan.new[name]}"
        elif is_breaking(old[name], plan.new[name]):
            spec = compatible_range(plan.new[name])
        else:
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}{extras}{spec}{match.group(6)}"
    # a sibling may carry extras: "tt-systems[metrics]==0.1.0" (the meta-package's extras)
    return re.sub(r"""(["'])(tt[-_][a-z]+)(\[[^\]"']*\])?\s*(~=|==)\s*([0-9][0-9.]*)(["'])""",
                  replace, text)


def set_version(package: graph.Package, version: str) -> None:
    pyproject = graph.read_toml(package.path / "pyproject.toml")
    path = package.path / pyproject["tool"]["hatch"]["version"]["path"]
    text = re.sub(r"""(__version__\s*=\s*)["'][^"']+["']""", rf'\g<1>"{version}"',
                  path.read_text(encoding="utf-8"), count=1)
    write_text(path, text)


def write_text(path: Path, text: str) -> None:
    """Write through a temporary name, so that a failure leaves the old file intact."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


# ---------------------------------------------------------------- bump

def bump(root: Path, levels: dict[str, str], date: str) -> Plan:
    """Apply the plan: versions, changelogs, ranges, pins, requirement files, manifest."""
    packages = graph.load_packages(root)
    problems = [f"unknown distribution {name}" for name in levels if name not in packages]
    problems += [f"{name}: nothing under '{UNRELEASED}' in its CHANGELOG.md: write what changed "
                 "first" for name in levels if name in packages
                 and not unreleased_notes(read_changelog(packages[name]))]
    if problems:
        raise SystemExit("release.py bump: " + "; ".join(problems))
    plan = plan_bumps(packages, levels)
    old = {name: package.version for name, package in packages.items()}
    for name, package in packages.items():  # ranges and pins first, then the versions
        path = package.path / "pyproject.toml"
        text = path.read_text(encoding="utf-8")
        if (updated := rewrite_requirements(text, plan, old)) != text:
            write_text(path, updated)
    for name, version in plan.new.items():
        package = packages[name]
        set_version(package, version)
        changelog = read_changelog(package)
        write_text(package.path / "CHANGELOG.md",
                   release_changelog(changelog, version, date, plan.why[name]))
    follow_in_learners(root, plan, old)
    packages = graph.load_packages(root)
    graph.write_requirement_files(packages, root)
    manifest = load_manifest(root)
    for name in plan.new:
        record(manifest, packages[name], date)
    save_manifest(root, manifest)
    return plan


def follow_in_learners(root: Path, plan: Plan, old: dict[str, str]) -> None:
    """The hand-written learner packages in learners/ mirror their reference: same version with
    its local label (0.2.0+own), same ranges, so `nox -s learners` keeps installing them."""
    for pyproject in sorted((root / "learners").glob("*/pyproject.toml")):
        package = graph.load_package(pyproject.parent)
        text = pyproject.read_text(encoding="utf-8")
        updated = rewrite_requirements(text, plan, old)
        if package.name in plan.new:
            label = package.version[len(old[package.name]):]  # "+own"
            if not package.version.startswith(old[package.name]):
                raise SystemExit(f"learners/{pyproject.parent.name} is {package.version}, not "
                                 f"{old[package.name]} with a local label: update it by hand")
            set_version(package, plan.new[package.name] + label)
            updated = updated.replace(f"({package.version},", f"({plan.new[package.name]}{label},")
        if updated != text:
            write_text(pyproject, updated)


def read_changelog(package: graph.Package) -> str:
    path = package.path / "CHANGELOG.md"
    if not path.is_file():
        raise SystemExit(f"release.py: {package.name} has no CHANGELOG.md")
    return path.read_text(encoding="utf-8")


def parse_levels(words: list[str]) -> dict[str, str]:
    """`tt-a minor tt-b patch` -> {'tt-a': 'minor', 'tt-b': 'patch'}."""
    if not words or len(words) % 2:
        raise SystemExit("release.py bump: give pairs of <distribution> <major|minor|patch>")
    levels = {}
    for name, level in zip(words[::2], words[1::2]):
        if level not in LEVELS:
            raise SystemExit(f"release.py bump: {name}: level {level!r} is not one of "
                             f"{', '.join(LEVELS)}")
        levels[graph.normalise(name)] = level
    return levels


# ---------------------------------------------------------------- old releases (nox -s oldest)

def in_range(version: str, spec: str) -> bool:
    """`version` satisfies a `~=X.Y[.Z]` range: >= X.Y.Z and the same release up to the last
    number but one."""
    match = re.fullmatch(r"~=(\d+(?:\.\d+)+)", spec)
    if match is None:
        raise ValueError(f"not a ~= range: {spec!r}")
    base, have = graph.release(match.group(1)), graph.release(version)
    return have >= base and have[:len(base) - 1] == base[:-1]


def oldest_allowed(manifest: dict, package: graph.Package) -> dict[str, str]:
    """Sibling -> the oldest recorded version its declared range allows, for the package's
    dependencies and its `test` extra (what its contract tests run with)."""
    wanted = graph.siblings(package.deps + package.extras.get(graph.TEST_EXTRA, []))
    floors = {}
    for name, req in sorted(wanted.items()):
        released = manifest["distributions"].get(name, {})
        allowed = sorted((v for v in released if in_range(v, req.spec)), key=graph.release)
        if not allowed:
            raise SystemExit(f"{package.name} requires {name}{req.spec}, but {MANIFEST} records "
                             f"no such version of {name} ({', '.join(released) or 'none'})")
        floors[name] = allowed[0]
    return floors


def git(root: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, **kwargs)


def export_release(root: Path, name: str, version: str, dest: Path) -> Path:
    """Write the sources of `name` `version` into dest/<package folder> from the git history:
    the commit whose copy of the package has the hash releases.json records for it. Commits are
    found by content, not by id, so rebased or merged histories still work."""
    digest = load_manifest(root)["distributions"].get(name, {}).get(version, {}).get("sha256")
    if digest is None:
        raise SystemExit(f"{MANIFEST} has no {name} {version}")
    folder = f"packages/{graph.load_packages(root)[name].path.name}"
    commits = git(root, "log", "--format=%H", "--", folder, text=True).stdout.split()
    for commit in commits:
        candidate = dest / commit[:12]
        candidate.mkdir(parents=True, exist_ok=True)
        archive = git(root, "archive", "--format=tar", commit, folder).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12: refuse odd members
                tar.extractall(candidate, filter="data")
            else:
                tar.extractall(candidate)
        package_dir = candidate / folder
        if (graph.load_package(package_dir).version == version
                and content_hash(package_dir) == digest):
            return package_dir
        shutil.rmtree(candidate)
    raise SystemExit(f"{name} {version}: no commit of this history has the sources recorded in "
                     f"{MANIFEST} (sha256 {digest[:12]}...); it cannot be rebuilt here")


# ---------------------------------------------------------------- command line

def today() -> str:
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    parser.add_argument("--date", default=None, help="release date (default: today, UTC)")
    parser.add_argument("command", choices=["check", "bump", "rehash", "hash"])
    parser.add_argument("args", nargs="*", help="bump: pairs <dist> <level>; rehash/hash: dists")
    args = parser.parse_args(argv)
    root, date = args.root.resolve(), args.date or today()
    if args.command == "check":
        problems = check(root)
        for problem in problems:
            print(f"error: {problem}")
        print(f"release check: {len(problems)} problem(s)" if problems else "release check: ok")
        return 1 if problems else 0
    if args.command == "bump":
        plan = bump(root, parse_levels(args.args), date)
        for name, version in plan.new.items():
            print(f"{name} -> {version}")
        return 0
    packages = graph.load_packages(root)
    unknown = [name for name in args.args if graph.normalise(name) not in packages]
    if unknown or not args.args:
        raise SystemExit(f"release.py {args.command}: name distributions "
                         f"(unknown: {', '.join(unknown) or '-'})")
    chosen = [packages[graph.normalise(name)] for name in args.args]
    if args.command == "hash":
        for package in chosen:
            print(f"{package.name} {package.version} {content_hash(package.path)}")
            print("".join(f"  {path}\n" for path in content_files(package.path)), end="")
        return 0
    manifest = load_manifest(root)
    for package in chosen:
        digest = record(manifest, package, date, keep_date=args.date is None)
        print(f"{package.name} {package.version} {digest}")
    save_manifest(root, manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
