"""The activation Modules, over the functions of tt_activations (as torch.nn.ReLU sits over
torch.nn.functional.relu): the one home of these classes, so networks can hold and print them.
"""

import tt_activations as F

from .module import Module


class ReLU(Module):
    """relu(x) = max(x, 0)."""

    def forward(self, x):
        return F.relu(x)


class Sigmoid(Module):
    """sigmoid(x) = 1 / (1 + exp(-x))."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x):
        return F.tanh(x)


class GELU(Module):
    """gelu(x) = x Phi(x); approximate is "none" (erf form) or "tanh"."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class _AlongDim(Module):
    """An activation that normalises along one axis, `dim` (PyTorch's name and default)."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """softmax along `dim`."""

    def forward(self, x):
        return F.softmax(x, axis=self.dim)


class LogSoftmax(_AlongDim):
    """log_softmax along `dim`."""

    def forward(self, x):
        return F.log_softmax(x, axis=self.dim)
