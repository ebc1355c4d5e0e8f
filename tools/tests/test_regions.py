"""Code after a solution region reads none of the region's locals (tools/regions.py)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import regions  # noqa: E402


def test_no_package_reads_a_region_local_after_the_region():
    assert regions.check(ROOT) == []


FRAGMENT = '''
def quantize(x):
    """doc"""
    total = 0
    ### BEGIN SOLUTION
    scale = x.max()
    total = total + scale
    q = x / scale
    ### END SOLUTION
    return q, total
'''


def test_a_read_of_a_region_local_is_found_even_if_bound_before():
    # `q` is the region's own; `total` is rebound by the region, so the return is its result too
    assert regions.leaks(FRAGMENT) == [(10, "q", 5), (10, "total", 5)]


def test_a_region_that_returns_and_nested_functions_pass():
    whole = FRAGMENT.replace("    ### END SOLUTION\n    return q, total\n",
                             "    return q, total\n    ### END SOLUTION\n")
    assert regions.leaks(whole) == []
    nested = '''
def outer(x):
    ### BEGIN SOLUTION
    y = x + 1
    ### END SOLUTION
    def inner(y):
        return y
    return inner(x)
'''
    assert regions.leaks(nested) == []  # inner's `y` is its parameter, not the region's


def test_the_whole_repository_is_checked(tmp_path):
    src = tmp_path / "packages" / "tt-x" / "src" / "tt_x"
    src.mkdir(parents=True)
    (src / "mod.py").write_text(FRAGMENT)
    assert regions.check(tmp_path) == [("packages/tt-x/src/tt_x/mod.py", 10, "q", 5),
                                       ("packages/tt-x/src/tt_x/mod.py", 10, "total", 5)]
