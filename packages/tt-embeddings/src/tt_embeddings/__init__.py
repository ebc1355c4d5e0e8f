"""TinyTorch module 12 (embeddings): Embedding, positional encodings and a character tokenizer."""

from ._version import __version__

__all__ = ["__version__"]
