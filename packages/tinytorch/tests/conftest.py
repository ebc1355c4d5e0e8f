"""Tiny data for the milestone and grading tests, in the real formats, made in tmp folders.

CIFAR-10: the python pickles (`data` uint8 (N, 3072), `labels`), four classes told apart by
colour, so the course CNN learns them in a few dozen steps and an untrained one sits near 25%.
Text: a sentence repeated, over 28 characters, so a GPT learns it in tens of steps.

Every test also keeps the command's state (the last `tinytorch test` results) in its own folder,
never in the user's.
"""

import pickle

import numpy as np
import pytest

CLASSES = 4
COLOURS = np.array([[220, 40, 40], [40, 220, 40], [40, 40, 220], [220, 220, 40]])


def cifar_images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    """n images (n, 3072) uint8: a class colour plus noise; balanced labels 0..3."""
    labels = np.arange(n) % CLASSES
    rng.shuffle(labels)
    pixels = COLOURS[labels][:, :, None] + rng.normal(0, 40, (n, 3, 1024))  # (n, 3, 32*32)
    return np.clip(pixels, 0, 255).astype(np.uint8).reshape(n, 3072), labels.tolist()


def write_cifar(root, per_batch: int = 128, test: int = 256) -> None:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(7)
    files = {f"data_batch_{i}": per_batch for i in range(1, 6)} | {"test_batch": test}
    for name, n in files.items():
        data, labels = cifar_images(n, rng)
        with open(folder / name, "wb") as handle:
            pickle.dump({b"data": data, b"labels": labels}, handle)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse",
             b"ship", b"truck"]
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump({b"label_names": names}, handle)


def write_text(root) -> None:
    folder = root / "tinyshakespeare"
    folder.mkdir(parents=True)
    line = "the quick brown fox jumps over the lazy dog, said ROMEO.\n"
    (folder / "input.txt").write_text(line * 300, encoding="utf-8")


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """A --data folder with tiny CIFAR-10 batches and a tiny corpus."""
    root = tmp_path_factory.mktemp("data")
    write_cifar(root)
    write_text(root)
    return root


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    folder = tmp_path / "tinytorch-state"
    monkeypatch.setenv("TINYTORCH_STATE_DIR", str(folder))
    return folder
