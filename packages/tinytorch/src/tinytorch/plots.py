"""The capstones' pictures, with matplotlib as an optional extra (`tinytorch[plots]`).

`pyplot()` is matplotlib's pyplot on the file-only Agg backend, or None when matplotlib is not
installed; the capstones then say `PLOTS_HINT` once and keep the data in results.json.
`plot_curves` draws a run's loss, accuracy and learning rate from metrics.jsonl records
(tt_training's `read_metrics`) or from a history list of the same keys. Every picture is
written to a temporary name and renamed, so a crash never leaves half a PNG.
"""

from __future__ import annotations

import io
from pathlib import Path

PLOTS_HINT = "pip install 'tinytorch[plots]'"

__all__ = ["PLOTS_HINT", "missing_note", "plot_curves", "pyplot", "save_figure"]


def pyplot():
    """matplotlib.pyplot drawing to files only, or None when matplotlib is not installed."""
    try:
        import matplotlib
    except ModuleNotFoundError:
        return None
    matplotlib.use("Agg")  # no window, no display needed
    import matplotlib.pyplot as plt

    return plt


def missing_note(names: list[str], results: str = "results.json") -> str:
    """The one line a run prints when it cannot draw its pictures."""
    return (f"no pictures ({', '.join(names)}): matplotlib is not installed; "
            f"{PLOTS_HINT} to get them (the data is in {results})")


def save_figure(fig, path) -> Path:
    """Save `fig` to `path` (format from the suffix) through a temporary file; close it."""
    path = Path(path)
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format=path.suffix.lstrip(".") or "png", dpi=100)
    finally:
        import matplotlib.pyplot as plt  # only reached with matplotlib installed

        plt.close(fig)  # pyplot keeps every figure alive until closed
    # imported here: tt_setup loads NumPy, and a capstone imports this module before it sets
    # its thread count (which must happen before NumPy loads its BLAS)
    from tt_setup import write_atomically

    return write_atomically(path, buffer.getvalue())


def _series(records, key, x_key):
    points = [(r[x_key], r[key]) for r in records if r.get(key) is not None and x_key in r]
    return [x for x, _ in points], [y for _, y in points]


def plot_curves(plt, records, path, x_key="step", title=""):
    """Loss (train and every *_loss), accuracy (every *_accuracy) and learning rate against
    `x_key`, one panel each (a panel with no data is left out). `records`: dicts, e.g. the
    "epoch"/"eval" lines of metrics.jsonl."""
    keys = sorted({k for r in records for k in r})
    panels = [("loss", [k for k in keys if k == "loss" or k.endswith("_loss")]),
              ("accuracy", [k for k in keys if k.endswith("accuracy")]),
              ("learning rate", [k for k in keys if k == "lr"])]
    panels = [(name, ks) for name, ks in panels if any(_series(records, k, x_key)[0] for k in ks)]
    if not panels:
        raise ValueError(f"plot_curves: no loss, accuracy or lr values in {len(records)} records")
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), squeeze=False)
    for ax, (name, ks) in zip(axes[0], panels):
        for key in ks:
            xs, ys = _series(records, key, x_key)
            ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, label=key)
        ax.set(xlabel=x_key, ylabel=name, title=name)
        if name == "learning rate":
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)
