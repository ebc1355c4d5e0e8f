"""tools/tasks.py check: a task map whose tests reach a later task, or never call their own
task, is reported (the logic, on a made-up map; running it on a package takes minutes)."""

import tasks


def test_order_problems_names_a_test_that_calls_a_later_task():
    mapping = {"first": ["t.py::test_a", "t.py::test_both"], "second": ["t.py::test_b"]}
    calls = {"t.py::test_a": {"first"}, "t.py::test_both": {"first", "second"},
             "t.py::test_b": {"first", "second"}, "t.py::test_other": set()}
    assert tasks.order_problems(mapping, calls) == [
        "first: t.py::test_both also calls the later task(s) second"]


def test_order_problems_names_a_test_that_never_calls_its_task():
    mapping = {"first": ["t.py::test_a"], "second": ["t.py::test_*"]}
    calls = {"t.py::test_a[1]": {"first"}, "t.py::test_b": {"second"}}
    assert tasks.order_problems(mapping, calls) == [
        "second: t.py::test_a[1] never calls second"]


def test_a_map_in_order_has_no_problem():
    mapping = {"first": ["t.py::test_a"], "second": ["t.py::test_b", "t.py::test_c[x]"]}
    calls = {"t.py::test_a": {"first"}, "t.py::test_b": {"first", "second"},
             "t.py::test_c[x]": {"second"}, "t.py::test_c[y]": {"first", "second"}}
    assert tasks.order_problems(mapping, calls) == []
