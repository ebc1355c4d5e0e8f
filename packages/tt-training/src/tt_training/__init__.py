"""TinyTorch module 11 (training): Trainer: epochs, validation, metrics, checkpoints and resume."""

from ._version import __version__

__all__ = ["__version__"]
