"""TinyTorch module 08 (normalization): BatchNorm1d, BatchNorm2d and LayerNorm.

Composed from tt_tensor primitives (mean, var and sqrt are themselves compositions), so
tt-autograd differentiates them with no gradient code of their own. Beside the compositions,
fused.py holds batch_norm (training, with a graph) and layer_norm as one graph node each,
with the same values and gradients; `use_fast_paths(False)` runs the compositions.
"""

from ._version import __version__
from .batchnorm import BatchNorm1d, BatchNorm2d
from .functional import batch_norm, layer_norm
from .fused import fast_paths_enabled, use_fast_paths
from .layernorm import LayerNorm

__all__ = [
    "__version__",
    # layers
    "BatchNorm1d", "BatchNorm2d", "LayerNorm",
    # functional forms
    "batch_norm", "layer_norm",
    # the fast paths (fused.py): batch_norm's and layer_norm's; off gives the compositions
    "use_fast_paths", "fast_paths_enabled",
]
