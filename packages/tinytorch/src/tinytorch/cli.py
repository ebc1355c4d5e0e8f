"""The `tinytorch` command: `tinytorch --version`, `tinytorch doctor`.

Each subcommand is one small function taking the parsed arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import sys

import tt_setup

from ._version import __version__


def version_text() -> str:
    """`tinytorch --version`: this package's version and every module's installed version."""
    lines = [f"tinytorch {__version__}"]
    for record in tt_setup.module_report():
        version = f"{record.version} ({record.kind})" if record.installed else "not installed"
        lines.append(f"  {record.number:02d} {record.distribution:<18} {version}")
    return "\n".join(lines)


def run_doctor(args: argparse.Namespace) -> int:
    """Print the environment, the modules and the checks; exit 1 if any check failed."""
    checks = tt_setup.doctor()
    print(tt_setup.format_report(checks, tt_setup.module_report(), tt_setup.system_info()))
    return 0 if all(check.ok for check in checks) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinytorch", description="TinyTorch: build a deep-learning framework on NumPy.")
    parser.add_argument("--version", action="store_true",
                        help="print the tinytorch version and the installed module versions")
    commands = parser.add_subparsers(dest="command", metavar="command")
    doctor = commands.add_parser("doctor", help="check the environment and the module packages")
    doctor.set_defaults(run=run_doctor)
    # Later issues add their subcommands here the same way: new, test, serve, profile, bench.
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(version_text())
        return 0
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return args.run(args)
