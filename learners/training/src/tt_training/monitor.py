"""Watching a run: the metrics file (one JSON object per line) and the divergence rule.

The file is append-only while a run trains, so a plot or a report can read it at any time; a
line cut short by a crash is skipped by `read_metrics`. When a run resumes, the lines written
after its checkpoint describe steps that are about to be trained again, so they are dropped
(the file is rewritten through a temporary file and a rename) before training continues.
"""

import json
import math
import os
import time

from .checkpoint import atomic_write

METRICS_FILE = "metrics.jsonl"


class DivergenceError(RuntimeError):
    """Training stopped because its loss stopped being a number or exploded.

    `step`, `epoch` and `loss` say where; `checkpoint` is the last good checkpoint written
    before it (None when the run had none), left exactly as it was.
    """

    def __init__(self, message, step, epoch, loss, checkpoint=None):
        super().__init__(message)
        self.step, self.epoch, self.loss, self.checkpoint = step, epoch, loss, checkpoint


def _finite_or_none(value):
    """JSON has no NaN or infinity: such a value is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read_metrics(path):
    """The records of a metrics file, in order (a torn last line, from a crash, is skipped)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    records = []
    for number, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number < len(lines):  # only the last line may be incomplete
                raise ValueError(f"{path}: line {number} is not JSON: {line[:80]!r}") from None
    return records


class MetricsLog:
    """Appends one JSON line per record to `path` (None: a log that writes nothing)."""

    def __init__(self, path):
        self.path = None if path is None else os.fspath(path)

    def start(self, keep_until_step):
        """Keep only the records of steps <= keep_until_step (None: none); returns how many
        records were dropped."""
        if self.path is None or not os.path.exists(self.path):
            return 0
        records = read_metrics(self.path)
        kept = [] if keep_until_step is None else [
            r for r in records if r.get("step", 0) <= keep_until_step]
        text = "".join(json.dumps(r) + "\n" for r in kept)
        with open(self.path, encoding="utf-8") as f:
            unchanged = f.read() == text
        if not unchanged:  # records dropped, or a line torn by a crash: the next append is clean
            atomic_write(self.path, lambda f: f.write(text), mode="w")
        return len(records) - len(kept)

    def write(self, kind, step, epoch, wall_seconds, **values):
        """Append {"kind", "step", "epoch", "time", "wall_seconds", **values} as one line."""
        if self.path is None:
            return
        record = {"kind": kind, "step": step, "epoch": epoch, "time": time.time(),
                  "wall_seconds": wall_seconds}
        record.update({k: _finite_or_none(v) for k, v in values.items()})
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


def divergence(record, history, factor):
    """Why `record` says the run diverged (a sentence), or None when it did not.

    Divergence: a loss in the record is not finite, or its train_loss is more than `factor`
    times the lowest train_loss of the earlier records (factor None: only the first test).
    """
    for key, value in record.items():
        if key.endswith("loss") and isinstance(value, float) and not math.isfinite(value):
            return f"{key} is {value}"
    loss = record.get("train_loss")
    earlier = [h["train_loss"] for h in history if h.get("train_loss") is not None]
    if factor is None or loss is None or not earlier:
        return None
    best = min(earlier)
    if best > 0 and loss > factor * best:
        return f"train_loss {loss:.4g} is more than {factor:g} x its best ({best:.4g})"
    return None
