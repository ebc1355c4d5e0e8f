"""The pre-LayerNorm transformer block: attention to mix positions, an MLP to think per position.

x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))   (GPT-2, Radford et al. 2019)

Normalising the input of each branch (not the sum) keeps the residual stream an untouched sum
of branch outputs, so gradients reach early layers directly and training is stable without
the learning-rate warm-up tricks post-LN needs.
"""

import tt_activations
from tt_attention import MultiHeadAttention
from tt_layers import Linear, Module
from tt_normalization import LayerNorm
from tt_tensor import as_tensor


class MLP(Module):
    """Linear(C, 4C) -> GELU -> Linear(4C, C), applied to each position independently.

    GELU is the tanh form (GPT-2's), module 03's tt_activations.gelu: whatever tt-activations
    is installed (yours, once you wrote it) runs here, with its fast path if it has one.
    dropout: an optional Module (e.g. tt_regularization.Dropout) that the MLP applies to its
    own output, after c_proj.
    """

    def __init__(self, n_embd, bias=True, dropout=None):
        super().__init__()
        self.c_fc = Linear(n_embd, 4 * n_embd, bias=bias)
        self.c_proj = Linear(4 * n_embd, n_embd, bias=bias)
        self.dropout = dropout  # an optional Module (e.g. tt_regularization.Dropout)

    def forward(self, x):
        """x (*, C) -> c_proj(gelu(c_fc(x), approximate="tanh")) (*, C), then self.dropout
        when it is not None (once, after c_proj).

        Call gelu as tt_activations.gelu (looked up at call time, so an installed module 03 is
        the one that runs). The Linears see a 2-D (N, C) view of x, N = the product of *.
        """
        x = as_tensor(x)
        lead, C = x.shape[:-1], x.shape[-1]
        ### BEGIN SOLUTION
        h = x.reshape(-1, C)                # (N, C): 2-D, so each Linear is one plain matmul
        h = tt_activations.gelu(self.c_fc(h), approximate="tanh")  # (N, 4C)
        h = self.c_proj(h)                  # (N, C)
        if self.dropout is not None:
            h = self.dropout(h)
        return h.reshape(*lead, C)
        ### END SOLUTION


class TransformerBlock(Module):
    """Pre-LN block: x + attn(ln_1(x)), then x + mlp(ln_2(x)). x (B, T, C) -> (B, T, C).

    causal=True (GPT) lets position t attend only to positions <= t. `dropout`, when given,
    is a Module applied to each branch's output once, before it joins the residual stream:
    the block applies it to the attention branch, and passes it to its MLP, which applies it
    to its own output (so the block must not apply it to the MLP's output again).
    """

    def __init__(self, n_embd, n_head, bias=True, causal=True, dropout=None, eps=1e-5):
        super().__init__()
        self.ln_1 = LayerNorm(n_embd, eps=eps, bias=bias)
        self.attn = MultiHeadAttention(n_embd, n_head, bias=bias, causal=causal)
        self.ln_2 = LayerNorm(n_embd, eps=eps, bias=bias)
        self.mlp = MLP(n_embd, bias=bias, dropout=dropout)
        self.dropout = dropout

    def forward(self, x, mask=None, kv_cache=None):
        """x (B, T, C) -> (B, T, C): x + dropout(attn(ln_1(x))), then + mlp(ln_2(.)).

        mask and kv_cache go to self.attn as they are (see tt_attention). self.dropout, when not
        None, is applied here to the attention branch only: self.mlp applies it to its own
        output. Returns a new Tensor; x is not changed.
        """
        x = as_tensor(x)
        ### BEGIN SOLUTION
        a = self.attn(self.ln_1(x), mask=mask, kv_cache=kv_cache)   # (B, T, C)
        if self.dropout is not None:
            a = self.dropout(a)
        x = x + a                                                    # residual
        return x + self.mlp(self.ln_2(x))                           # (B, T, C)
        ### END SOLUTION
