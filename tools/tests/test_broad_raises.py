"""Every contract test that expects RuntimeError, Exception or BaseException also matches the
message: NotImplementedError is a RuntimeError, so a bare `pytest.raises(RuntimeError)` passes
on a learner's stub that implements nothing."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# NotImplementedError's base classes: a raises() of one of these alone is satisfied by a stub
BROAD = {cls.__name__ for cls in NotImplementedError.__mro__[1:] if cls is not object}


def _names(node):
    """The exception names a raises() argument lists (one name, or a tuple of them)."""
    items = node.elts if isinstance(node, ast.Tuple) else [node]
    return {item.id if isinstance(item, ast.Name) else getattr(item, "attr", "")
            for item in items}


def bare_broad_raises(text, filename="<test>"):
    """[(line, names)] of `pytest.raises(<broad>)` calls without match=."""
    found = []
    for node in ast.walk(ast.parse(text, filename=filename)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "raises" and node.args
                and not any(k.arg == "match" for k in node.keywords)):
            broad = _names(node.args[0]) & BROAD
            if broad:
                found.append((node.lineno, sorted(broad)))
    return found


def test_no_contract_test_expects_a_broad_error_without_its_message():
    found = [f"{path.relative_to(ROOT).as_posix()}:{line}: pytest.raises({', '.join(names)})"
             for path in sorted(ROOT.glob("packages/*/tests/**/*.py"))
             for line, names in bare_broad_raises(path.read_text(encoding="utf-8"), str(path))]
    assert found == [], "add match= (or expect a narrower type):\n" + "\n".join(found)


def test_the_check_sees_every_broad_form():
    assert BROAD == {"RuntimeError", "Exception", "BaseException"}
    text = """
import pytest
def test_x():
    with pytest.raises(RuntimeError):
        pass
    with pytest.raises((ValueError, Exception)) as info:
        pass
    with pytest.raises(builtins.BaseException):
        pass
    with pytest.raises(RuntimeError, match="grad"):
        pass
    with pytest.raises(ValueError):
        pass
"""
    assert bare_broad_raises(text) == [(4, ["RuntimeError"]), (6, ["Exception"]),
                                       (8, ["BaseException"])]
