"""The gradebook (CSV) and the per-student report, both made from results/<student>.json."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tt_setup import write_atomically

COLUMNS = ["student", "status", "score", "milestone_1", "milestone_2", "milestone_3",
           "xor_accuracy", "cifar_test_accuracy", "cifar_seconds", "gpt_val_loss",
           "contract_passed", "contract_failed", "packages", "seconds", "notes"]


def milestone(result: dict, number: int) -> dict:
    return next((m for m in result["milestones"] if m["number"] == number), {})


def gradebook_row(result: dict) -> dict:
    """One CSV row: statuses, the measured figures, the contract test counts, the notes."""
    row = {"student": result["student"], "status": result["status"],
           "score": f"{result['score']:.2f}", "seconds": result.get("seconds", ""),
           "packages": " ".join(sorted(result["packages"])),
           "contract_passed": sum(c["passed"] for c in result["contract"].values()),
           "contract_failed": sum(c["failed"] for c in result["contract"].values()),
           "notes": "; ".join(result["notes"])}
    for number in (1, 2, 3):
        row[f"milestone_{number}"] = milestone(result, number).get("status", "not run")
    figures = {"xor_accuracy": (1, "accuracy"), "cifar_test_accuracy": (2, "test_accuracy"),
               "cifar_seconds": (2, "train_seconds"), "gpt_val_loss": (3, "val_loss")}
    for column, (number, key) in figures.items():
        value = milestone(result, number).get("measured", {}).get(key)
        row[column] = "" if value is None else f"{value:.4f}" if key != "train_seconds" \
            else f"{value:.0f}"
    return row


def read_results(folders: list[Path]) -> dict[str, dict]:
    """Every results/<student>.json under the given output folders (a later folder wins)."""
    results = {}
    for folder in folders:
        for path in sorted((folder / "results").glob("*.json")):
            result = json.loads(path.read_text(encoding="utf-8"))
            results[result["student"]] = result
    return results


def write_gradebook(path: Path, results: dict[str, dict]) -> None:
    """gradebook.csv: one row per student, sorted by name (written atomically)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for name in sorted(results):
        writer.writerow(gradebook_row(results[name]))
    write_atomically(path, buffer.getvalue())


def student_text(result: dict) -> str:
    """The readable report of one student."""
    lines = [f"{result['student']} ({result['submission']}): {result['status']}, "
             f"score {result['score']:.0%}", ""]
    for dist, counts in result["contract"].items():
        limit = f", stopped by the {counts['limit']} limit" if counts["limit"] else ""
        lines.append(f"contract tests of {dist}: {counts['passed']} passed, {counts['failed']} "
                     f"failed, {counts['skipped']} skipped ({counts['seconds']} s{limit})")
    for m in result["milestones"]:
        lines.append(f"{m['title']} (weight {m['weight']:.0%}): {m['status']}: {m['message']}")
    for module in result.get("modules", []):
        if module["installed"] and module["distribution"] in result["packages"]:
            lines.append(f"submitted {module['distribution']} {module['version']} "
                         f"({module['kind']}), sha256 {module['sha256']}")
    lines += [f"note: {note}" for note in result["notes"]]
    return "\n".join(lines) + "\n"
