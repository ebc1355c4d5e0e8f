"""TinyTorch module 07 (dataloader): Dataset, DataLoader, batch transforms and the CIFAR-10 reader."""

from ._version import __version__

__all__ = ["__version__"]
