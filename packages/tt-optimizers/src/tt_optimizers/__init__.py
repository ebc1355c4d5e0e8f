"""TinyTorch module 10 (optimizers): SGD, Adam, AdamW, LR schedulers and gradient clipping.

Optimizers update each parameter's ndarray in place from its `.grad`, keeping per-parameter
state (momentum buffers, Adam moments) allocated once; schedulers set each parameter group's
'lr' from a closed form of the step count.
"""

from ._version import __version__
from .adam import Adam, AdamW
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .fused import fast_paths_enabled, use_fast_paths
from .lr_scheduler import (
    CosineAnnealingLR, LambdaLR, LinearLR, LRScheduler, SequentialLR, StepLR,
)
from .one_cycle import OneCycleLR
from .optimizer import Optimizer
from .sgd import SGD

__all__ = [
    "__version__",
    # optimizers
    "Optimizer", "SGD", "Adam", "AdamW",
    # learning-rate schedulers
    "LRScheduler", "LambdaLR", "StepLR", "CosineAnnealingLR", "LinearLR", "SequentialLR",
    "OneCycleLR",
    # gradient clipping
    "clip_grad_norm_", "clip_grad_value_",
    # Adam's and AdamW's step over all parameters at once (fused.py): on by default, off
    # runs _update per parameter
    "use_fast_paths", "fast_paths_enabled",
]
