"""`tinytorch run <capstone>`: the capstone programs, from a wheel install or a checkout.

The programs stay in the checkout's capstones/<folder>/ as the readable source; the tinytorch
wheel ships the same files as `tinytorch/_capstones/<folder>/` (hatch_build.py). A capstone runs
in a child process of the same Python, exactly as `python capstones/<folder>/<script>` would
(its folder first on sys.path, its own arguments), with TINYTORCH_RUN_AS telling it to call
itself `tinytorch run <name>` in its help, errors and resume command.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .capstone import RUN_AS_ENV

CAPSTONES_ENV = "TINYTORCH_CAPSTONES"  # a folder holding xornet/, cifar10/, tinygpt/
SHIPPED = Path(__file__).resolve().parent / "_capstones"


@dataclass(frozen=True)
class Capstone:
    name: str      # what follows `tinytorch run`
    folder: str    # capstones/<folder>/
    script: str    # the program in that folder
    extra: str     # the exit point that installs every module it imports
    modules: tuple[str, ...]  # the course modules it imports (directly or through a module)
    about: str


FOUNDATIONS = ("tt-setup", "tt-tensor", "tt-activations", "tt-layers", "tt-networks")
VISION = FOUNDATIONS + ("tt-spatial", "tt-dataloader", "tt-normalization", "tt-autograd",
                        "tt-optimizers", "tt-training")
LANGUAGE = VISION + ("tt-embeddings", "tt-attention", "tt-transformers", "tt-generation",
                     "tt-regularization")  # tt-systems: not needed to train or sample
CAPSTONES = {c.name: c for c in (
    Capstone("xornet", "xornet", "xornet.py", "foundations", FOUNDATIONS,
             "a 2-H-1 MLP learns XOR (Part I)"),
    Capstone("cifar10", "cifar10", "train.py", "vision", VISION,
             "a CNN on CIFAR-10 (Part II); --quick for a one-minute run"),
    Capstone("tinygpt", "tinygpt", "train.py", "language", LANGUAGE,
             "a character-level GPT (Part III); --quick for a one-minute run"),
    Capstone("tinygpt-sample", "tinygpt", "sample.py", "language", LANGUAGE,
             "text from a trained TinyGPT run (--run FOLDER)"),
)}


class CapstoneError(Exception):
    """No such capstone, or no capstone programs next to this tinytorch."""


def capstones_root() -> Path:
    """$TINYTORCH_CAPSTONES, the copy in the wheel, or the checkout's capstones/."""
    override = os.environ.get(CAPSTONES_ENV)
    if override:
        return Path(override).resolve()
    if SHIPPED.is_dir():
        return SHIPPED
    checkout = Path(__file__).resolve().parents[4] / "capstones"  # packages/tinytorch/src/...
    if checkout.is_dir():
        return checkout
    raise CapstoneError("cannot find the capstone programs: this tinytorch is neither a wheel "
                        "built with them (nox -s build) nor an editable install from a "
                        f"TinyTorch checkout; set {CAPSTONES_ENV} to a folder holding them")


def script_path(name: str) -> Path:
    if name not in CAPSTONES:
        raise CapstoneError(f"no capstone {name!r}: choose from {', '.join(CAPSTONES)}")
    capstone = CAPSTONES[name]
    path = capstones_root() / capstone.folder / capstone.script
    if not path.is_file():
        raise CapstoneError(f"{path} is missing (set {CAPSTONES_ENV} to a folder holding "
                            f"{capstone.folder}/{capstone.script})")
    return path


def usage() -> str:
    lines = ["usage: tinytorch run CAPSTONE [its options; CAPSTONE --help lists them]", "",
             "capstones (the extra that installs what each needs):"]
    for c in CAPSTONES.values():
        lines.append(f"  {c.name:<15} {'[' + c.extra + ']':<14} {c.about}")
    lines += ["", "Every capstone takes --out (the run folder, default runs/<name>), --seed and "
              "--threads; the trainers also --data, --resume and --force."]
    return "\n".join(lines)


def run_capstone(argv: list[str]) -> int:
    """`tinytorch run NAME ARGS...`: the capstone's exit status (2 for a bad name)."""
    if not argv or argv[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    try:
        script = script_path(argv[0])
    except CapstoneError as error:
        print(f"tinytorch run: error: {error}", file=sys.stderr)
        return 2
    env = dict(os.environ, **{RUN_AS_ENV: f"tinytorch run {argv[0]}"})
    sys.stdout.flush()
    child = subprocess.Popen([sys.executable, str(script), *argv[1:]], env=env)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:  # the child got the same Ctrl-C: it says what it kept
            continue
