"""Tiny CIFAR-10 files in the official python layout, written by the tests themselves."""

import pickle

import numpy as np
import pytest

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck"]


def write_pickle(path, obj):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)  # protocol 2: what Python 2 era files look like


def write_cifar(folder, per_batch=4, n_test=3, bytes_keys=False, seed=0):
    """Write data_batch_1..5, test_batch and batches.meta; return the rows and labels written."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    key = (lambda k: k.encode()) if bytes_keys else (lambda k: k)
    written = {}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        n = n_test if name == "test_batch" else per_batch
        rows = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).tolist()
        write_pickle(folder / name, {key("batch_label"): key(name), key("labels"): labels,
                                     key("data"): rows, key("filenames"): [key("x.png")] * n})
        written[name] = (rows, np.array(labels))
    label_names = [key(c) for c in CLASSES]
    write_pickle(folder / "batches.meta", {key("label_names"): label_names,
                                           key("num_cases_per_batch"): per_batch,
                                           key("num_vis"): 3072})
    written["classes"] = list(CLASSES)
    return written


@pytest.fixture
def cifar_root(tmp_path):
    """(root, written): root holds cifar-10-batches-py with tiny str-keyed files."""
    root = tmp_path / "data"
    written = write_cifar(root / "cifar-10-batches-py")
    return root, written


@pytest.fixture
def cifar_writer():
    """The write_cifar function, for tests that need their own variant of the files."""
    return write_cifar


@pytest.fixture
def pickle_writer():
    return write_pickle
