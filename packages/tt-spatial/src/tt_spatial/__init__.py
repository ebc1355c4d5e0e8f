"""TinyTorch module 06 (spatial): Conv2d, MaxPool2d and AvgPool2d from sliding windows and matmul."""

from ._version import __version__

__all__ = ["__version__"]
