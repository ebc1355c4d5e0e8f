"""Callable classes for the activations, with PyTorch's names and constructor arguments.

They are plain objects (not tt_layers Modules: tt-layers builds on this package). tt_layers
wraps each function again as a Module for use inside networks.
"""

from .functional import _GELU_APPROXIMATIONS, gelu, log_softmax, relu, sigmoid, softmax, tanh


class _Activation:
    """An activation with fixed arguments: `act(x)` applies the function."""

    def __call__(self, x):
        return self.forward(x)

    def extra_repr(self):
        return ""

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"


class ReLU(_Activation):
    """relu as a callable object."""

    def forward(self, x):
        return relu(x)


class Sigmoid(_Activation):
    """sigmoid as a callable object."""

    def forward(self, x):
        return sigmoid(x)


class Tanh(_Activation):
    """tanh as a callable object."""

    def forward(self, x):
        return tanh(x)


class GELU(_Activation):
    """gelu as a callable object; approximate is "none" (erf form) or "tanh"."""

    def __init__(self, approximate="none"):
        if approximate not in _GELU_APPROXIMATIONS:
            raise ValueError(f"GELU: approximate must be one of {_GELU_APPROXIMATIONS}, "
                             f"got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softmax(_Activation):
    """softmax along `dim` as a callable object."""

    def __init__(self, dim=-1):
        self.dim = dim

    def forward(self, x):
        return softmax(x, axis=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(_Activation):
    """log_softmax along `dim` as a callable object."""

    def __init__(self, dim=-1):
        self.dim = dim

    def forward(self, x):
        return log_softmax(x, axis=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
