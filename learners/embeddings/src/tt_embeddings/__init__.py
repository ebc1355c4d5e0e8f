"""TinyTorch module 12 (embeddings): Embedding, positional encodings and a character tokenizer.

Text becomes numbers in two steps: a tokenizer maps characters to ids, an Embedding maps ids to
learnable vectors (a row lookup, whose gradient is a scatter-add into the rows used). Positional
encodings add where each token sits, which attention alone cannot see.
"""

from ._version import __version__
from .embedding import Embedding, embedding
from .fused import fast_paths_enabled, use_fast_paths
from .positional import (
    LearnedPositionalEncoding, SinusoidalPositionalEncoding, sinusoidal_positional_encoding,
)
from .tokenizer import CharTokenizer

__all__ = [
    "__version__",
    "Embedding", "embedding",
    "sinusoidal_positional_encoding", "SinusoidalPositionalEncoding",
    "LearnedPositionalEncoding",
    "CharTokenizer",
    # the lookup's fused op (fused.py): on by default, off runs the getitem lookup
    "use_fast_paths", "fast_paths_enabled",
]
