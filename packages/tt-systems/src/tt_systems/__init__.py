"""TinyTorch module 17 (systems): Profiler, memory model, int8 inference, export and serving."""

from ._version import __version__

__all__ = ["__version__"]
