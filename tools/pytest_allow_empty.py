"""Run pytest with the given arguments; "no tests collected" (exit 5) counts as success.

A module package whose content is not built yet may have no tests; its tox env should pass.
"""

import sys

import pytest

NO_TESTS_COLLECTED = 5

if __name__ == "__main__":
    code = pytest.main(sys.argv[1:])
    if code == NO_TESTS_COLLECTED:
        print("pytest collected no tests: counted as a pass for a module not built yet")
        code = 0
    sys.exit(code)
