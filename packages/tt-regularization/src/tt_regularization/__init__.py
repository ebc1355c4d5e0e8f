"""TinyTorch module 16 (regularization): Dropout, weight-decay parameter groups and label smoothing."""

from ._version import __version__

__all__ = ["__version__"]
