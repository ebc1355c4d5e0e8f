"""The noxfile uses nox's public API only, reads `tinytorch doctor` through --json, and runs
programs from files (tools/), never from a string."""

import ast

import pytest

from conftest import ROOT

TREE = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))


def dotted(node):
    """`nox.sessions._SessionQuit` for that attribute chain; None for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else None


def private_nox_names(tree):
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and (name := dotted(node)):
            if name.startswith("nox.") and any(p.startswith("_") for p in name.split(".")):
                found.add(name)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nox"):
            names = [node.module, *(alias.name for alias in node.names)]
            found.update(n for n in names if any(p.startswith("_") for p in n.split(".")))
    return found


def run_calls(tree):
    """The literal string arguments of every `session.run(...)` call."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and dotted(node.func) == "session.run":
            yield [arg.value for arg in node.args if isinstance(arg, ast.Constant)]


def test_no_private_nox_name():
    assert private_nox_names(TREE) == set()


@pytest.mark.parametrize("source, expected", [
    ("except nox.sessions._SessionQuit:\n    pass", {"nox.sessions._SessionQuit"}),
    ("from nox._option_set import X", {"nox._option_set"}),
    ("from nox.sessions import _SessionQuit", {"_SessionQuit"}),
    ("nox.options.sessions = []", set()),
])
def test_the_private_name_finder_finds_them(source, expected):
    if source.startswith("except"):
        source = "try:\n    pass\n" + source
    assert private_nox_names(ast.parse(source)) == expected


def test_no_program_in_a_string():
    calls = list(run_calls(TREE))
    assert calls, "the noxfile runs nothing?"
    assert not [args for args in calls if "-c" in args]


def test_doctor_is_read_as_json():
    doctor_calls = [args for args in run_calls(TREE) if "doctor" in args and "tinytorch" in args]
    reading = [args for args in doctor_calls if "--json" in args]
    assert reading, "the noxfile reads no doctor report"
    names = {alias.name for node in ast.walk(TREE) if isinstance(node, ast.Import)
             for alias in node.names}
    assert "re" not in names  # no scraping of the human report
