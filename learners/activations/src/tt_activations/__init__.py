"""TinyTorch module 03 (activations): ReLU, sigmoid, tanh, GELU, softmax and log-softmax.

Every function is a composition of tt_tensor primitives (so tt-autograd differentiates it with
no code of its own) and is numerically stable: no overflow or NaN at |x| = 1000. The activation
Modules (`ReLU`, `GELU`, ...) live in tt_layers, over these functions, as torch.nn.ReLU sits
over torch.nn.functional.relu.
"""

from ._version import __version__
from .functional import gelu, log_softmax, relu, sigmoid, softmax, tanh
from .fused import fast_paths_enabled, use_fast_paths

__all__ = ["__version__", "relu", "sigmoid", "tanh", "gelu", "softmax", "log_softmax",
           # gelu's fused tanh form (fused.py): on by default, off gives the composition
           "use_fast_paths", "fast_paths_enabled"]
