"""`tinytorch grade`, the setting up: the reference layer, unpacking, one venv per submission.

The reference layer is built once per output folder: the 18 reference wheels (`--wheels DIR`,
or built from the checkout with `pip wheel`) installed with `pip install --target` into
OUT/reference/site. Each submission then gets a fresh venv (`python -m venv --without-pip`,
a fraction of a second) whose site-packages holds only the student's packages; a .pth file
puts the reference site and the grader's own third-party libraries (numpy, tqdm, pytest)
after it on sys.path, so the student's modules shadow the reference ones and everything else is
shared read-only. That keeps grading a class to one NumPy install instead of one per student.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

from tt_setup import COURSE_MODULES

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


def run_pip(args: list[str], what: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise GradeError(f"{what} failed (pip exit {done.returncode}):\n{done.stderr[-2000:]}")


def build_reference(out: Path, wheels: Path | None) -> Path:
    """OUT/reference/site with the 18 reference distributions (built once, then reused)."""
    site = out / "reference" / "site"
    if (site / ".complete").is_file():
        return site
    if wheels is None:
        wheels = build_wheels(out / "reference" / "wheels")
    names = {re.split(r"-\d", p.name)[0].replace("_", "-") for p in wheels.glob("*.whl")}
    missing = sorted(DISTRIBUTIONS - names)
    if missing:
        raise GradeError(f"--wheels {wheels} lacks {', '.join(missing)} (nox -s build)")
    tmp = site.with_name("site.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    run_pip(["install", "-q", "--no-deps", "--no-index", "--target", str(tmp),
             *[str(p) for p in sorted(wheels.glob("*.whl"))]], "installing the reference wheels")
    (tmp / ".complete").write_text("reference modules for tinytorch grade\n", encoding="utf-8")
    shutil.rmtree(site, ignore_errors=True)
    tmp.rename(site)
    return site


def build_wheels(dest: Path) -> Path:
    """Wheels of the checkout's 18 packages (needs hatchling in this environment)."""
    from .course import CourseError, course_root

    try:
        root = course_root()
    except CourseError as error:
        raise GradeError(str(error)) from None
    if not (root / "tinytorch" / "pyproject.toml").is_file():
        raise GradeError(f"{root} is not a TinyTorch checkout's packages/ folder: pass --wheels "
                         "DIR holding the 18 wheels (nox -s build)")
    if importlib.util.find_spec("hatchling") is None:
        raise GradeError("building the reference wheels needs hatchling: pip install hatchling, "
                         "or pass --wheels DIR (nox -s build)")
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
