"""TinyTorch module 09 (autograd): Reverse-mode differentiation: gradient rules, the engine, gradcheck."""

from ._version import __version__

__all__ = ["__version__"]
