"""`tinytorch grade SUBMISSIONS_DIR ...` and `tinytorch grade --merge OUT1 OUT2 ... --out DIR`.

Submissions run in parallel, `--jobs` at a time (threads, each waiting on its child
processes). A submission whose results/<student>.json exists is skipped, so a re-run after an
interruption grades only what is left; delete that file to grade a student again.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .grade_report import read_results, write_gradebook
from .grade_setup import (
    GradeError, build_reference, list_submissions, require_build_backend, shard, student_name,
)

GRADEBOOK = "gradebook.csv"


def add_arguments(parser) -> None:
    parser.add_argument("submissions", nargs="?",
                        help="folder of submissions (folders, .zip or .tar.gz; one per student)")
    parser.add_argument("--out", default="grades", help="results, logs and gradebook.csv")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once (default: the number of cores)")
    parser.add_argument("--shard", help="i/n: grade only every n-th submission from the i-th")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="wall seconds per submission, all steps together (default 1800)")
    parser.add_argument("--memory", type=int, default=4096,
                        help="address-space limit in MB per process (default 4096; 0: none)")
    parser.add_argument("--wheels", help="folder holding the 18 reference wheels (nox -s build); "
                        "default: build them from this checkout, or, installed from wheels, "
                        "copy the installed reference distributions")
    parser.add_argument("--data", help="data folder passed to tinytorch milestone --data")
    parser.add_argument("--quick", action="store_true",
                        help="milestones with the quick budget (a dry run, not the assessment)")
    parser.add_argument("--merge", nargs="+", metavar="OUT",
                        help="merge the results of these grading folders into --out's gradebook")


def check_arguments(args) -> None:
    if args.merge:
        return
    if not args.submissions:
        raise GradeError("give SUBMISSIONS_DIR (or --merge OUT ...)")
    if args.jobs < 1 or args.timeout <= 0 or args.memory < 0:
        raise GradeError(f"need --jobs >= 1, --timeout > 0, --memory >= 0; got {args.jobs}, "
                         f"{args.timeout}, {args.memory}")
    for name in ("wheels", "data"):
        value = getattr(args, name)
        if value and not Path(value).is_dir():
            raise GradeError(f"--{name} {value} is not a folder")


def run_command(args) -> int:
    try:
        check_arguments(args)
        if args.merge:
            return merge(args)
        return grade_all(args)
    except GradeError as error:
        print(f"tinytorch grade: {error}", file=sys.stderr)
        return 2


def merge(args) -> int:
    folders = [Path(folder) for folder in args.merge]
    for folder in folders:
        if not (folder / "results").is_dir():
            raise GradeError(f"{folder} holds no results/ folder of a grading run")
    results = read_results(folders)
    write_gradebook(Path(args.out) / GRADEBOOK, results)
    print(f"merged {len(results)} students from {len(folders)} folders into "
          f"{Path(args.out) / GRADEBOOK}")
    return 0


def grade_all(args) -> int:
    from .grade import GradeSettings, grade_submission

    out = Path(args.out).resolve()
    todo = shard(list_submissions(Path(args.submissions)), args.shard)
    done = [s for s in todo if (out / "results" / f"{student_name(s)}.json").is_file()]
    pending = [s for s in todo if s not in done]
    if pending:
        require_build_backend()
    reference = build_reference(out, Path(args.wheels).resolve() if args.wheels else None)
    settings = GradeSettings(out=out, reference_site=reference,
                             data=Path(args.data).resolve() if args.data else None,
                             timeout=args.timeout, memory_mb=args.memory or None,
                             quick=args.quick)
    print(f"grading {len(pending)} submissions ({len(done)} already graded, skipped), "
          f"{args.jobs} at a time", flush=True)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for result in pool.map(lambda s: grade_submission(s, settings), pending):
            print(f"  {result['student']}: {result['status']}, score {result['score']:.0%} "
                  f"({result['seconds']} s)", flush=True)
    write_gradebook(out / GRADEBOOK, read_results([out]))
    print(f"gradebook: {out / GRADEBOOK}; one report per student in {out / 'results'}")
    return 0
