"""The noxfile uses nox's public API only, reads `tinytorch doctor` through --json, and runs
programs from files (tools/), never from a string."""

import ast
import json

import pytest
import tt_setup

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


def is_doctor_row_call(node):
    """`doctor_row(...)` or `reported(session, doctor_row, ...)`: one module's doctor record."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        return False
    if node.func.id == "doctor_row":
        return True
    return node.func.id == "reported" and any(
        isinstance(arg, ast.Name) and arg.id == "doctor_row" for arg in node.args)


def literal_key(node):
    return node.slice.value if isinstance(node, ast.Subscript) \
        and isinstance(node.slice, ast.Constant) else None


def doctor_row_keys(tree):
    """The literal keys the noxfile reads from doctor records: `doctor_row(...)["kind"]`, and
    `row["kind"]` in a function where `row = doctor_row(...)` (or through `reported`)."""
    keys = {literal_key(node) for node in ast.walk(tree)
            if literal_key(node) and is_doctor_row_call(node.value)}
    for function in (node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)):
        rows = {target.id for node in ast.walk(function) if isinstance(node, ast.Assign)
                and is_doctor_row_call(node.value) for target in node.targets
                if isinstance(target, ast.Name)}
        keys |= {literal_key(node) for node in ast.walk(function) if literal_key(node)
                 and isinstance(node.value, ast.Name) and node.value.id in rows}
    return keys


def test_the_row_key_finder_finds_them():
    source = ('a = doctor_row(s, "x")["code"]\n'
              'def f():\n    row = reported(s, doctor_row, "x")\n    return row["pip"]\n'
              'def g(row):\n    return row["name"], other["kind"]\n')
    assert doctor_row_keys(ast.parse(source)) == {"code", "pip"}


def test_the_doctor_keys_read_are_the_ones_doctor_json_prints():
    """Every key the sessions read from a module's record is in what `tinytorch doctor --json`
    prints for each module (a key it does not print would be a KeyError mid-session)."""
    # `tinytorch doctor --json` prints tt_setup.report_dict of these three (tinytorch/cli.py);
    # built here from tt-setup, which the tools env installs (the meta-package it does not)
    report = tt_setup.report_dict(tt_setup.doctor(), tt_setup.module_report(),
                                  tt_setup.system_info())
    modules = json.loads(json.dumps(report))["modules"]
    printed = set.intersection(*(set(row) for row in modules))
    read = doctor_row_keys(TREE)
    assert read >= {"kind", "location", "pip", "version"}
    assert read - printed == set(), f"doctor --json prints {sorted(printed)}"
