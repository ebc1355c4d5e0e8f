"""Label smoothing (Szegedy et al. 2016): train against (1 - eps) one-hot + eps uniform.

The model is never pushed to infinite logits for the right class, which calibrates it and
regularises. Composed from log_softmax and indexing, so tt-autograd differentiates it as is.
"""

import numpy as np
from tt_activations import log_softmax
from tt_layers import Module
from tt_tensor import Tensor, as_tensor

_REDUCTIONS = ("mean", "sum", "none")


def label_smoothing_cross_entropy(input, target, smoothing=0.1, reduction="mean"):
    """loss_i = (1 - eps) * (-log p_i[y_i]) + eps * mean_c(-log p_i[c]), eps = smoothing.

    input (N, C) logits, target (N,) class ids. Equal to PyTorch's (and tt_networks')
    cross_entropy(input, target, label_smoothing=eps); eps = 0 is plain cross-entropy.
    """
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"label_smoothing_cross_entropy: smoothing must be in [0, 1], "
                         f"got {smoothing}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"label_smoothing_cross_entropy: reduction must be one of "
                         f"{_REDUCTIONS}, got {reduction!r}")
    input = as_tensor(input)
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    if input.ndim != 2 or target.shape != (input.shape[0],) or target.dtype.kind not in "iu":
        raise ValueError(f"label_smoothing_cross_entropy: expected logits (N, C) and integer "
                         f"targets (N,), got {input.shape} and {target.dtype} {target.shape}")
    N, C = input.shape
    if N == 0:  # as tt_networks.cross_entropy: a mean over no samples is undefined
        raise ValueError(f"label_smoothing_cross_entropy: the batch is empty (input of shape "
                         f"{input.shape})")
    if target.size and (target.min() < 0 or target.max() >= C):
        raise ValueError(f"label_smoothing_cross_entropy: targets must be in [0, {C}), got "
                         f"min {target.min()} max {target.max()}")
    ### BEGIN SOLUTION
    logp = log_softmax(input, axis=1)  # (N, C), stable
    picked = logp[np.arange(N), target]  # log p_i[y_i], (N,)
    if smoothing == 0.0:
        loss = -picked
    else:
        loss = -(1.0 - smoothing) * picked - smoothing * logp.mean(axis=1)
    ### END SOLUTION
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


class LabelSmoothingCrossEntropy(Module):
    """The Module form of label_smoothing_cross_entropy."""

    def __init__(self, smoothing=0.1, reduction="mean"):
        super().__init__()
        self.smoothing = smoothing
        self.reduction = reduction

    def forward(self, input, target):
        return label_smoothing_cross_entropy(input, target, self.smoothing, self.reduction)

    def extra_repr(self):
        return f"smoothing={self.smoothing}"
