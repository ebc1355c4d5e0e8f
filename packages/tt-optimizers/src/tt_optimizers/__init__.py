"""TinyTorch module 10 (optimizers): SGD, Adam, AdamW, learning-rate schedulers and gradient clipping."""

from ._version import __version__

__all__ = ["__version__"]
