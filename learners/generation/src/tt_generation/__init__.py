"""TinyTorch module 15 (generation): sampling text from a language model, with a KV cache.

`generate` predicts the next token, picks one (greedy, temperature, top-k, top-p), appends it
and repeats. With a KV cache (tt_attention.KVCache, passed to the model explicitly) each step
feeds one new token instead of recomputing the whole context.
"""

from ._version import __version__
from .generate import generate
from .sampling import sample_next, top_k_filter, top_p_filter

__all__ = ["__version__", "generate", "sample_next", "top_k_filter", "top_p_filter"]
