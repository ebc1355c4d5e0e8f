"""Write a tiny CIFAR-10 in the official format (cifar-10-batches-py/: five train batches, a test
batch, batches.meta) for tests and the wheel smoke run; no real image is involved.

    python tools/fake_cifar.py FOLDER [--per-batch 40]

Each class gets a different mean colour, so a CNN can learn it in a few steps.
"""

import argparse
import pickle
from pathlib import Path

import numpy as np


def write_fake_cifar(root, per_batch=40, seed=0):
    """FOLDER/cifar-10-batches-py/ with `per_batch` random images per batch; returns root."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        labels = rng.integers(0, 10, per_batch)
        colours = (labels[:, None] * 25).repeat(3072, axis=1)
        data = np.clip(colours + rng.integers(0, 30, (per_batch, 3072)), 0, 255).astype(np.uint8)
        batch = {b"batch_label": name.encode(), b"labels": labels.tolist(), b"data": data,
                 b"filenames": [f"{i}.png".encode() for i in range(per_batch)]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    meta = {b"label_names": [f"class{i}".encode() for i in range(10)],
            b"num_cases_per_batch": per_batch}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return root


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("folder", help="where cifar-10-batches-py/ is written (must not hold one)")
    parser.add_argument("--per-batch", type=int, default=40, help="images per batch file")
    args = parser.parse_args()
    write_fake_cifar(args.folder, args.per_batch)
