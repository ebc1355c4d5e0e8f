"""TinyTorch module 03 (activations): ReLU, sigmoid, tanh, GELU, softmax and log-softmax, composed from primitives."""

from ._version import __version__

__all__ = ["__version__"]
