"""The child process of `tinytorch test`: pytest with a plugin that records a per-file summary.

    python -m tinytorch._contract_child RESULT.json TESTS_DIR [--select PATTERNS.json] [ARGS...]

With --select, only the tests that a task map pattern of the JSON list names run (the others
are deselected, as `-k` would): `tinytorch test <module> --task NAME`.

The parent (tinytorch.contract) reads RESULT.json; when this process dies before writing it
(a learner's code may call os._exit or crash the interpreter), the parent says so.
"""

from __future__ import annotations

import json
import re
import sys

import pytest

STUB = re.compile(r"NotImplementedError: (tt-[a-z]+: .+)")


def _counts() -> dict:
    return {"passed": 0, "failed": 0, "skipped": 0, "errors": 0, "stubs": {},
            "collection_error": None, "first_failure": None}


def stub_message(error: BaseException | None) -> str | None:
    """The message of a NotImplementedError in `error` or its cause/context chain."""
    for _ in range(20):
        if error is None:
            return None
        if isinstance(error, NotImplementedError):
            return str(error)
        error = error.__cause__ or error.__context__
    return None


def last_error_line(text: str) -> str:
    """The most telling line of a pytest error report: a stub message, else the last `E` line."""
    stub = STUB.search(text)
    if stub:
        return f"NotImplementedError: {stub.group(1).strip()}"
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (errors or lines or ["(no message)"])[-1][:300]


def error_text(excinfo) -> str:
    """`Type: first line of the message` of a test's exception, at most 300 characters."""
    lines = str(excinfo.value).strip().splitlines()
    return f"{excinfo.typename}: {lines[0] if lines else ''}"[:300]


class Summary:
    """Counts passed/failed/skipped per test file and the stub messages that failed them."""

    def __init__(self):
        self.files: dict[str, dict] = {}
        self.stub_by_test: dict[str, str] = {}
        self.error_by_test: dict[str, str] = {}
        # node id -> {"outcome": passed|failed|skipped, "stub": message, "error": text}
        self.tests: dict[str, dict] = {}

    def entry(self, nodeid: str) -> dict:
        return self.files.setdefault(nodeid.split("::")[0], _counts())

    def pytest_collectreport(self, report):
        if report.failed:
            counts = self.entry(report.nodeid or "(collection)")
            counts["errors"] += 1
            counts["collection_error"] = last_error_line(report.longreprtext)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.failed and call.excinfo is not None:
            message = stub_message(call.excinfo.value)
            if message is not None:
                self.stub_by_test[item.nodeid] = message
            else:
                self.error_by_test[item.nodeid] = error_text(call.excinfo)

    def pytest_runtest_logreport(self, report):
        self.record_test(report)
        counts = self.entry(report.nodeid)
        if report.when == "call" or (report.when == "setup" and not report.passed):
            outcome = "errors" if report.when == "setup" and report.failed else report.outcome
            counts[outcome] += 1
        elif report.when == "teardown" and report.failed:
            counts["errors"] += 1
        if report.failed:
            message = self.stub_by_test.get(report.nodeid)
            if message is not None:
                counts["stubs"][message] = counts["stubs"].get(message, 0) + 1
            elif counts["first_failure"] is None:
                test = report.nodeid.split("::", 1)[-1]
                error = self.error_by_test.get(report.nodeid) or last_error_line(
                    report.longreprtext)
                counts["first_failure"] = f"{test}: {error}"


    def record_test(self, report):
        """One outcome per test: a failure in any phase wins over the call's pass."""
        test = self.tests.setdefault(report.nodeid, {"outcome": "passed", "stub": None,
                                                     "error": None})
        if report.failed:
            if test["outcome"] != "failed":
                test["stub"] = self.stub_by_test.get(report.nodeid)
                test["error"] = self.error_by_test.get(report.nodeid) or last_error_line(
                    report.longreprtext)
            test["outcome"] = "failed"
        elif report.skipped and test["outcome"] == "passed":
            test["outcome"] = "skipped"


class Select:
    """Deselects every collected test that none of the task map patterns names."""

    def __init__(self, patterns: list[str]):
        self.patterns = patterns

    def pytest_collection_modifyitems(self, config, items):
        from .tasks import matches, node_key

        keep, drop = [], []
        for item in items:
            key = node_key(item.nodeid)
            (keep if any(matches(p, key) for p in self.patterns) else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep


def main(argv: list[str]) -> int:
    result_path, tests_dir, *pytest_args = argv
    summary = Summary()
    plugins = [summary]
    if pytest_args[:1] == ["--select"]:
        with open(pytest_args[1], encoding="utf-8") as file:
            plugins.append(Select(json.load(file)))
        pytest_args = pytest_args[2:]
    status = pytest.main([tests_dir, *pytest_args], plugins=plugins)
    with open(result_path, "w", encoding="utf-8") as file:
        json.dump({"exitstatus": int(status), "files": summary.files, "tests": summary.tests},
                  file)
    return int(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
