"""`tinytorch milestone [1|2|3|all]`: run the milestones, write milestones.json and .txt.

The report holds, per milestone, its criterion, what was measured, the status, the weight and
the time, the score (sum of the weights of the passed milestones), and for every installed
module whether it is the reference or the learner's own (tt_setup's module report), its version
and a sha256 over its installed source files, so a grade can be traced to exact code.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from pathlib import Path

import tt_setup

from tt_setup import write_atomically
from .milestones import MILESTONES, QUICK, Budget, Settings, run_milestone

REPORT_JSON = "milestones.json"
REPORT_TEXT = "milestones.txt"
# Exit codes: every requested milestone passed / one failed or crashed / none failed, some not run.
EXIT_PASSED, EXIT_FAILED, EXIT_NOT_RUN = 0, 1, 3


def source_sha256(location: str | None) -> str | None:
    """sha256 over the relative path and bytes of every .py file under `location`, sorted."""
    if location is None or not Path(location).is_dir():
        return None
    root = Path(location)
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def package_dir(record) -> str | None:
    """The import package's folder: an editable install's location is its project folder."""
    if record.location is None:
        return None
    location = Path(record.location)
    for candidate in (location / "src" / record.import_name, location / record.import_name):
        if candidate.is_dir():
            return str(candidate)
    return str(location)


def module_fingerprints() -> list[dict]:
    """Every course module: installed?, reference or own, version, sha256 of its sources."""
    rows = []
    for record in tt_setup.module_report():
        folder = package_dir(record) if record.installed else None
        rows.append({"number": record.number, "distribution": record.distribution,
                     "installed": record.installed, "kind": record.kind,
                     "version": record.version, "sha256": source_sha256(folder)})
    return rows


QUICK_NOTE = ("quick budget: a smoke test that every step of the pipeline runs; the pass marks "
              "are set for the full budget, which real data needs to reach them (drop --quick)")


def summary_text(report: dict) -> str:
    """The readable summary: one block per milestone, the score, the modules."""
    lines = [f"TinyTorch milestones ({report['budget']['name']} budget, seed {report['seed']}, "
             f"{report['wall_seconds']:.0f} s)", ""]
    for m in report["milestones"]:
        lines.append(f"{m['title']} (weight {m['weight']:.0%}): {m['status'].upper()}")
        lines.append(f"  criterion: {m['criterion']}")
        lines.append(f"  {m['message']}")
        if m["sample"]:
            lines.append("  sample:")
            lines += [f"    | {line}" for line in m["sample"].splitlines()]
        lines.append("")
    lines.append(f"score: {report['score']:.0%} of {report['possible']:.0%} run "
                 f"(passed {report['passed']} of {len(report['milestones'])})")
    if report["budget"]["name"] == "quick":
        lines.append(QUICK_NOTE)
    lines.append("")
    lines.append("modules:")
    for row in report["modules"]:
        if row["installed"]:
            lines.append(f"  {row['number']:02d} {row['distribution']:<18} {row['version']:<12} "
                         f"{row['kind']:<9} sha256 {(row['sha256'] or '-')[:16]}")
        else:
            lines.append(f"  {row['number']:02d} {row['distribution']:<18} not installed")
    return "\n".join(lines) + "\n"


def run_all(numbers: list[int], settings: Settings) -> dict:
    """Run the requested milestones in order; the report dict (also written to settings.out)."""
    start = time.perf_counter()
    outcomes = [run_milestone(n, settings) for n in numbers]
    passed = [o for o in outcomes if o.status == "passed"]
    report = {
        "milestones": [o.as_dict() for o in outcomes],
        "score": sum(o.weight for o in passed),
        "possible": sum(o.weight for o in outcomes),
        "passed": len(passed),
        "budget": vars(settings.budget) | {},
        "seed": settings.seed,
        "data": str(settings.data) if settings.data else None,
        "wall_seconds": time.perf_counter() - start,
        "modules": module_fingerprints(),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
    }
    write_atomically(settings.out / REPORT_JSON, json.dumps(report, indent=2) + "\n")
    write_atomically(settings.out / REPORT_TEXT, summary_text(report))
    return report


def exit_code(report: dict) -> int:
    statuses = {m["status"] for m in report["milestones"]}
    if statuses & {"failed", "error"}:
        return EXIT_FAILED
    return EXIT_NOT_RUN if "not run" in statuses else EXIT_PASSED


def parse_which(text: str) -> list[int]:
    if text == "all":
        return list(MILESTONES)
    if text.isdigit() and int(text) in MILESTONES:
        return [int(text)]
    raise ValueError(f"milestone must be 1, 2, 3 or all, got {text!r}")


def run_command(args) -> int:
    """The `tinytorch milestone` subcommand."""
    import sys

    try:
        numbers = parse_which(args.which)
    except ValueError as error:
        print(f"tinytorch milestone: {error}", file=sys.stderr)
        return 2
    data = Path(args.data) if args.data else None
    if data is not None and not data.is_dir():
        print(f"tinytorch milestone: --data {data} is not a folder", file=sys.stderr)
        return 2
    budget = QUICK if args.quick else Budget()
    settings = Settings(data=data, out=Path(args.out), budget=budget, seed=args.seed,
                        progress=not args.no_progress)
    report = run_all(numbers, settings)
    print(summary_text(report), end="")
    print(f"report: {Path(args.out) / REPORT_JSON} and {REPORT_TEXT}")
    return exit_code(report)
