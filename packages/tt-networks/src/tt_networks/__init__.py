"""TinyTorch module 05 (networks): Sequential, an MLP builder, losses, accuracy and
numerical gradients.

Losses are compositions of tt_tensor primitives (log_softmax inside cross_entropy), so they
are differentiable once tt-autograd is installed; until then `numerical_gradient` trains.
cross_entropy of 2-D logits takes a fused fast path (fused.py, one graph node with the same
values and gradient); `use_fast_paths(False)` runs the composition.
"""

from ._version import __version__
from .losses import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, binary_cross_entropy,
    binary_cross_entropy_with_logits, cross_entropy, mse_loss,
)
from .fused import fast_paths_enabled, use_fast_paths
from .metrics import accuracy
from .numerical import numerical_gradient
from .sequential import Sequential, mlp

__all__ = [
    "__version__",
    # containers
    "Sequential", "mlp",
    # losses
    "mse_loss", "cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "MSELoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss",
    # measuring and checking
    "accuracy", "numerical_gradient",
    # the fused cross-entropy (fused.py): on by default, off gives the composition
    "use_fast_paths", "fast_paths_enabled",
]
