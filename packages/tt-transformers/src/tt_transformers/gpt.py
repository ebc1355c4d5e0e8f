"""GPT: token + position embeddings, a stack of pre-LN blocks, a final LayerNorm and a head
that reuses the token embedding matrix (weight tying). After nanoGPT's model.py (karpathy).
"""

import math
import re
from dataclasses import dataclass

import numpy as np
from tt_embeddings import Embedding
from tt_layers import Linear, Module, ModuleList, init
from tt_normalization import LayerNorm
from tt_tensor import Tensor

from .block import TransformerBlock


@dataclass
class GPTConfig:
    """The shape of a GPT. Defaults: nanoGPT's CPU run on tiny Shakespeare characters."""

    block_size: int = 64    # longest context: the number of learned position embeddings
    vocab_size: int = 65    # distinct tokens (tiny Shakespeare has 65 characters)
    n_layer: int = 4        # transformer blocks
    n_head: int = 4         # attention heads per block; n_embd must be divisible by it
    n_embd: int = 128       # width of the residual stream (the embedding size C)
    dropout: float = 0.0    # > 0 needs a dropout layer: GPT(config, dropout_layer=Dropout)
    bias: bool = False      # biases in Linears and LayerNorms (nanoGPT: False, a bit better)

    def __post_init__(self):
        for name in ("block_size", "vocab_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"GPTConfig: {name} must be a positive int, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"GPTConfig: n_embd {self.n_embd} is not divisible by n_head "
                             f"{self.n_head}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"GPTConfig: dropout must be in [0, 1), got {self.dropout}")


class GPT(Module):
    """A decoder-only transformer language model: idx (B, T) ints -> logits (B, T, vocab_size).

    dropout_layer(p) -> Module builds the dropout applied to the embeddings and to each block's
    two branches; it is needed only when config.dropout > 0. Pass tt_regularization.Dropout
    (module 16, which comes after this one, so it is injected here rather than imported; see
    the README), as torchvision models take `norm_layer=nn.BatchNorm2d`.
    """

    def __init__(self, config, dropout_layer=None):
        super().__init__()
        if config.dropout > 0 and dropout_layer is None:
            raise ValueError(f"GPT: config.dropout is {config.dropout} but no dropout_layer "
                             "was given; pass dropout_layer=tt_regularization.Dropout")
        self.config = config
        C = config.n_embd
        drop = dropout_layer(config.dropout) if config.dropout > 0 else None
        self.wte = Embedding(config.vocab_size, C)    # token embeddings (V, C)
        self.wpe = Embedding(config.block_size, C)    # learned positions (block_size, C)
        self.drop = drop
        self.h = ModuleList(TransformerBlock(C, config.n_head, bias=config.bias, causal=True,
                                             dropout=drop) for _ in range(config.n_layer))
        self.ln_f = LayerNorm(C, bias=config.bias)
        self.lm_head = Linear(C, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying: the head IS the embedding Parameter
        self._init_weights()

    def _init_weights(self):
        """GPT-2's init: N(0, 0.02) everywhere, residual projections N(0, 0.02 / sqrt(2 L))."""
        for module in self.modules():
            if isinstance(module, Linear):
                init.normal_(module.weight, 0.0, 0.02)
                if module.bias is not None:
                    init.zeros_(module.bias)
        init.normal_(self.wte.weight, 0.0, 0.02)
        init.normal_(self.wpe.weight, 0.0, 0.02)
        # each block adds two branches into the residual stream: scale them so its variance
        # does not grow with depth (GPT-2 paper, section 2.3)
        std = 0.02 / math.sqrt(2 * self.config.n_layer)
        for block in self.h:
            init.normal_(block.attn.out_proj.weight, 0.0, std)
            init.normal_(block.mlp.c_proj.weight, 0.0, std)

    def forward(self, idx, kv_cache=None):
        """idx (B, T) int token ids -> logits (B, T, vocab_size), a Tensor of the model's dtype.

        kv_cache: None, or a list of n_layer tt_attention.KVCache; then idx holds the tokens
        that follow the `past` = len(kv_cache[0]) positions already cached.

        The code before the region has checked idx and the length and set B, T, past and
        `caches` (one entry per block, None without a cache). Tokens: self.wte(idx) (B, T, C);
        positions: self.wpe(np.arange(past, past + T)), a 1-D int array, so (T, C), which
        broadcasts over B. Then self.drop (when not None) on their sum, each block with its
        cache, self.ln_f, and self.lm_head on a 2-D (B*T, C) view, reshaped to (B, T, V).
        """
        idx = _token_ids(idx, self.config.vocab_size)
        B, T = idx.shape
        past = self._past_length(kv_cache)
        if past + T > self.config.block_size:
            raise ValueError(f"GPT: sequence of length {past + T} ({past} cached + {T} new) is "
                             f"longer than block_size {self.config.block_size}")
        caches = kv_cache if kv_cache is not None else [None] * self.config.n_layer
        ### BEGIN SOLUTION
        x = self.wte(idx) + self.wpe(np.arange(past, past + T))  # (B, T, C) + (T, C)
        if self.drop is not None:
            x = self.drop(x)
        for block, cache in zip(self.h, caches):
            x = block(x, kv_cache=cache)              # (B, T, C)
        x = self.ln_f(x).reshape(B * T, -1)           # (B*T, C)
        return self.lm_head(x).reshape(B, T, -1)      # (B, T, V)
        ### END SOLUTION

    def _past_length(self, kv_cache):
        if kv_cache is None:
            return 0
        if len(kv_cache) != self.config.n_layer:
            raise ValueError(f"GPT: kv_cache has {len(kv_cache)} entries for "
                             f"{self.config.n_layer} layers (one KVCache per block)")
        return len(kv_cache[0])

    def load_state_dict(self, state_dict, strict=True):
        """Module.load_state_dict; also reads the names of TinyTorch 0.1 GPTs (`wte`, `wpe`,
        `h0.ln_1.weight`, ...), so checkpoints and exports written before keep loading."""
        if hasattr(state_dict, "items"):
            state_dict = {_current_name(key): value for key, value in state_dict.items()}
        return super().load_state_dict(state_dict, strict=strict)

    def extra_repr(self):
        return ", ".join(f"{k}={v}" for k, v in vars(self.config).items())


def _current_name(key):
    """A 0.1 parameter name as today's: wte -> wte.weight, h3.attn... -> h.3.attn..."""
    if key in ("wte", "wpe"):
        return f"{key}.weight"
    return re.sub(r"^h(\d+)\.", r"h.\1.", key)


def _token_ids(idx, vocab_size):
    """idx as a 2-D int ndarray of ids in [0, vocab_size), or a clear error."""
    data = idx.data if isinstance(idx, Tensor) else np.asarray(idx)
    if data.dtype.kind not in "iu" or data.ndim != 2:
        raise ValueError(f"GPT: expected idx of integer token ids with shape (B, T), got "
                         f"dtype {data.dtype} shape {data.shape}")
    if data.size and (data.min() < 0 or data.max() >= vocab_size):
        raise ValueError(f"GPT: token ids must be in [0, {vocab_size}), got min {data.min()} "
                         f"max {data.max()}")
    return data
