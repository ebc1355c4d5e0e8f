"""`tinytorch grade`, one submission: install it, run its contract tests and the milestones.

Every step is a child process with limits: a wall-clock deadline for the whole submission
(the process group is killed when it passes), and where `resource` exists (Linux, macOS) an
address-space limit (`--memory`) and a file-size limit that caps its captured output (a child
printing without end gets an error on write once its log reaches the cap), set by
`tinytorch._limited` in the child just before it becomes the command. Children run in the
submission's own folder with HOME and TMPDIR pointed there and one BLAS thread each (jobs run
side by side). This isolates mistakes, not attacks: processes and venvs, not a security sandbox.

The result of a submission is one JSON file (and a readable .txt) written atomically by this
process when the submission ends, so a crash of one cannot touch another's result.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tt_setup import write_atomically

from .grade_setup import find_packages, make_venv, student_name, unpack, venv_python

# Bytes of captured output, and of any file, per child process (a CIFAR-10 checkpoint of the
# milestone's Trainer is about 7.3 MB).
OUTPUT_CAP = 32 * 2**20
PYTEST_ARGS = ["-q", "--tb=no", "-rN", "-p", "no:cacheprovider", "--continue-on-collection-errors"]


@dataclass(frozen=True)
class GradeSettings:
    out: Path                      # results/, work/, gradebook.csv
    reference_site: Path           # the reference modules every venv sees
    data: Path | None              # passed to `tinytorch milestone --data`
    timeout: float = 1800.0        # wall seconds per submission, all steps together
    memory_mb: int | None = 4096   # address-space limit per child process (None: no limit)
    quick: bool = False            # milestones with the quick budget (tests, dry runs)


@dataclass
class Step:
    """What one child process did."""

    returncode: int | None
    seconds: float
    log: Path
    limit: str | None = None       # "time", "memory" or "output" when a limit stopped it


def run_limited(command: list[str], cwd: Path, log: Path, deadline: float,
                memory_mb: int | None) -> Step:
    """Run `command` with its output in `log`, killed with its group at `deadline`."""
    start = time.monotonic()
    if deadline - start <= 0:
        return Step(None, 0.0, log, "time")
    env = dict(os.environ, HOME=str(cwd), TMPDIR=str(cwd), PYTHONDONTWRITEBYTECODE="1",
               PYTHONSAFEPATH="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    env.pop("PYTHONPATH", None)
    with open(log, "wb") as handle:
        limited = [sys.executable, "-m", "tinytorch._limited", str(memory_mb or 0),
                   str(OUTPUT_CAP), *command]  # sets the limits, then becomes `command`
        child = subprocess.Popen(limited, cwd=cwd, env=env, stdout=handle,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True)
        try:
            code = child.wait(timeout=deadline - start)
        except subprocess.TimeoutExpired:
            if hasattr(os, "killpg"):  # the child and everything it started
                os.killpg(child.pid, signal.SIGKILL)
            else:
                child.kill()
            child.wait()
            return Step(None, time.monotonic() - start, log, "time")
    limit = None
    if code == -getattr(signal, "SIGXFSZ", 0) or log.stat().st_size >= OUTPUT_CAP:
        limit = "output"
    elif b"MemoryError" in tail(log):
        limit = "memory"
    return Step(code, time.monotonic() - start, log, limit)


def tail(path: Path, size: int = 4096) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(max(path.stat().st_size - size, 0))
        return handle.read()


def install(purelib: Path, packages: dict[str, Path], work: Path, deadline: float) -> Step:
    """The student's packages into the venv's own site-packages (no index, no dependencies)."""
    command = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
               "--no-build-isolation", "--target", str(purelib),
               *[str(folder) for folder in packages.values()]]
    return run_limited(command, work, work / "install.log", deadline, None)


def contract_tests(python: Path, distribution: str, work: Path, settings: GradeSettings,
                   deadline: float) -> dict:
    """The module's official tests (the reference copy shipped in tinytorch), on this venv."""
    tests = settings.reference_site / "tinytorch" / "_course" / distribution / "tests"
    result = work / f"contract-{distribution}.json"
    result.unlink(missing_ok=True)
    (work / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    command = [str(python), "-m", "tinytorch._contract_child", str(result), str(tests),
               "-c", str(work / "pytest.ini"), "--rootdir", str(tests), *PYTEST_ARGS]
    step = run_limited(command, work, work / f"contract-{distribution}.log", deadline,
                       settings.memory_mb)
    row = {"passed": 0, "failed": 0, "skipped": 0, "seconds": round(step.seconds, 1),
           "limit": step.limit, "complete": result.is_file()}
    if result.is_file():
        for counts in json.loads(result.read_text(encoding="utf-8"))["files"].values():
            row["passed"] += counts.get("passed", 0)
            row["failed"] += counts.get("failed", 0) + counts.get("errors", 0)
            row["skipped"] += counts.get("skipped", 0)
    else:
        row["failed"] += 1  # the test process died or was stopped before it could report
    return row


def milestones(python: Path, work: Path, settings: GradeSettings, deadline: float) -> dict:
    """`tinytorch milestone all` in the venv; its JSON report, or why there is none."""
    out = work / "milestones"
    (out / "milestones.json").unlink(missing_ok=True)
    command = [str(python), "-m", "tinytorch", "milestone", "all", "--out", str(out),
               "--no-progress", *(["--quick"] if settings.quick else []),
               *(["--data", str(settings.data)] if settings.data else [])]
    step = run_limited(command, work, work / "milestones.log", deadline, settings.memory_mb)
    report_file = out / "milestones.json"
    if step.limit is None and report_file.is_file():
        return json.loads(report_file.read_text(encoding="utf-8"))
    why = {"time": "the time limit was reached", "output": "its output passed the cap",
           "memory": "it ran out of its memory limit"}.get(
        step.limit, f"the milestone process ended with code {step.returncode}")
    return {"milestones": [], "score": 0.0, "error": f"no milestone report: {why}",
            "limit": step.limit}


def grade_submission(submission: Path, settings: GradeSettings) -> dict:
    """Grade one submission; the result dict (also written to results/<student>.json)."""
    name = student_name(submission)
    work = settings.out / "work" / name
    start = time.monotonic()
    deadline = start + settings.timeout
    result = {"student": name, "submission": submission.name, "status": "graded",
              "packages": {}, "contract": {}, "milestones": [], "score": 0.0, "notes": [],
              "started": time.time()}
    try:
        grade_steps(submission, work, settings, deadline, result)
    except Exception as error:  # a broken archive, a full disk: this student only
        result["status"] = "error"
        result["notes"].append(f"{type(error).__name__}: {error}")
    result["seconds"] = round(time.monotonic() - start, 1)
    result["ended"] = time.time()
    write_result(settings.out / "results", result)
    return result


def grade_steps(submission: Path, work: Path, settings: GradeSettings, deadline: float,
                result: dict) -> None:
    work.mkdir(parents=True, exist_ok=True)
    unpack(submission, work / "submission")
    packages = find_packages(work / "submission")
    if not packages:
        result["status"] = "not a package"
        result["notes"].append("no course module package (a folder whose pyproject.toml names "
                               "tt-<module>) in the submission")
        return
    result["packages"] = {dist: str(folder.relative_to(work / "submission"))
                          for dist, folder in packages.items()}
    purelib = make_venv(work / "venv", settings.reference_site)
    python = venv_python(work / "venv")
    step = install(purelib, packages, work, deadline)
    if step.returncode != 0:
        result["status"] = "install failed"
        why = tail(step.log, 600).decode(errors="replace").strip()
        result["notes"].append(f"pip could not install it (work/{work.name}/install.log): {why}")
        return
    for dist in packages:
        result["contract"][dist] = contract_tests(python, dist, work, settings, deadline)
    report = milestones(python, work, settings, deadline)
    result["milestones"] = [{key: m[key] for key in ("number", "title", "weight", "status",
                                                     "measured", "message", "seconds")}
                            for m in report["milestones"]]
    result["score"] = report["score"]
    result["modules"] = report.get("modules", [])
    if "error" in report:
        result["notes"].append(report["error"])
    limits = {row["limit"] for row in result["contract"].values()} | {report.get("limit")}
    result["notes"] += [f"stopped by the {limit} limit" for limit in sorted(limits - {None})]


def write_result(folder: Path, result: dict) -> None:
    """results/<student>.json and .txt, each written to a temporary name and renamed."""
    from .grade_report import student_text

    write_atomically(folder / f"{result['student']}.txt", student_text(result))
    write_atomically(folder / f"{result['student']}.json", json.dumps(result, indent=2) + "\n")
