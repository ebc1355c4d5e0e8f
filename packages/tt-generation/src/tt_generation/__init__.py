"""TinyTorch module 15 (generation): Sampling with temperature, top-k and top-p, and a KV cache."""

from ._version import __version__

__all__ = ["__version__"]
