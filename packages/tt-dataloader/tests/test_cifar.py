"""CIFAR10 on tiny files in the official layout: contents, splits, root lookup, bad files."""

import os
import pickle

import numpy as np
import pytest
from tt_dataloader import (
    CIFAR10, Compose, DataLoader, Normalize, RandomCrop, RandomHorizontalFlip,
)
from tt_tensor import Tensor

TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


def planes(rows):
    """The official row layout by hand: 1024 red, 1024 green, 1024 blue values, row-major."""
    return np.stack([rows[:, c * 1024:(c + 1) * 1024].reshape(-1, 32, 32) for c in range(3)], 1)


def test_train_split_contents(cifar_root):
    root, written = cifar_root
    train = CIFAR10(root)
    rows = np.concatenate([written[name][0] for name in TRAIN])
    labels = np.concatenate([written[name][1] for name in TRAIN])
    assert train.data.dtype == np.uint8 and train.data.shape == (20, 3, 32, 32)
    assert np.array_equal(train.data, planes(rows))
    assert train.targets.dtype == np.int64 and np.array_equal(train.targets, labels)
    assert train.classes == written["classes"] and train.class_to_idx["truck"] == 9
    assert len(train) == 20


def test_test_split_contents(cifar_root):
    root, written = cifar_root
    test = CIFAR10(root, train=False)
    assert len(test) == 3
    assert np.array_equal(test.data, planes(written["test_batch"][0]))
    assert np.array_equal(test.targets, written["test_batch"][1])


def test_items_are_float_images_in_unit_range(cifar_root):
    root, written = cifar_root
    image, label = CIFAR10(root, train=False)[1]
    assert image.dtype == np.float32 and image.shape == (3, 32, 32)
    assert np.allclose(image, planes(written["test_batch"][0])[1] / 255.0)
    assert isinstance(label, int) and label == written["test_batch"][1][1]


def test_bytes_keys_of_python2_files_are_read(tmp_path, cifar_writer):
    written = cifar_writer(tmp_path / "cifar-10-batches-py", bytes_keys=True)
    test = CIFAR10(tmp_path, train=False)
    assert np.array_equal(test.targets, written["test_batch"][1])
    assert test.classes == written["classes"]


def test_root_may_be_the_batches_folder_itself(cifar_root):
    root, _ = cifar_root
    assert len(CIFAR10(root / "cifar-10-batches-py", train=False)) == 3


def test_root_falls_back_to_tinytorch_data(cifar_root, monkeypatch):
    root, _ = cifar_root
    monkeypatch.setenv("TINYTORCH_DATA", str(root))
    dataset = CIFAR10(train=False)
    assert dataset.root == root and len(dataset) == 3


def test_no_root_and_no_environment_variable(monkeypatch):
    monkeypatch.delenv("TINYTORCH_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="TINYTORCH_DATA"):
        CIFAR10()


def test_missing_data_names_the_folder_and_the_remedies(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        CIFAR10(tmp_path / "nowhere")
    message = str(info.value)
    assert str(tmp_path / "nowhere" / "cifar-10-batches-py") in message
    assert "download=True" in message and "TINYTORCH_DATA" in message


def test_loader_yields_float32_images_and_int64_labels(cifar_root):
    root, _ = cifar_root
    train = CIFAR10(root, transform=Normalize([0.5] * 3, [0.25] * 3))
    loader = DataLoader(train, batch_size=8, shuffle=True, seed=0)
    assert loader.uses_batch_access
    labels = []
    for x, y in loader:
        assert isinstance(x, Tensor) and x.dtype == np.float32 and x.shape[1:] == (3, 32, 32)
        assert y.dtype == np.int64
        labels.extend(y.tolist())
    assert sorted(labels) == sorted(train.targets.tolist())


def test_transform_is_applied_per_batch(cifar_root):
    root, _ = cifar_root
    train = CIFAR10(root, transform=Normalize([0.5] * 3, [0.25] * 3))
    images, labels = train.get_batch(np.array([3, 0]))
    assert np.allclose(images, (train.data[[3, 0]] / 255.0 - 0.5) / 0.25, atol=1e-6)
    assert np.array_equal(labels, train.targets[[3, 0]])


def test_loader_state_restores_data_order_and_augmentation(cifar_root):
    root, _ = cifar_root

    def make(seed):
        augment = Compose([RandomCrop(32, padding=4, seed=seed), RandomHorizontalFlip(seed=seed)])
        return DataLoader(CIFAR10(root, transform=augment), 6, shuffle=True, seed=seed)

    a = make(1)
    list(a)
    state = a.state_dict()
    expected = [x.numpy() for x, _ in a]
    b = make(2)
    b.load_state_dict(state)
    got = [x.numpy() for x, _ in b]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert np.array_equal(g, e)


def corrupt(root, name, content):
    (root / "cifar-10-batches-py" / name).write_bytes(content)
    return str(root / "cifar-10-batches-py" / name)


@pytest.mark.parametrize("garbage", [b"<html><body>404 Not Found</body></html>\n",
                                     bytes(range(256)) * 4])
def test_garbage_file_is_named(cifar_root, garbage):
    root, _ = cifar_root
    corrupt(root, "data_batch_3", garbage)
    with pytest.raises(ValueError, match="data_batch_3.*corrupt or truncated"):
        CIFAR10(root)


def test_truncated_pickle_is_named(cifar_root):
    root, _ = cifar_root
    path = root / "cifar-10-batches-py" / "test_batch"
    whole = path.read_bytes()
    corrupt(root, "test_batch", whole[: len(whole) // 2])
    with pytest.raises(ValueError, match="test_batch.*truncated"):
        CIFAR10(root, train=False)


@pytest.mark.parametrize("entry, message", [
    ({"data": np.zeros((2, 3071), np.uint8), "labels": [0, 1]}, r"\(N, 3072\).*\(2, 3071\)"),
    ({"data": np.zeros((2, 3072), np.float32), "labels": [0, 1]}, r"uint8.*float32"),
    ({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 10]}, r"0\.\.9.*10"),
    ({"data": np.zeros((2, 3072), np.uint8), "labels": [-1, 1]}, r"0\.\.9.*-1"),
    ({"data": np.zeros((2, 3072), np.uint8), "labels": [0]}, r"2 integers"),
    ({"data": np.zeros((2, 3072), np.uint8)}, r"labels"),
    ([1, 2, 3], r"dict"),
])
def test_malformed_batches_name_the_file(cifar_root, pickle_writer, entry, message):
    root, _ = cifar_root
    pickle_writer(root / "cifar-10-batches-py" / "data_batch_2", entry)
    with pytest.raises(ValueError, match=message) as info:
        CIFAR10(root)
    assert "data_batch_2" in str(info.value)


class _Payload:
    """A pickle that would create a directory when loaded: the loader must refuse it."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (self.path,)


def test_pickles_that_would_run_code_are_refused(cifar_root, tmp_path):
    root, _ = cifar_root
    target = tmp_path / "pwned"
    corrupt(root, "test_batch", pickle.dumps({"data": _Payload(str(target)), "labels": []}))
    with pytest.raises(ValueError, match="test_batch.*refusing"):
        CIFAR10(root, train=False)
    assert not target.exists()


def test_bad_meta_file_is_named(cifar_root, pickle_writer):
    root, _ = cifar_root
    pickle_writer(root / "cifar-10-batches-py" / "batches.meta", {"label_names": ["a", "b"]})
    with pytest.raises(ValueError, match="batches.meta"):
        CIFAR10(root, train=False)
