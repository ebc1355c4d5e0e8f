"""A fused GELU for the MLP: forward and backward side by side (tt_tensor.Function).

Profiling the TinyGPT training step showed the composed GELU (tt_activations.gelu, tanh form:
9 primitives, each a full pass over the (B*T, 4C) activations, plus their backward rules and
gradient accumulations) to be the largest cost after the matmuls. As one op it is 8 in-place
passes forward and about a dozen backward. Tested to equal the composed version (values and
gradients, tests/).
"""

import math

import numpy as np
from tt_tensor import Function

_C = math.sqrt(2.0 / math.pi)
_K = 0.044715


class GELUTanh(Function):
    """gelu(x) = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3).

    d gelu / dx = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2), t = tanh(u).
    """

    @staticmethod
    def forward(ctx, x):
        ### BEGIN SOLUTION
        t = x * x                          # x^2
        t *= _C * _K
        t += _C                            # sqrt(2/pi) (1 + 0.044715 x^2)
        t *= x                             # u
        np.tanh(t, out=t)                  # t = tanh(u), kept for backward
        ctx.x, ctx.t = x, t
        out = t + 1.0
        out *= x
        out *= 0.5
        return out
        ### END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        ### BEGIN SOLUTION
        x, t = ctx.x, ctx.t
        slope = x * x
        slope *= 3.0 * _C * _K
        slope += _C                        # sqrt(2/pi) (1 + 3 * 0.044715 x^2) = du/dx
        slope *= x
        slope *= 0.5                       # 0.5 x du/dx
        sech2 = t * t
        np.subtract(1.0, sech2, out=sech2)  # 1 - t^2
        slope *= sech2
        slope += 0.5
        slope += 0.5 * t                   # + 0.5 (1 + t)
        slope *= grad
        return (slope,)
        ### END SOLUTION


def fused_gelu(x):
    """GELU, tanh form, as one graph node: equal to tt_activations.gelu(x, approximate="tanh")."""
    return GELUTanh.apply(x)
