"""TinyTorch module 14 (transformers): the pre-LayerNorm TransformerBlock and a GPT model.

`GPT(GPTConfig(...))` maps token ids (B, T) to next-token logits (B, T, vocab_size): token and
position embeddings (tt_embeddings.Embedding), n_layer causal blocks (a tt_layers.ModuleList),
a final LayerNorm, and a head tied to the token embedding matrix. Pass a list of
tt_attention.KVCache to decode one token at a time cheaply.
"""

from ._version import __version__
from .block import MLP, TransformerBlock
from .gpt import GPT, GPTConfig

__all__ = ["__version__", "TransformerBlock", "MLP", "GPT", "GPTConfig"]
