"""What the three capstone programs share: their option vocabulary, one-line errors, the
command that resumes a run, the Ctrl-C handling and the message naming a missing extra.

The capstones (capstones/<name>/ in a checkout, `tinytorch._capstones` in the wheel) are
programs, not library code: they print, and exit with status 2 for a bad argument, 130 when
interrupted. This module imports nothing of the course modules, so a capstone can name the
extra to install before any of them is imported.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
from pathlib import Path

# Set by `tinytorch run <name>` for the child process: the words that start this capstone, so
# that --help, errors and the resume command say `tinytorch run cifar10`, not `train.py`.
RUN_AS_ENV = "TINYTORCH_RUN_AS"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# How long OpenBLAS's threads spin after a product before they sleep: 2**N CPU cycles (its
# default N = 28, about 0.1 s). A spinning BLAS thread holds a core the fast paths' worker
# threads then wait for (col2im, batch norm, the pools run right after the GEMMs); 2**16
# cycles (tens of microseconds) still keeps the threads awake across back-to-back products.
# On the idle 2-core machine the ResNet-9 step at 2 threads went from 0.93-1.02 s to
# 0.77-0.79 s (capstones/cifar10/README.md). Read once, when NumPy loads its BLAS.
BLAS_SPIN_VARIABLE, BLAS_SPIN_DEFAULT = "OPENBLAS_THREAD_TIMEOUT", "16"

__all__ = ["HelpFormatter", "RUN_AS_ENV", "add_run_options", "apply_threads", "command_words",
           "exit_on_ctrl_c", "interrupted", "needs_extra", "prog", "relative_out",
           "resume_command", "usage_error"]


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """--help shows each option's default, except where there is none (None, a flag off)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def command_words(script: str) -> list[str]:
    """How the learner started this program: `tinytorch run x`, or `python path/to/script`."""
    launched = os.environ.get(RUN_AS_ENV)
    if launched:
        return shlex.split(launched)
    python = _relative(sys.executable) if sys.executable else "python"
    if python.startswith("..") or os.path.isabs(python):  # far away: its name says enough
        python = "python"
    return [python, _relative(script)]


def _relative(path: str) -> str:
    """`path` relative to the current folder, or absolute when that is impossible (Windows:
    another drive)."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return os.path.abspath(path)


def prog(script: str) -> str:
    """The program name for argparse and for error lines."""
    launched = os.environ.get(RUN_AS_ENV)
    return launched or os.path.basename(script)


def usage_error(script: str, message: str):
    """One line on stderr and exit status 2, as argparse does for a bad argument."""
    print(f"{prog(script)}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def resume_command(script: str, argv: list[str]) -> str:
    """The command line that continues this run (--force dropped, --resume added)."""
    args = [a for a in argv if a != "--force"]
    if "--resume" not in args:
        args.append("--resume")
    return shlex.join([*command_words(script), *args])


def add_run_options(parser: argparse.ArgumentParser, *, out: str, data_help: str | None = None,
                    resume: bool = True, seed: int | None = None) -> None:
    """The options every capstone spells the same way: --data (when it reads data), --out,
    --resume/--force (when it checkpoints), --seed, --threads."""
    if data_help is not None:
        parser.add_argument("--data", default=None, help=data_help)
    parser.add_argument("--out", default=out, help="the run folder (results, pictures"
                        + (", checkpoints)" if resume else ")"))
    if resume:
        parser.add_argument("--resume", action="store_true",
                            help="continue the run in OUT from its last checkpoint")
        parser.add_argument("--force", action="store_true",
                            help="start over in an OUT that already holds a run")
    parser.add_argument("--seed", type=int, default=seed, help="random seed"
                        + ("" if seed is not None else " (default: the preset's)"))
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (sets OMP/OPENBLAS/MKL_NUM_THREADS; default: "
                             "what NumPy's BLAS picks)")


def import_beside(script: str) -> None:
    """Put the folder of `script` first on sys.path, so its sibling modules import (a capstone's
    data.py, resnet9.py). `python train.py` does that itself, but `python -P` and
    PYTHONSAFEPATH=1 (Python >= 3.11) do not: the import must not depend on how the
    interpreter was started."""
    folder = str(Path(script).resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)


def apply_threads(argv: list[str] | None = None) -> None:
    """Honour --threads N before NumPy is imported (BLAS reads its thread count once, when it
    loads), so a capstone calls this first; a bad value is left for argparse to report. Also
    shortens OpenBLAS's spin after each product to BLAS_SPIN_DEFAULT (see above) unless the
    environment already sets BLAS_SPIN_VARIABLE."""
    os.environ.setdefault(BLAS_SPIN_VARIABLE, BLAS_SPIN_DEFAULT)
    argv = sys.argv[1:] if argv is None else argv
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--threads=") else (
            argv[i + 1] if arg == "--threads" and i + 1 < len(argv) else None)
        if value is not None and value.isdigit() and int(value) >= 1:
            for name in THREAD_VARIABLES:
                os.environ[name] = value


@contextlib.contextmanager
def needs_extra(capstone: str, extra: str, what: str):
    """Around a capstone's imports: a missing course module ends the program with one line
    naming the extra that installs it (any other missing module is a real error)."""
    try:
        yield
    except ModuleNotFoundError as err:
        if not (err.name or "").startswith("tt_"):
            raise
        sys.exit(f"{capstone} needs TinyTorch's {what} ({err.name} is not installed): "
                 f"pip install 'tinytorch[{extra}]'")


def interrupted(message: str) -> None:
    """Ctrl-C: say what was kept and how to go on, in one line, and exit 130."""
    print(f"\ninterrupted {message}", file=sys.stderr)
    raise SystemExit(130)


def exit_on_ctrl_c(main, argv: list[str] | None = None) -> int:
    """Run `main(argv)`; Ctrl-C outside training (training says where its checkpoint is) exits
    130 without a traceback."""
    try:
        code = main(argv)
    except KeyboardInterrupt:
        print("\ninterrupted outside training: run the command again (with --resume if the "
              "run folder holds a checkpoint)", file=sys.stderr)
        return 130
    return code if isinstance(code, int) else 0


def relative_out(name: str) -> str:
    """The default run folder of capstone `name`: runs/<name> under the current folder."""
    return str(Path("runs") / name)
