"""Every public name of tt_setup imports: the contract other packages rely on."""

import importlib


def test_all_names_resolve():
    module = importlib.import_module("tt_setup")
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == [], f"tt_setup.__all__ names that do not exist: {missing}"


def test_version_is_a_string():
    module = importlib.import_module("tt_setup")
    assert module.__version__.count(".") >= 2


def test_importing_tt_setup_leaves_numpy_unloaded():
    # a capstone imports tinytorch (which reads the course table from tt_setup) and only then
    # sets BLAS's thread count, which BLAS reads once, when NumPy loads it
    import subprocess
    import sys

    code = ("import sys, tt_setup\n"
            "tt_setup.course_table(); tt_setup.module_report()\n"
            "print('numpy' in sys.modules)\n"
            "tt_setup.seed_everything(0)\n"
            "print('numpy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]
