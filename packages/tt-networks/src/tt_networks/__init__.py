"""TinyTorch module 05 (networks): Sequential, an MLP builder, losses and numerical gradients."""

from ._version import __version__

__all__ = ["__version__"]
