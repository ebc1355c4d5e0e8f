"""TinyTorch module 07 (dataloader): Dataset, DataLoader, batch transforms and the CIFAR-10 reader.

Array datasets are batched by fancy indexing (`get_batch(indices)`), never one sample at a time
in Python; the data order comes from the loader's own seeded generator and is checkpointable.
"""

from ._version import __version__
from .cifar import CIFAR10, CIFAR10_MANIFEST, CIFAR10_MD5, CIFAR10_URL, DATA_ENV_VAR
from .dataloader import DataLoader, default_collate
from .dataset import Dataset, TensorDataset
from .download import check_member, download_url, extract_archive, file_md5
from .text import TokenDataset, random_blocks, read_text
from .transforms import (
    Compose, Normalize, RandomCrop, RandomHorizontalFlip, RandomTransform, ToTensor,
    to_float_images,
)

__all__ = [
    "__version__",
    # datasets and loading
    "Dataset", "TensorDataset", "DataLoader", "default_collate",
    # batch transforms
    "Compose", "RandomCrop", "RandomHorizontalFlip", "Normalize", "ToTensor", "RandomTransform",
    "to_float_images",
    # CIFAR-10 and downloads
    "CIFAR10", "CIFAR10_URL", "CIFAR10_MD5", "CIFAR10_MANIFEST", "DATA_ENV_VAR",
    "download_url", "extract_archive", "check_member", "file_md5",
    # text for language models
    "read_text", "TokenDataset", "random_blocks",
]
