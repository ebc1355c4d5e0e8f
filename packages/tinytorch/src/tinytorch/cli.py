"""The `tinytorch` command: --version, doctor, status, new, test, run, milestone, grade, and
module 17's commands.

Each subcommand is one small function taking the parsed arguments and returning an exit code.
`profile`, `bench`, `serve` and `export` belong to tt-systems (module 17): they are dispatched
to `tt_systems.COMMANDS` before parsing, and tt_systems is imported only for them.
"""

from __future__ import annotations

import argparse
import importlib
import json
import importlib.util
import sys
from pathlib import Path

import tt_setup

from ._version import __version__

# Module 17's subcommands and their help, from the course table (tt_systems.COMMANDS pairs the
# same help with its entry points): `tinytorch --help` lists them without importing tt_systems.
SYSTEMS = tt_setup.course_table().module("tt-systems")
SYSTEMS_COMMANDS = dict(SYSTEMS.commands)
OWN_COMMANDS = ("doctor", "status", "new", "test", "run", "milestone", "grade")


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (exit status 2) instead of the usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def version_text() -> str:
    """`tinytorch --version`: this package's version and every module's installed version."""
    lines = [f"tinytorch {__version__}"]
    for record in tt_setup.module_report():
        version = f"{record.version} ({record.kind})" if record.installed else "not installed"
        lines.append(f"  {record.number:02d} {record.distribution:<18} {version}")
    return "\n".join(lines)


def run_doctor(args: argparse.Namespace) -> int:
    """Print the environment, the modules and the checks (as text, or JSON with --json);
    exit 1 if any check failed."""
    checks = tt_setup.doctor()
    try:
        info = tt_setup.system_info()
    except Exception as error:  # a learner's tt_setup may not implement it yet
        info = {"error": f"tt_setup.system_info() failed: {type(error).__name__}: {error}"}
    if args.json:
        report = tt_setup.report_dict(checks, tt_setup.module_report(), info)
        print(json.dumps(report, indent=1))
    else:
        print(tt_setup.format_report(checks, tt_setup.module_report(), info))
    return 0 if all(check.ok for check in checks) else 1


def run_status(args: argparse.Namespace) -> int:
    """Per module reference/own, stubs left, last test result; the capstones that can run."""
    from .status import run_status as status

    return status(args.json)


def run_new(args: argparse.Namespace) -> int:
    """Write the learner package of a module into DIR (which must be new or empty)."""
    from .course import CourseError, course_entry
    from .new import NewPackageError, create_package
    from .scaffold import ScaffoldError

    try:
        entry = course_entry(args.module)
        tasks = create_package(entry, Path(args.dir))
    except (CourseError, NewPackageError, ScaffoldError) as error:
        print(f"tinytorch new: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # e.g. a parent folder that is not writable
        print(f"tinytorch new: cannot write {args.dir}: {error}", file=sys.stderr)
        return 2
    print(f"wrote {entry.distribution} (your own, {len(tasks)} tasks) to {args.dir}")
    for task in tasks:
        print(f"  {task.path}:{task.line}  {task.message}")
    notebook = Path(args.dir) / entry.notebook_name
    if notebook.is_file():
        print(f"the module's notebook: {notebook} (its last cells run each task's tests)")
    print(f"next: pip install -e {args.dir}  then  tinytorch test {entry.short_name}  "
          f"(see {Path(args.dir) / 'README.md'})")
    return 0


def run_test(args: argparse.Namespace) -> int:
    """Run the module's official contract tests against the installed implementation."""
    from .contract import checked_entry, run_contract_tests
    from .course import CourseError

    try:
        entry = checked_entry(args.module)
    except CourseError as error:
        print(f"tinytorch test: {error}", file=sys.stderr)
        return 2
    task, pytest_args = split_task(args.task, args.pytest_args)
    if pytest_args is None:
        print("tinytorch test: --task needs a task name", file=sys.stderr)
        return 2
    return run_contract_tests(entry, pytest_args, task=task)


def split_task(task: str | None, rest: list[str]) -> tuple[str | None, list[str] | None]:
    """(task, pytest args) from what follows the module: `--task NAME` (or `--task=NAME`) may
    also come after it (argparse leaves it in the remainder), pytest's arguments after `--`.
    (task, None) when --task has no name."""
    if rest[:1] == ["--task"]:
        if len(rest) < 2 or rest[1].startswith("-"):
            return task, None
        task, rest = rest[1], rest[2:]
    elif rest[:1] and rest[0].startswith("--task="):
        task, rest = rest[0].split("=", 1)[1], rest[1:]
    return task, rest[1:] if rest[:1] == ["--"] else rest


def run_milestone(args: argparse.Namespace) -> int:
    """Run the assessment milestones on the installed modules and write the report."""
    from .milestone_report import run_command

    return run_command(args)


def run_grade(args: argparse.Namespace) -> int:
    """Grade a folder of submissions, or merge the results of several grading runs."""
    from .grade_cli import run_command

    return run_command(args)


def add_milestone_parser(commands) -> None:
    milestone = commands.add_parser(
        "milestone", help="run the assessment milestones (XORNet, CIFAR-10, TinyGPT)",
        description="Run the course's assessment milestones on the installed modules (yours "
                    "or the reference) and write milestones.json and milestones.txt to --out. "
                    "Exit 0: all passed; 1: one failed; 3: none failed but some were not run.")
    milestone.add_argument("which", nargs="?", default="all", help="1, 2, 3 or all")
    milestone.add_argument("--data", help="folder holding cifar-10-batches-py/ and "
                           "tinyshakespeare/input.txt (default $TINYTORCH_DATA)")
    milestone.add_argument("--out", default="milestones", help="report folder")
    milestone.add_argument("--seed", type=int, default=0)
    milestone.add_argument("--quick", action="store_true",
                           help="tiny budgets (a smoke test, not the assessment)")
    milestone.add_argument("--no-progress", action="store_true", help="hide the tqdm bars")
    milestone.set_defaults(run=run_milestone)


def add_grade_parser(commands) -> None:
    from .grade_cli import add_arguments

    grade = commands.add_parser(
        "grade", help="grade a folder of submissions (contract tests + milestones)",
        description="Install each submission into its own venv over the reference modules, "
                    "run its contract tests and the milestones with time and memory limits, "
                    "and write a gradebook. Processes and venvs: not a security sandbox.")
    add_arguments(grade)
    grade.set_defaults(run=run_grade)


def run_systems(name: str, argv: list[str]) -> int:
    """`tinytorch profile|bench|serve|export ...`: tt_systems' entry point for `name`."""
    if importlib.util.find_spec("tt_systems") is None:
        print(f"tinytorch {name} comes with {SYSTEMS.distribution} (module "
              f"{SYSTEMS.number:02d}), which is not installed: pip install "
              f"'tinytorch[{SYSTEMS.extra}]' from the local packages (see the README, "
              "'Installing one exit point')", file=sys.stderr)
        return 2
    commands = importlib.import_module("tt_systems").COMMANDS
    if name not in commands:
        print(f"tinytorch {name}: the installed tt_systems has no such command "
              f"(it has {', '.join(commands)})", file=sys.stderr)
        return 2
    return commands[name][0](argv)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="tinytorch", description="TinyTorch: build a deep-learning framework on NumPy.")
    parser.add_argument("--version", action="store_true",
                        help="print the tinytorch version and the installed module versions")
    commands = parser.add_subparsers(dest="command", metavar="command")
    doctor = commands.add_parser(
        "doctor", help="check the environment and the module packages",
        description="Print Python, NumPy and its BLAS, each module's version and whether it is "
                    "the reference or your own, and the checks; exit 1 if a check fails.")
    doctor.add_argument("--json", action="store_true",
                        help="print the report as JSON (python, numpy, BLAS, per module its "
                             "distribution, version, kind and location; the checks)")
    doctor.set_defaults(run=run_doctor)
    status = commands.add_parser(
        "status", help="where you stand: own modules, stubs left, last tests, capstones",
        description="Per module: reference or own, the stub tasks left in the installed "
                    "source, the last result of `tinytorch test`; then which capstones the "
                    "installed modules can run.")
    status.add_argument("--json", action="store_true", help="print one JSON object instead")
    status.set_defaults(run=run_status)
    new = commands.add_parser(
        "new", help="write your own copy of a module to implement (tinytorch new activations DIR)",
        description="Write an installable package with the module's name and API whose "
                    "solution regions raise NotImplementedError; DIR must be new or empty.")
    new.add_argument("module", help="activations, tt-activations or 03")
    new.add_argument("dir", help="the folder to write (must not exist, or be empty)")
    new.set_defaults(run=run_new)
    test = commands.add_parser(
        "test", help="run a module's official contract tests on what is installed",
        description="Run the official contract tests of a module against the installed "
                    "implementation (reference or own), with a summary per task. Arguments "
                    "after -- go to pytest.")
    test.add_argument("module", help="activations, tt-activations, 03, or tinytorch (its own)")
    test.add_argument("--task", metavar="NAME", help="run only this task's tests (the task "
                      "names are the rows of the per-task table; tests/tasks.txt maps them)")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, help="-- then pytest arguments")
    test.set_defaults(run=run_test)
    commands.add_parser("run", help="run a capstone: xornet, cifar10, tinygpt, tinygpt-sample "
                        "(tinytorch run --help)", add_help=False)
    add_milestone_parser(commands)
    add_grade_parser(commands)
    for name, help_text in SYSTEMS_COMMANDS.items():
        commands.add_parser(name, add_help=False, help=f"{help_text} "
                            f"({SYSTEMS.distribution}, tinytorch[{SYSTEMS.extra}])")
    return parser


def systems_command(argv: list[str]) -> str | None:
    """The tt_systems command `argv` starts with, if any (tt_systems imported only if needed)."""
    if not argv or argv[0].startswith("-") or argv[0] in OWN_COMMANDS:
        return None
    if argv[0] in SYSTEMS_COMMANDS:
        return argv[0]
    if importlib.util.find_spec("tt_systems") is not None:
        if argv[0] in importlib.import_module("tt_systems").COMMANDS:
            return argv[0]
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["run"]:  # the capstone parses its own options (tinytorch run NAME --help)
        from .run import run_capstone

        return run_capstone(argv[1:])
    name = systems_command(argv)
    if name is not None:
        return run_systems(name, argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(version_text())
        return 0
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return args.run(args)
