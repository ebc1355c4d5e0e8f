"""TinyTorch module 02 (tensor): The Tensor: an ndarray plus the recorded graph of primitive ops."""

from ._version import __version__

__all__ = ["__version__"]
