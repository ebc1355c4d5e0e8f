"""TinyTorch module 13 (attention): Scaled dot-product attention and multi-head attention."""

from ._version import __version__

__all__ = ["__version__"]
