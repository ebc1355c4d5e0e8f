"""Fill a `tinytorch new` scaffold back from the reference and check it round-trips.

    python tools/fill_check.py <module> <scaffold folder>

Used by `nox -s swap`: every solution region of the scaffold gets the reference's code back, and
then each of its source files must equal the reference's byte for byte (the markers round-trip).
Exits 1 naming the first file that differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tinytorch.course import course_entry
from tinytorch.new import fill_package


def differing_files(module: str, dest: Path) -> list[Path]:
    """Fill `dest` from the reference of `module`; the filled files that differ from it."""
    entry = course_entry(module)
    fill_package(dest, entry)
    differ = []
    for reference in sorted(entry.source_dir.rglob("*.py")):
        if "__pycache__" in reference.parts or reference.name == "_version.py":
            continue
        mine = dest / "src" / entry.import_name / reference.relative_to(entry.source_dir)
        if not mine.is_file() or mine.read_text() != reference.read_text():
            differ.append(mine)
    return differ


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    module, dest = argv[0], Path(argv[1])
    differ = differing_files(module, dest)
    if differ:
        print(f"{differ[0]} differs from the reference after the fill "
              f"({len(differ)} file(s) differ)", file=sys.stderr)
        return 1
    print(f"filled {dest} from the reference of {module}: identical to it")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
