"""Fast path: cross_entropy of (N, C) logits as one graph node (tt_tensor.Function).

cross_entropy in losses.py is the lesson: log_softmax, a pick of the targets' entries and a
mean, about ten recorded primitives whose backward rules each pass over the (N, C) logits
again (the pick's rule scatters into a zero array with np.add.at). When the logits are 2-D
floats, cross_entropy takes this fused version instead, with the closed-form gradient

    d loss_i / d x_i = softmax(x_i) - (1 - eps) onehot(y_i) - eps / C

(eps = label_smoothing), times the upstream gradient (divided by N for the mean). It keeps
the softmax (one (N, C) array) for backward. The reference starts with it on; a learner's own
package (version `+own`) starts with it off, so training runs the learner's cross_entropy.
`use_fast_paths(False)` forces the composition (the tests compare both, in values and
gradients). The switch is tt_tensor.FastPathSwitch.
"""

import numpy as np
from tt_tensor import FastPathSwitch, Function

from ._version import __version__

_switch = FastPathSwitch("tt_networks", __version__)  # on for the reference, off for +own
# the package's public switch: use_fast_paths(enabled=True, threads=None), fast_paths_enabled()
use_fast_paths, fast_paths_enabled = _switch.functions(
    "the fused cross-entropy of 2-D float logits")


class CrossEntropyRows(Function):
    """cross_entropy(x, target) for x (N, C) floats; attrs target (N,) ints, reduction,
    label_smoothing. Returns a 0-d array (mean, sum) or the (N,) losses (none)."""

    @staticmethod
    def forward(ctx, x, *, target, reduction, label_smoothing):
        N, C = x.shape
        rows = np.arange(N)
        top = x.max(axis=1, keepdims=True)                   # (N, 1): every exp <= 1
        p = np.subtract(x, top)
        np.exp(p, out=p)
        total = p.sum(axis=1, keepdims=True)
        p /= total                                           # softmax, kept for backward
        loss = (np.log(total) + top)[:, 0] - x[rows, target]  # log-sum-exp - x[y]
        if label_smoothing > 0.0:
            smooth = (np.log(total) + top)[:, 0] - x.mean(axis=1)
            loss = (1.0 - label_smoothing) * loss + label_smoothing * smooth
        ctx.p, ctx.target, ctx.reduction, ctx.eps = p, target, reduction, label_smoothing
        if reduction == "mean":
            return np.asarray(loss.mean(), dtype=x.dtype)
        if reduction == "sum":
            return np.asarray(loss.sum(), dtype=x.dtype)
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        p, target, eps = ctx.p, ctx.target, ctx.eps
        N, C = p.shape
        d = p.copy()                                         # p stays for a second backward
        d[np.arange(N), target] -= 1.0 - eps
        if eps > 0.0:
            d -= eps / C
        if ctx.reduction == "none":
            d *= np.asarray(grad, dtype=d.dtype)[:, None]
        else:
            d *= np.asarray(grad, dtype=d.dtype) / (N if ctx.reduction == "mean" else 1)
        return (d,)
