"""TinyTorch module 04 (layers): Module, Parameter, Linear, initialisers and Flatten."""

from ._version import __version__

__all__ = ["__version__"]
