"""TinyTorch module 14 (transformers): Pre-LayerNorm transformer blocks and the GPT model."""

from ._version import __version__

__all__ = ["__version__"]
