"""Copied code in the package sources: runs of MIN_LINES or more identical lines shared by two
places (two files, or two places of one file) under packages/.

    python tools/copies.py          # the pairs not allowed below; exit 1 if there are any

Lines are compared after folding white space; blank lines, comments, docstring-free lone
punctuation and import lines are passed over, so a copy is found across reformatting. Code that
is alike by shape only (same lines with other names) is not found: this is the check that
fails on a new copy, not a review. `tools/tests/test_copies.py` runs it over the repository.
"""

import hashlib
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIN_LINES = 6
SKIPPED_PARTS = {"__pycache__", "build", "dist", ".tox", ".venv"}

# (file, file) pairs, as paths below packages/, that may share identical runs, each with its
# reason. The test fails on an entry that no longer names a pair, so the list cannot go stale.
_PENDING = (
    "a test file's plain_paths fixture (now three lines over tt_tensor.fast_paths_off) and its "
    "f64 helper, repeated in the test files of one package; waits for each package's "
    "tests/conftest.py"
)
ALLOWED = {
    ("tt-attention/tests/test_attention.py",
     "tt-attention/tests/test_gradients.py"): _PENDING,
    ("tt-normalization/tests/test_batchnorm.py",
     "tt-normalization/tests/test_gradients.py"): _PENDING,
    ("tt-spatial/tests/test_conv.py",
     "tt-spatial/tests/test_gradients.py"): _PENDING,
    ("tt-spatial/tests/test_conv.py",
     "tt-spatial/tests/test_pool.py"): _PENDING,
    ("tt-spatial/tests/test_gradients.py",
     "tt-spatial/tests/test_pool.py"): _PENDING,
}

# Pairs that `duplicates --repo packages` (a review tool that also matches code alike by shape,
# which this check does not) reports, judged alike but not copies; listed so that a review
# knows what was looked at. A new pair there is looked at the same way.
ALIKE_BY_SHAPE = {
    ("tinytorch/src/tinytorch/cli.py", "tinytorch/src/tinytorch/cli.py"):
        "argparse declarations of two subcommands",
    ("tt-systems/tests/test_export_validation.py", "tt-training/tests/test_checkpoint.py"):
        "each package's contract tests build a malformed .npy member of their own format; "
        "one package's tests never import another's",
    ("tt-autograd/tests/test_engine.py", "tt-tensor/tests/test_08_hooks_and_function.py"):
        "two small `Function` subclasses: the extension point's shape",
    ("tt-systems/src/tt_systems/profiler.py", "tt-systems/src/tt_systems/profiler.py"):
        "the fields of the op and module record dataclasses",
    ("tt-systems/tests/test_cli.py", "tt-systems/tests/test_cli_fuzz.py"):
        "boilerplate: running the CLI in a subprocess",
    ("tt-autograd/tests/test_primitive_gradients.py",
     "tt-autograd/tests/test_primitive_gradients.py"): "boilerplate: gradcheck case tables",
    ("*/tests/test_public_api.py", "*/tests/test_public_api.py"):
        "each module's own check that its __all__ resolves (the runs `duplicates` leaves out as "
        "too common): a module's contract tests run alone, from the course copy or its tox env, "
        "so they cannot import a shared one",
    ("tt-tensor/src/tt_tensor/ops.py", "tt-tensor/src/tt_tensor/ops.py"):
        "the primitives follow one pattern (check, compute, record); reworked with tt-tensor's "
        "task split, like composed.py, _methods.py and test_02_elementwise.py",
}

_SKIP = re.compile(r"^(#.*|[()\[\]{},:;]+|(from\s+\S+\s+)?import\s.*)$")


def code_lines(text):
    """[(line number, folded text)] of the lines that count."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        folded = " ".join(line.split())
        if folded and not _SKIP.match(folded):
            found.append((number, folded))
    return found


def sources(packages):
    """The .py files below `packages`, as paths relative to it (sorted)."""
    return sorted(p.relative_to(packages).as_posix() for p in packages.rglob("*.py")
                  if not SKIPPED_PARTS & set(p.relative_to(packages).parts))


def copies(packages, min_lines=MIN_LINES):
    """{(file a, file b): [(first line in a, first line in b), ...]} of shared runs."""
    places = defaultdict(list)  # window hash -> [(file, index into its code lines)]
    lines = {}
    for name in sources(packages):
        lines[name] = code_lines((packages / name).read_text(encoding="utf-8"))
        texts = [text for _, text in lines[name]]
        for i in range(len(texts) - min_lines + 1):
            key = hashlib.sha1("\n".join(texts[i:i + min_lines]).encode()).digest()
            places[key].append((name, i))
    pairs = defaultdict(set)
    for spots in places.values():
        for k, (a, i) in enumerate(spots):
            for b, j in spots[k + 1:]:
                if a != b or abs(i - j) >= min_lines:  # a run never pairs with its own overlap
                    pairs[(a, b)].add((lines[a][i][0], lines[b][j][0]))
    return {pair: sorted(runs) for pair, runs in sorted(pairs.items())}


def not_allowed(packages, allowed=ALLOWED):
    return {pair: runs for pair, runs in copies(packages).items() if pair not in allowed}


def main():
    found = not_allowed(ROOT / "packages")
    for (a, b), runs in found.items():
        where = ", ".join(f"{i}~{j}" for i, j in runs[:5])
        print(f"packages/{a} ~ packages/{b}: {len(runs)} shared runs of {MIN_LINES}+ lines "
              f"starting at lines {where}")
    if found:
        print("copied code: share it (a helper, a conftest fixture) or add the pair with its "
              "reason to ALLOWED in tools/copies.py")
        return 1
    print("copies check: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
