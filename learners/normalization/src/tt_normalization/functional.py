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
    """running = (1 - momentum) * running + momentum * batch, with the UNBIASED batch
    variance (PyTorch's rule). In place, outside the graph: buffers get no gradient."""
    ### BEGIN SOLUTION
    mean = np.asarray(as_tensor(mean).data).reshape(-1)
    unbiased = np.asarray(as_tensor(var).data).reshape(-1) * (count / (count - 1))
    for running, batch in ((running_mean, mean), (running_var, unbiased)):
        if running is None:  # the contract: a None buffer is skipped
            continue
        data = as_tensor(running).data
        # computed in float64, stored back in the buffer's own dtype (ndarray write, no graph)
        data[...] = (1.0 - momentum) * data + momentum * batch
    ### END SOLUTION


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (axis 1) of x over every other axis, PyTorch's batch_norm:

    y = (x - mean) / sqrt(var + eps) * weight + bias

    training: mean and biased var of this batch (and the running stats, when given, move
    toward them by `momentum`); otherwise running_mean and running_var.
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
    if training:
        mean = x.mean(axis=axes, keepdims=True)              # (1, C, 1, ...)
        centred = x - mean                                   # pass 1
        var = (centred * centred).mean(axis=axes, keepdims=True)   # pass 2, biased
        if running_mean is not None and running_var is not None:
            with no_grad():
                _update_running(running_mean, running_var, mean, var, count, momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when not "
                             "training")
        centred = x - as_tensor(running_mean).reshape(shape)
        var = as_tensor(running_var).reshape(shape)
    scale = (var + eps) ** -0.5                            # (1, C, 1, ...): 1 / std
    if weight is not None:
        scale = scale * as_tensor(weight).reshape(shape)  # folded with weight, still (1, C, ...)
    y = centred * scale                                    # pass 3
    if bias is not None:
        y = y + as_tensor(bias).reshape(shape)             # pass 4
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
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)   # biased
    y = centred * (var + eps) ** -0.5
    if weight is not None:
        y = y * as_tensor(weight)        # (normalized_shape) broadcasts over the leading axes
    if bias is not None:
        y = y + as_tensor(bias)
    return y
    ### END SOLUTION
