"""CIFAR-10 checksums: full-size batch files must be a known version of the file; verify=True
holds every file to the manifest; a file with overwritten pixels fails naming the file."""

import hashlib
import pickle

import numpy as np
import pytest
from tt_dataloader import CIFAR10, CIFAR10_MANIFEST

OFFICIAL = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest_of(folder, algorithm="sha256"):
    """A manifest that knows exactly the files the test wrote."""
    digest = {"sha256": sha256, "md5": lambda p: hashlib.md5(p.read_bytes()).hexdigest()}
    return {path.name: {algorithm: [digest[algorithm](path)]} for path in folder.iterdir()}


def overwrite_pixels(path, rows, count=1000, seed=0):
    """Change `count` pixel bytes of `path` in place, keeping the pickle readable.

    A protocol-2 pickle from Python 3 holds the pixel bytes as latin-1 text encoded in UTF-8,
    where every byte below 0x80 is one character: flipping its lowest bit changes one pixel.
    """
    data = bytearray(path.read_bytes())
    encoded = rows.tobytes().decode("latin1").encode("utf-8")
    start = bytes(data).index(encoded)
    ascii_at = [start + i for i, b in enumerate(encoded) if b < 0x80]
    chosen = np.random.default_rng(seed).choice(ascii_at, size=count, replace=False)
    for i in chosen:
        data[i] ^= 1
    path.write_bytes(bytes(data))


def test_the_shipped_manifest_covers_every_official_file():
    assert set(CIFAR10_MANIFEST) == set(OFFICIAL) | {"batches.meta"}
    for name in OFFICIAL:
        assert CIFAR10_MANIFEST[name]["records"] == 10000
    for entry in CIFAR10_MANIFEST.values():
        assert all(len(d) == 32 for d in entry["md5"])
        assert all(len(d) == 64 for d in entry["sha256"])


def test_verify_true_names_a_file_with_1000_overwritten_pixel_bytes(cifar_root):
    root, written = cifar_root
    folder = root / "cifar-10-batches-py"

    class Known(CIFAR10):
        manifest = manifest_of(folder)

    assert len(Known(root, train=True, verify=True)) == 5 * 4      # the files as written
    overwrite_pixels(folder / "data_batch_3", written["data_batch_3"][0])
    # the file still reads: only the checksum can tell
    changed = CIFAR10(root, train=True, verify=False).data[8:12].reshape(4, -1)
    assert (changed != written["data_batch_3"][0]).sum() == 1000
    with pytest.raises(ValueError, match=r"data_batch_3 matches no known version"):
        Known(root, train=True, verify=True)
    assert len(Known(root, train=False, verify=True)) == 3      # the other files still load


def test_md5_digests_are_accepted_too(cifar_root):
    root, _ = cifar_root

    class Official(CIFAR10):
        manifest = manifest_of(root / "cifar-10-batches-py", "md5")

    assert len(Official(root, train=False, verify=True)) == 3


def test_verify_true_refuses_a_file_the_manifest_does_not_know(cifar_root):
    root, _ = cifar_root

    class Partial(CIFAR10):
        manifest = {"test_batch": {"sha256": [sha256(root / "cifar-10-batches-py" /
                                                     "test_batch")]}}

    with pytest.raises(ValueError, match=r"batches\.meta: verify=True, but the manifest"):
        Partial(root, train=False, verify=True)


def test_by_default_small_files_are_not_held_to_the_official_digests(cifar_root):
    root, _ = cifar_root
    # tiny hand-made files: not official files, so only their structure is checked
    assert len(CIFAR10(root, train=True)) == 20


def test_by_default_a_full_size_batch_must_be_a_known_version(tmp_path, cifar_writer):
    folder = tmp_path / "cifar-10-batches-py"
    cifar_writer(folder)
    rows = np.zeros((10000, 3072), dtype=np.uint8)
    with open(folder / "test_batch", "wb") as f:
        pickle.dump({"data": rows, "labels": [0] * 10000}, f, protocol=2)
    with pytest.raises(ValueError, match=r"test_batch matches no known version of test_batch"):
        CIFAR10(tmp_path, train=False)
    assert len(CIFAR10(tmp_path, train=False, verify=False)) == 10000


@pytest.mark.parametrize("verify", ["yes", 1.0, 0, "auto"])
def test_verify_must_be_none_true_or_false(cifar_root, verify):
    with pytest.raises(ValueError, match="verify must be None, True or False"):
        CIFAR10(cifar_root[0], verify=verify)
