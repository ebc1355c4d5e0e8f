"""CIFAR-10 from the official python layout: root/cifar-10-batches-py/{data_batch_1..5, ...}.

Each batch file is a pickled dict: 'data' uint8 (N, 3072), each row 1024 red, 1024 green and
1024 blue values of a 32x32 image in row-major order; 'labels' N ints in 0..9. batches.meta holds
'label_names'. The official files come from Python 2, so keys may be bytes (b'data') or str.

Every file is checked for what its format promises (keys, dtype, shape, one label in 0..9 per
image) and, when it claims to be a full official batch (10,000 images), against the checksums
of the known versions of that file in CIFAR10_MANIFEST.
"""

import hashlib
import os
import pickle
from pathlib import Path

import numpy as np

from .dataset import Dataset
from .download import download_url, extract_archive
from .transforms import to_float_images

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
DATA_ENV_VAR = "TINYTORCH_DATA"

# The known versions of each file. md5: the official release (the digests torchvision also
# checks). sha256: the rebuild from pjreddie's lossless PNG export of CIFAR-10, whose pixels,
# labels, order and batch labels are the official ones; only its 'filenames' lists differ
# (darknet's names), so its digests differ too. "records": images in a full batch file.
_OFFICIAL_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
_REBUILT_SHA256 = {
    "data_batch_1": "a7ef495604ca7e7b74ba353b3b581474d1e1ffbb94593ab691a1bfe99600bdb2",
    "data_batch_2": "c7edb8147b1903ed60bf7b8151b6b388e1f33187f66e521ae83c5ba9df72c014",
    "data_batch_3": "eff638a50eedfa29d9faa4d551846ba4f119928c7ab556a1ebd215b2a9dbcb76",
    "data_batch_4": "e40d3d51d5f8b5df6b0017f910dd23132a6d79585c4a193521dc4335ceb626ec",
    "data_batch_5": "b1a12954424a8b86ef5c14c6d77248526b89dd96d37ab90f812f215e82dc5b59",
    "test_batch": "ff51a4d93f23d737dce7b75c45bfc66d9e5c2613d55e26757c3f59fda8b8e0df",
    "batches.meta": "f962466ef690d46b226450fb9aadc74ba4bc64a76aa526b5827fe4bc5c7125cb",
}
CIFAR10_MANIFEST = {
    name: {"md5": [md5], "sha256": [_REBUILT_SHA256[name]],
           **({} if name == "batches.meta" else {"records": 10000})}
    for name, md5 in _OFFICIAL_MD5.items()
}

# What a pickled NumPy array needs, and nothing more: a data file must not be able to run code.
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a CIFAR-10 file "
                                         f"holds only arrays, lists, strings and numbers")
        return super().find_class(module, name)


def _unpickle(path):
    """The dict stored in `path`, with bytes keys decoded to str; errors name the file."""
    try:
        with open(path, "rb") as f:
            entry = _ArrayUnpickler(f, encoding="latin1").load()
    except Exception as err:  # garbage and truncated files fail in many different ways
        raise ValueError(f"CIFAR10: {path} is not a readable CIFAR-10 pickle "
                         f"({type(err).__name__}: {err}); the file is corrupt or truncated: "
                         f"delete it and download again") from err
    if not isinstance(entry, dict):
        raise ValueError(f"CIFAR10: {path} should hold a dict, got {type(entry).__name__}")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in entry.items()}


def _load_batch(path):
    """One batch file -> (images uint8 (N, 3, 32, 32), labels int64 (N,)), validated.

    Each check raises ValueError naming `path` and what was found: missing keys name them
    ("labels"); data not uint8 names both dtypes ("... uint8 ..., got float32"); data not
    (N, 3072) names both shapes ("(N, 3072) ... (2, 3071)"); labels not N integers say
    "N integers" with N the number of images ("2 integers"); a label outside 0..9 says "0..9"
    and shows the value. A row of data is the red, green, blue 32x32 planes one after another.
    """
    entry = _unpickle(path)
    ### BEGIN SOLUTION
    missing = [key for key in ("data", "labels") if key not in entry]
    if missing:
        raise ValueError(f"CIFAR10: {path} lacks the keys {missing}, has {sorted(entry)}")
    data, labels = entry["data"], np.asarray(entry["labels"])
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != 3 * 32 * 32:
        shown = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data)
        raise ValueError(f"CIFAR10: {path}: 'data' must be uint8 of shape (N, 3072), "
                         f"got {shown}")
    if labels.shape != (data.shape[0],) or (labels.size and labels.dtype.kind not in "iu"):
        raise ValueError(f"CIFAR10: {path}: 'labels' must be {data.shape[0]} integers "
                         f"(one per image), got {labels.dtype} {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"CIFAR10: {path}: labels must be in 0..9, got values from "
                         f"{labels.min()} to {labels.max()}")
    # a row is the red, green, blue planes one after the other: a free reshape to NCHW
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)
    ### END SOLUTION


def _load_classes(path):
    names = _unpickle(path).get("label_names")
    if not isinstance(names, list) or len(names) != 10:
        raise ValueError(f"CIFAR10: {path}: 'label_names' must be a list of 10 names, "
                         f"got {names!r:.80}")
    return [n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names]


def _digests(path):
    """(md5, sha256) hex digests of the file at `path`, read once in 1 MiB chunks."""
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            md5.update(chunk)
            sha256.update(chunk)
    return md5.hexdigest(), sha256.hexdigest()


def _resolve_root(root):
    if root is None:
        root = os.environ.get(DATA_ENV_VAR)
        if not root:
            raise FileNotFoundError(f"CIFAR10: no root given and {DATA_ENV_VAR} is not set; "
                                    f"pass root=DIR (the directory holding cifar-10-batches-py)"
                                    f" or set the {DATA_ENV_VAR} environment variable")
    return Path(root).expanduser()


class CIFAR10(Dataset):
    """The 60,000 32x32 colour images of CIFAR-10 (50,000 train, 10,000 test), 10 classes.

    Images stay uint8 (N, 3, 32, 32) in memory; each batch becomes float32 in [0, 1] and then
    goes through `transform` (a batch transform). root=None reads $TINYTORCH_DATA.
    verify: None checks the checksum of full-size batch files, True of every file, False none.
    """

    url = CIFAR10_URL  # class attributes, so a test can point them at a local file:// archive
    md5 = CIFAR10_MD5
    filename = "cifar-10-python.tar.gz"
    base_folder = "cifar-10-batches-py"
    train_list = [f"data_batch_{i}" for i in range(1, 6)]
    test_list = ["test_batch"]
    meta_file = "batches.meta"

    manifest = CIFAR10_MANIFEST  # a class attribute too, so a test can give its own digests

    def __init__(self, root=None, train=True, transform=None, download=False, verify=None):
        if not any(verify is allowed for allowed in (None, True, False)):  # 1 == True
            raise ValueError(f"CIFAR10: verify must be None, True or False, got {verify!r}")
        self.root = _resolve_root(root)
        self.train = bool(train)
        self.transform = transform
        self.verify = verify
        if download:
            self.download()
        files = self.train_list if self.train else self.test_list
        missing = self._missing(files + [self.meta_file])
        if missing:
            raise FileNotFoundError(
                f"CIFAR10: {self.folder} lacks {', '.join(missing)}. Pass download=True to fetch "
                f"{self.url} into {self.root}, or point root= (or the {DATA_ENV_VAR} environment "
                f"variable) at the directory that holds {self.base_folder}")
        parts = [self._load_checked(name) for name in files]
        self.data = np.concatenate([images for images, _ in parts])  # (N, 3, 32, 32) uint8
        self.targets = np.concatenate([labels for _, labels in parts])  # (N,) int64
        self.classes = _load_classes(self.folder / self.meta_file)
        self._check_digest(self.meta_file, records=None)
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    @property
    def folder(self):
        """root/cifar-10-batches-py, or root itself when it already is that folder."""
        nested = self.root / self.base_folder
        if not nested.is_dir() and (self.root / self.meta_file).is_file():
            return self.root
        return nested

    def _load_checked(self, name):
        images, labels = _load_batch(self.folder / name)
        self._check_digest(name, records=len(labels))
        return images, labels

    def _check_digest(self, name, records):
        """verify=None: a batch of a full official batch's size must match a known version of
        the file (smaller files, such as tests' own, are not official files); True: every file
        must; False: no checksums."""
        entry = self.manifest.get(name)
        if self.verify is False or (self.verify is None and (
                entry is None or records is None or records != entry.get("records"))):
            return
        path = self.folder / name
        if entry is None:
            raise ValueError(f"CIFAR10: {path}: verify=True, but the manifest knows no {name}")
        md5, sha256 = _digests(path)
        if md5 not in entry.get("md5", ()) and sha256 not in entry.get("sha256", ()):
            raise ValueError(f"CIFAR10: {path} matches no known version of {name} (its sha256 "
                             f"is {sha256}): the file is corrupt or was modified. Delete it and "
                             "download again, or pass verify=False to load it anyway")

    def _missing(self, names):
        return [name for name in names if not (self.folder / name).is_file()]

    def download(self):
        """Fetch, verify and unpack the archive into root, unless every file is already there."""
        if not self._missing(self.train_list + self.test_list + [self.meta_file]):
            return
        archive = download_url(self.url, self.root, self.filename, md5=self.md5)
        extract_archive(archive, self.root)

    def __len__(self):
        return self.data.shape[0]

    def get_batch(self, indices):
        """(images float32 (B, 3, 32, 32) after `transform`, labels int64 (B,)) at `indices`."""
        ### BEGIN SOLUTION
        images = to_float_images(self.data[indices])  # float32 for this batch only
        if self.transform is not None:
            images = self.transform(images)
        return images, self.targets[indices]
        ### END SOLUTION

    def __getitem__(self, index):
        """(image (3, 32, 32) float32 after `transform`, label int)."""
        images, labels = self.get_batch(np.array([index]))
        return images[0], int(labels[0])

    def state_dict(self):
        """The transform's random state (None when it has none)."""
        has_state = hasattr(self.transform, "state_dict")
        return {"transform": self.transform.state_dict() if has_state else None}

    def load_state_dict(self, state):
        if state.get("transform") is None:
            return
        if not hasattr(self.transform, "load_state_dict"):
            raise ValueError(f"CIFAR10.load_state_dict: the state has a transform state but "
                             f"the transform {self.transform!r} has none")
        self.transform.load_state_dict(state["transform"])

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"CIFAR10(split={split}, size={len(self)}, root={str(self.root)!r})"
