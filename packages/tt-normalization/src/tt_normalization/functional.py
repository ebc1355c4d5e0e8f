"""Batch and layer normalization as compositions of tt-tensor primitives.

No gradient code: sub, mul, sum, pow and add are primitives, so tt-autograd differentiates
these functions as written. Running statistics are buffers, updated outside the graph.
"""

import numpy as np
from tt_tensor import as_tensor, is_grad_enabled, no_grad

from .fused import BatchNormTrain, LayerNormRows, fast_paths_enabled


def _stat_shape(x):
    """(1, C, 1, ...): the shape of a per-channel statistic broadcast against x."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _check_batch_norm_input(x, training, **vectors):
    """x is (N, C, ...) with more than one value per channel when training; each given
    per-channel tensor has shape (C,). Returns the number of values per channel."""
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input (N, C, ...), got shape {x.shape}")
    C = x.shape[1]
    for name, value in vectors.items():
        if value is not None and tuple(as_tensor(value).shape) != (C,):
            raise ValueError(
                f"batch_norm: {name} must have shape ({C},), got {as_tensor(value).shape}"
            )
    count = x.data.size // max(C, 1)
    if training and count <= 1:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, "
            f"got input of shape {x.shape}"
        )
    return count


def _update_running(running_mean, running_var, mean, var, count, momentum):
    """Move the running statistics toward this batch's, PyTorch's rule:

        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var  = (1 - momentum) * running_var  + momentum * var * count / (count - 1)

    running_mean, running_var: the (C,) buffer Tensors, or None (that one is skipped).
    mean, var: this batch's per-channel mean and BIASED variance, C values each as Tensors
    of any shape that flattens to (C,) (batch_norm passes its (1, C, 1, ...) statistics);
    the update stores the UNBIASED variance, hence count / (count - 1). count: the number
    of values per channel in the batch (N times the sizes of the axes after C), > 1.
    momentum: the averaging factor, a float. Returns None. Writes the new values into the
    buffers' arrays in place (`.data`), under no_grad: the same Tensor objects (a module's
    buffers) hold the result, and nothing is recorded in the graph.
    """
    ### BEGIN SOLUTION
    with no_grad():
        if running_mean is not None:
            running_mean.data *= 1.0 - momentum
            running_mean.data += momentum * mean.data.reshape(-1)
        if running_var is not None:
            unbiased = var.data.reshape(-1) * (count / (count - 1))
            running_var.data *= 1.0 - momentum
            running_var.data += momentum * unbiased
    ### END SOLUTION


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (axis 1) of x over every other axis, PyTorch's batch_norm:

    y = (x - mean) / sqrt(var + eps) * weight + bias

    training (or either running statistic None): the mean and biased var of this batch, over
    every axis but 1; otherwise running_mean and running_var. When training with running
    statistics (either given), call _update_running(running_mean, running_var, mean, var,
    count, momentum) with this batch's statistics, which moves them in place; count is the
    number of values per channel (given code computes it). Without running statistics,
    do not call it.
    x (N, C, ...), running stats, weight and bias (C,) or None -> y shaped like x.
    """
    x = as_tensor(x)
    count = _check_batch_norm_input(x, training, running_mean=running_mean,
                                    running_var=running_var, weight=weight, bias=bias)
    axes = (0,) + tuple(range(2, x.ndim))            # every axis but the channel axis
    shape = _stat_shape(x)                           # (1, C, 1, ...)
    if training and (weight is not None or bias is None) and _take_fast_path(x, weight, bias):
        # fast path (fused.py, README): the same function as one graph node; it pays only
        # when a graph is kept, so without one the composition below runs
        return _fused_batch_norm(x, running_mean, running_var, weight, bias, momentum, eps,
                                 count, shape)
    ### BEGIN SOLUTION
    if training or running_mean is None or running_var is None:
        mean = x.mean(axis=axes, keepdims=True)      # (1, C, 1, ...)
        centred = x - mean                           # (N, C, ...)
        var = (centred * centred).mean(axis=axes, keepdims=True)  # biased, (1, C, 1, ...)
        if training and (running_mean is not None or running_var is not None):
            _update_running(running_mean, running_var, mean, var, count, momentum)
    else:
        centred = x - as_tensor(running_mean).reshape(shape)
        var = as_tensor(running_var).reshape(shape)
    # Fold 1/std and the weight into one (1, C, 1, ...) factor: one full-size multiply.
    scale = (var + eps) ** -0.5                      # (1, C, 1, ...)
    if weight is not None:
        scale = scale * as_tensor(weight).reshape(shape)
    y = centred * scale                              # (N, C, ...)
    if bias is not None:
        y = y + as_tensor(bias).reshape(shape)
    return y
    ### END SOLUTION


def _take_fast_path(*tensors):
    """The fused version runs when it is on and a graph is being recorded."""
    return fast_paths_enabled() and is_grad_enabled() and any(
        t is not None and as_tensor(t).requires_grad for t in tensors)


def _fused_batch_norm(x, running_mean, running_var, weight, bias, momentum, eps, count, shape):
    inputs = [x] + [as_tensor(t) for t in (weight, bias) if t is not None]  # bias needs weight
    y = BatchNormTrain.apply(*inputs, eps=eps, shape=shape)
    ctx = y.grad_fn.ctx
    _update_running(running_mean, running_var, as_tensor(ctx.mean), as_tensor(ctx.var), count,
                    momentum)
    return y


def _normalized_shape(normalized_shape):
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last len(normalized_shape) axes, PyTorch's layer_norm:

    y = (x - mean) / sqrt(var + eps) * weight + bias   (biased var; weight, bias normalized_shape)
    """
    x = as_tensor(x)
    shape = _normalized_shape(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise ValueError(
            f"layer_norm: expected an input of shape (*, {', '.join(map(str, shape))}) "
            f"for normalized_shape {shape}, got {x.shape}"
        )
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(as_tensor(value).shape) != shape:
            raise ValueError(f"layer_norm: {name} must have shape {shape}, "
                             f"got {as_tensor(value).shape}")
    if fast_paths_enabled() and (weight is not None or bias is None):
        # fast path (fused.py, README): the same function as one graph node, with or
        # without a graph (decoding one token calls it 2 L + 1 times per token)
        inputs = [x] + [as_tensor(t) for t in (weight, bias) if t is not None]
        return LayerNormRows.apply(*inputs, eps=eps, k=k)
    axes = tuple(range(x.ndim - k, x.ndim))
    ### BEGIN SOLUTION
    mean = x.mean(axis=axes, keepdims=True)          # (*, 1, ..., 1)
    centred = x - mean                               # like x
    var = (centred * centred).mean(axis=axes, keepdims=True)  # biased, (*, 1, ..., 1)
    y = centred * (var + eps) ** -0.5                # like x
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y
    ### END SOLUTION
