"""Linear, Flatten and Identity."""

import math

import numpy as np
from tt_tensor import as_tensor, float32, matmul, permute, reshape

from . import init
from .module import Module
from .parameter import Parameter


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Linear: {name} must be a positive int, got {value!r}")
    return int(value)


class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features) as in PyTorch.

    Default init (PyTorch's): W ~ kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)),
    b ~ U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features = _positive_int("in_features", in_features)
        self.out_features = _positive_int("out_features", out_features)
        dtype = float32 if dtype is None else dtype
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty((self.out_features,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw fresh weights with PyTorch's default init."""
        ### BEGIN SOLUTION
        # U(-1/sqrt(in), 1/sqrt(in)) for both: kaiming_uniform_ with a = sqrt(5) is exactly that
        bound = self.in_features ** -0.5
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)
        ### END SOLUTION

    def forward(self, x):
        """(*, in_features) -> (*, out_features)."""
        x = as_tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear: expected input of shape (*, {self.in_features}), "
                             f"got {x.shape}")
        ### BEGIN SOLUTION
        y = matmul(x, permute(self.weight, (1, 0)))  # (*, in) @ (in, out) -> (*, out)
        return y if self.bias is None else y + self.bias
        ### END SOLUTION

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Merge dims start_dim..end_dim into one: (B, C, H, W) -> (B, C*H*W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x):
        x = as_tensor(x)
        ndim = x.ndim
        start = self.start_dim + ndim if self.start_dim < 0 else self.start_dim
        end = self.end_dim + ndim if self.end_dim < 0 else self.end_dim
        if not 0 <= start <= end < ndim:
            raise ValueError(f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}) "
                             f"does not fit an input of shape {x.shape}")
        ### BEGIN SOLUTION
        shape = x.shape
        return reshape(x, shape[:start] + (-1,) + shape[end + 1:]) if x.size else \
            reshape(x, shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:])
        ### END SOLUTION

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for an optional layer)."""

    def __init__(self, *args, **kwargs):  # PyTorch's Identity ignores its arguments too
        super().__init__()

    def forward(self, x):
        return x
