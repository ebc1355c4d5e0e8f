"""Loss functions and their Module classes, composed from tt_tensor primitives.

Every loss takes the model output first and the target second (PyTorch's order) and reduces
with reduction="mean" (default), "sum" or "none".
"""

import numpy as np
from tt_activations import log_softmax
from tt_layers import Module
# every primitive the formulas below name (maximum: the max(x, 0) of BCE with logits)
from tt_tensor import Tensor, as_tensor, exp, log, maximum, where  # noqa: F401

from .fused import CrossEntropyRows, fast_paths_enabled

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(name, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _same_shape(name, input, target):
    """Both arguments as tensors of one float dtype and the same shape."""
    input = as_tensor(input)
    target = as_tensor(target)
    if input.shape != target.shape:
        raise ValueError(f"{name}: input of shape {input.shape} and target of shape "
                         f"{target.shape} must have the same shape")
    if target.dtype != input.dtype and target.dtype.kind in "biuf":
        target = target.astype(input.dtype)  # integer labels 0/1 become floats
    return input, target


def mse_loss(input, target, *, reduction="mean"):
    """Mean squared error: reduce((input - target)^2)."""
    _check_reduction("mse_loss", reduction)
    input, target = _same_shape("mse_loss", input, target)
    ### BEGIN SOLUTION
    diff = input - target
    return _reduce(diff * diff, reduction)
    ### END SOLUTION


def _class_targets(input, target):
    """Validate integer class targets against logits (N, C, d1, ...); return an int array."""
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have a class axis, got a 0-d tensor")
    expected = () if input.ndim == 1 else input.shape[:1] + input.shape[2:]
    if target.dtype.kind not in "iu":
        raise ValueError(f"cross_entropy: target must hold integer class indices (int64), got "
                         f"dtype {target.dtype} for input of shape {input.shape}")
    if target.shape != expected:
        raise ValueError(f"cross_entropy: target of shape {target.shape} does not match input "
                         f"of shape {input.shape} (expected target shape {expected})")
    if input.ndim > 1 and input.shape[0] == 0:  # as accuracy: a mean over nothing is undefined
        raise ValueError(f"cross_entropy: the batch is empty (input of shape {input.shape})")
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    if target.size and (target.min() < 0 or target.max() >= classes):
        raise ValueError(f"cross_entropy: target values must be in [0, {classes}) for input of "
                         f"shape {input.shape}, got min {target.min()} and max {target.max()}")
    return target


def cross_entropy(input, target, *, reduction="mean", label_smoothing=0.0):
    """Cross-entropy of logits against integer class targets, via a stable log_softmax.

    input (N, C) or (N, C, d1, ...) or (C,); target (N,) or (N, d1, ...) or () of ints in
    [0, C). loss_i = -(1 - eps) log p_i[y_i] - (eps / C) sum_c log p_i[c], eps = label_smoothing.
    Returns reduce(loss) with loss of the target's shape. log p comes from log_softmax over the
    class axis (axis 1, or 0 for (C,)); pick log p[y] differentiably by indexing the Tensor with
    integer arrays, one per axis (e.g. logp[np.arange(N), target] for (N, C)), or move the
    class axis last and flatten to (M, C) first. An empty batch (N = 0) raises ValueError.
    """
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], "
                         f"got {label_smoothing}")
    input = as_tensor(input)
    target = _class_targets(input, target)
    if fast_paths_enabled() and input.ndim == 2 and input.dtype.kind == "f":
        # fast path (fused.py, README): the same loss and gradient as one graph node
        return CrossEntropyRows.apply(input, target=target, reduction=reduction,
                                      label_smoothing=float(label_smoothing))
    ### BEGIN SOLUTION
    C = input.shape[0] if input.ndim == 1 else input.shape[1]
    if input.ndim > 2:  # (N, C, d1, ...) -> (N, d1, ..., C): classes last
        input = input.permute((0, *range(2, input.ndim), 1))
    logp = log_softmax(input.reshape(-1, C), axis=-1)  # (M, C), M = N * d1 * ...
    rows = np.arange(logp.shape[0])
    loss = -logp[rows, target.reshape(-1)]  # (M,) negative log-likelihood of the targets
    if label_smoothing > 0.0:
        smooth = -logp.mean(axis=-1)  # (M,) cross-entropy against the uniform distribution
        loss = (1.0 - label_smoothing) * loss + label_smoothing * smooth
    return _reduce(loss.reshape(target.shape), reduction)
    ### END SOLUTION


def _clamped_log(q):
    """log(q) elementwise, clamped below at -100 as PyTorch's BCE does: -100 wherever
    log(q) < -100, and where q == 0, without ever evaluating log(0).

    q: a Tensor of probabilities in [0, 1] (binary_cross_entropy passes p and 1 - p). Returns
    a Tensor shaped like q, recorded in the graph: its gradient is 1 / q where the log is not
    clamped and 0 where it is (log(0) = -inf would turn the gradient into nan). See COURSE.md.
    """
    ### BEGIN SOLUTION
    positive = q.data > 0
    log_q = log(where(positive, q, 1.0))  # log(1) = 0 stands in where q == 0
    return where(positive & (log_q.data > -100.0), log_q, -100.0)
    ### END SOLUTION


def binary_cross_entropy(input, target, *, reduction="mean"):
    """Binary cross-entropy of probabilities in [0, 1]:
    -(t log p + (1 - t) log(1 - p)), each log clamped at -100 as in PyTorch."""
    _check_reduction("binary_cross_entropy", reduction)
    input, target = _same_shape("binary_cross_entropy", input, target)
    if input.data.size and (input.data.min() < 0 or input.data.max() > 1):
        raise ValueError(f"binary_cross_entropy: input must be probabilities in [0, 1], got "
                         f"min {input.data.min()} and max {input.data.max()} (use "
                         "binary_cross_entropy_with_logits for raw scores)")
    # Given: the formula is one line; the task is the clamped log (_clamped_log).
    loss = -(target * _clamped_log(input) + (1.0 - target) * _clamped_log(1.0 - input))
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, *, reduction="mean"):
    """Binary cross-entropy of logits x: max(x, 0) - x t + log(1 + exp(-|x|)).

    Equal to BCE(sigmoid(x), t) but exact for any x: exp only sees non-positive numbers.
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    input, target = _same_shape("binary_cross_entropy_with_logits", input, target)
    ### BEGIN SOLUTION
    x = input
    # max(x, 0) and |x| both on the branch x >= 0, so the gradient at 0 is exactly
    # sigmoid(0) - t (x.abs() alone has gradient 0 at 0, as in PyTorch)
    positive_part = where(x.data >= 0, x, 0.0)
    magnitude = where(x.data >= 0, x, -x)
    loss = positive_part - x * target + log(1.0 + exp(-magnitude))
    return _reduce(loss, reduction)
    ### END SOLUTION


class _Loss(Module):
    def __init__(self, *, reduction="mean"):
        super().__init__()
        _check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """mse_loss as a Module."""

    def forward(self, input, target):
        return mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """cross_entropy as a Module."""

    def __init__(self, *, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction=reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], "
                             f"got {label_smoothing}")
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return cross_entropy(input, target, reduction=self.reduction,
                             label_smoothing=self.label_smoothing)


class BCELoss(_Loss):
    """binary_cross_entropy as a Module."""

    def forward(self, input, target):
        return binary_cross_entropy(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """binary_cross_entropy_with_logits as a Module."""

    def forward(self, input, target):
        return binary_cross_entropy_with_logits(input, target, reduction=self.reduction)
