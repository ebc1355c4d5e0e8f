"""TinyTorch module 06 (spatial): Conv2d, MaxPool2d and AvgPool2d from sliding windows and matmul.

Every layer is a composition of tt_tensor primitives (pad, sliding_window, permute, reshape,
matmul, max, sum), so tt-autograd differentiates it with no gradient code of its own.
"""

from ._version import __version__
from .functional import avg_pool2d, conv2d, im2col, max_pool2d
from .fused import fast_paths_enabled, use_fast_paths
from .layers import AvgPool2d, Conv2d, MaxPool2d

__all__ = [
    "__version__",
    # layers
    "Conv2d", "MaxPool2d", "AvgPool2d",
    # functional forms
    "conv2d", "max_pool2d", "avg_pool2d", "im2col",
    # the fused fast paths (fused.py): on by default, off gives the plain compositions
    "use_fast_paths", "fast_paths_enabled",
]
