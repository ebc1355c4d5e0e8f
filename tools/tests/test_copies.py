"""No copied code in the package sources (tools/copies.py): a new copy of six or more lines
fails here, naming both places."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import copies  # noqa: E402


def test_no_package_source_copies_another():
    assert copies.not_allowed(ROOT / "packages") == {}


def test_every_allowed_pair_is_still_a_copy():
    found = copies.copies(ROOT / "packages")
    assert [pair for pair in copies.ALLOWED if pair not in found] == []


def write(root, name, text):
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


BODY = "".join(f"    total = total + {i} * x  # step {i}\n" for i in range(6))


def test_a_copied_function_is_found_across_packages_and_reformatting(tmp_path):
    write(tmp_path, "tt-a/src/tt_a/one.py", "import os\n\ndef f(x):\n    total = 0\n" + BODY)
    reformatted = BODY.replace("    total = total", "        total  =  total")
    write(tmp_path, "tt-b/tests/test_two.py", "def g(x):\n    if x:\n" + reformatted)
    assert copies.copies(tmp_path) == {
        ("tt-a/src/tt_a/one.py", "tt-b/tests/test_two.py"): [(5, 3)]}


def test_five_shared_lines_and_allowed_pairs_pass(tmp_path):
    five = "".join(BODY.splitlines(keepends=True)[:5])
    write(tmp_path, "tt-a/src/tt_a/one.py", "def f(x):\n" + five)
    write(tmp_path, "tt-b/src/tt_b/two.py", "def g(x):\n" + five + "    return 1\n")
    assert copies.copies(tmp_path) == {}
    write(tmp_path, "tt-b/src/tt_b/two.py", "def g(x):\n" + BODY)
    write(tmp_path, "tt-a/src/tt_a/one.py", "def f(x):\n" + BODY)
    pair = ("tt-a/src/tt_a/one.py", "tt-b/src/tt_b/two.py")
    assert copies.not_allowed(tmp_path, allowed={pair: "a reason"}) == {}
    assert list(copies.not_allowed(tmp_path, allowed={})) == [pair]


def test_one_file_repeating_itself_is_found_but_not_its_own_overlap(tmp_path):
    write(tmp_path, "tt-a/src/tt_a/one.py", "def f(x):\n" + BODY + "def g(x):\n" + BODY)
    assert copies.copies(tmp_path) == {("tt-a/src/tt_a/one.py", "tt-a/src/tt_a/one.py"): [(2, 9)]}
