"""TinyTorch module 08 (normalization): BatchNorm1d, BatchNorm2d and LayerNorm."""

from ._version import __version__

__all__ = ["__version__"]
