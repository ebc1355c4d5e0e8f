"""`tinytorch grade`, the setting up: the reference layer, unpacking, one venv per submission.

The reference layer is built once per output folder, into OUT/reference/site: the 18 reference
wheels of `--wheels DIR` installed with `pip install --target`; without --wheels, in a checkout,
the same from wheels built there with `pip wheel`; else (tinytorch installed from wheels) a copy
of the files of the 18 installed reference distributions, laid out as `pip install --target`
would lay out their wheels. Each submission then gets a fresh venv (`python -m venv --without-pip`,
a fraction of a second) whose site-packages holds only the student's packages; a .pth file
puts the reference site and the grader's own third-party libraries (numpy, tqdm, pytest)
after it on sys.path, so the student's modules shadow the reference ones and everything else is
shared read-only. That keeps grading a class to one NumPy install instead of one per student.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

from importlib import metadata

from tt_setup import COURSE_MODULES, module_report

DISTRIBUTIONS = {m.distribution for m in COURSE_MODULES} | {"tinytorch"}
ARCHIVES = (".zip", ".tar.gz", ".tgz")
THIRD_PARTY = ("numpy", "tqdm", "pytest")


class GradeError(Exception):
    """A setup problem that stops the whole grading run (no reference, bad arguments)."""


def student_name(submission: Path) -> str:
    """`alice.tar.gz` -> `alice`; a folder keeps its name."""
    name = submission.name
    for suffix in ARCHIVES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def list_submissions(folder: Path) -> list[Path]:
    """Every folder and archive in `folder`, sorted by name (hidden entries skipped)."""
    if not folder.is_dir():
        raise GradeError(f"submissions folder {folder} does not exist or is not a folder")
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".")
                  and (p.is_dir() or p.name.endswith(ARCHIVES)))


def shard(items: list[Path], text: str | None) -> list[Path]:
    """`--shard i/n` (1-based): every n-th submission starting at the i-th, by sorted name."""
    if not text:
        return items
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise GradeError(f"--shard must be i/n with 1 <= i <= n, got {text!r}")
    i, n = int(match.group(1)), int(match.group(2))
    return items[i - 1::n]


def safe_member(root: Path, name: str) -> Path:
    """Where an archive member goes; refuses absolute paths and '..' that leave `root`."""
    target = (root / name).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ValueError(f"archive member {name!r} would be written outside the submission")
    return target


def unpack(submission: Path, dest: Path) -> None:
    """Copy a folder, or extract a .zip / .tar.gz, into `dest` (never outside it)."""
    if dest.exists():
        shutil.rmtree(dest)
    if submission.is_dir():
        shutil.copytree(submission, dest, symlinks=True)
        return
    dest.mkdir(parents=True)
    if submission.name.endswith(".zip"):
        with zipfile.ZipFile(submission) as archive:
            for member in archive.namelist():
                safe_member(dest, member)
            archive.extractall(dest)
        return
    with tarfile.open(submission) as archive:
        for member in archive.getmembers():
            safe_member(dest, member.name)
            if member.issym() or member.islnk() or member.isdev():
                raise ValueError(f"archive member {member.name!r} is a link or device")
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4 / 3.12: refuse odd members too
            archive.extractall(dest, filter="data")
        else:
            archive.extractall(dest)


def project_name(pyproject: Path) -> str | None:
    match = re.search(r'^name\s*=\s*["\']([^"\']+)["\']', pyproject.read_text("utf-8"), re.M)
    return match.group(1).lower().replace("_", "-") if match else None


def find_packages(folder: Path) -> dict[str, Path]:
    """The course module packages in a submission: {distribution: project folder}."""
    found = {}
    for pyproject in sorted(folder.rglob("pyproject.toml")):
        name = project_name(pyproject)
        if name in DISTRIBUTIONS and name != "tinytorch" and name not in found:
            found[name] = pyproject.parent
    return found


NEEDS_HATCHLING = ("pip builds each submitted package, without an index, with the course's build "
                   "backend hatchling, which is not installed here: pip install "
                   "'tinytorch[grade]'")


def require_build_backend() -> None:
    """GradeError before any work when the submissions could not be installed."""
    if importlib.util.find_spec("hatchling") is None:
        raise GradeError(NEEDS_HATCHLING)


def run_pip(args: list[str], what: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise GradeError(f"{what} failed (pip exit {done.returncode}):\n{done.stderr[-2000:]}")


def build_reference(out: Path, wheels: Path | None) -> Path:
    """OUT/reference/site with the 18 reference distributions (built once, then reused)."""
    site = out / "reference" / "site"
    if (site / ".complete").is_file():
        return site
    tmp = site.with_name("site.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    if wheels is None and checkout_packages() is None:  # installed from wheels: copy those
        copy_installed(sorted(DISTRIBUTIONS), tmp)
    else:
        if wheels is None:
            wheels = build_wheels(out / "reference" / "wheels")
        names = {re.split(r"-\d", p.name)[0].replace("_", "-") for p in wheels.glob("*.whl")}
        missing = sorted(DISTRIBUTIONS - names)
        if missing:
            raise GradeError(f"--wheels {wheels} lacks {', '.join(missing)} (nox -s build)")
        run_pip(["install", "-q", "--no-deps", "--no-index", "--target", str(tmp),
                 *[str(p) for p in sorted(wheels.glob("*.whl"))]],
                "installing the reference wheels")
    (tmp / ".complete").write_text("reference modules for tinytorch grade\n", encoding="utf-8")
    shutil.rmtree(site, ignore_errors=True)
    tmp.rename(site)
    return site


def checkout_packages() -> Path | None:
    """The course folder when it is a checkout's packages/ (its 18 projects can be built);
    None for the copy inside a wheel, which has no tinytorch sources or build hook."""
    from .course import CourseError, course_root

    try:
        root = course_root()
    except CourseError:
        return None
    return root if (root / "tinytorch" / "hatch_build.py").is_file() else None


def _editable(dist: metadata.Distribution) -> bool:
    text = dist.read_text("direct_url.json")  # PEP 610, written for path and URL installs
    return bool(text) and bool(json.loads(text).get("dir_info", {}).get("editable"))


def installed_reference(name: str, kinds: dict[str, str]) -> metadata.Distribution:
    """The installed distribution `name`; GradeError unless it is the reference, from a wheel
    (`kinds`: {distribution: "reference" or "own"} of the installed course modules)."""
    hint = "install tinytorch[all] from the reference wheels, or pass --wheels DIR (nox -s build)"
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        raise GradeError(f"the reference layer needs {name}, which is not installed: "
                         f"{hint}") from None
    if kinds.get(name, "reference") != "reference" or _editable(dist):
        which = "editable" if _editable(dist) else kinds[name]
        raise GradeError(f"the reference layer needs the reference {name}, but the installed "
                         f"one ({dist.version}) is {which}: {hint}")
    return dist


def copy_installed(distributions: list[str], dest: Path) -> None:
    """Every file of each installed distribution (its RECORD) under `dest`, where `pip install
    --target dest` of its wheel would put it (scripts outside site-packages are left out)."""
    kinds = {r.distribution: r.kind for r in module_report()}
    for name in distributions:
        dist = installed_reference(name, kinds)
        for file in dist.files or []:
            if file.parts[0] == ".." or "__pycache__" in file.parts:
                continue
            target = dest / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(dist.locate_file(file)), target)


def build_wheels(dest: Path) -> Path:
    """Wheels of the checkout's 18 packages (needs hatchling in this environment)."""
    root = checkout_packages()
    if root is None:
        raise GradeError("no TinyTorch checkout to build the reference wheels from: pass "
                         "--wheels DIR holding the 18 wheels (nox -s build)")
    if importlib.util.find_spec("hatchling") is None:
        raise GradeError("building the reference wheels needs hatchling: pip install "
                         "'tinytorch[grade]', or pass --wheels DIR (nox -s build)")
    dest.mkdir(parents=True, exist_ok=True)
    projects = sorted(str(root / d) for d in DISTRIBUTIONS)
    run_pip(["wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dest), *projects],
            "building the reference wheels")
    return dest


def third_party_dirs() -> list[str]:
    """The site folders this grader imports numpy, tqdm and pytest from."""
    dirs = []
    for name in THIRD_PARTY:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise GradeError(f"tinytorch grade needs {name} in its own environment")
        folder = str(Path(spec.origin).parent.parent)
        if folder not in dirs:
            dirs.append(folder)
    return dirs


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def make_venv(venv: Path, reference_site: Path) -> Path:
    """A fresh venv over the reference site; returns its site-packages folder."""
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   capture_output=True)
    scheme = "nt" if sys.platform == "win32" else "posix_prefix"
    purelib = Path(sysconfig.get_path("purelib", scheme, vars={"base": str(venv),
                                                               "platbase": str(venv)}))
    purelib.mkdir(parents=True, exist_ok=True)
    lines = [str(reference_site.resolve()), *third_party_dirs()]
    (purelib / "zz_tinytorch_grade.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return purelib
