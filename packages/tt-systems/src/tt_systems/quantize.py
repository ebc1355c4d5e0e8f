"""int8 post-training quantization of Linear and Conv2d weights, per output channel.

Symmetric quantization maps each output channel's weights w_c to integers in [-127, 127]:
scale_c = max|w_c| / 127, q = round(w / scale_c), w ~ q * scale_c. A 4-byte float becomes a
1-byte int: the weights shrink 4x. Two inference paths (`compute=`):
- "float": weight-only quantization. y = (x @ float(q)^T) * scale + b: the int8 weights are
  widened to float32 on the fly and the matmul runs in float32 BLAS.
- "int8": dynamic quantization of the activations as well (one scale per row of x); the
  matmul multiplies int8 values with int32 accumulation, then rescales.
The README reports which is faster in NumPy, and why.
"""

import copy

import numpy as np
from tt_layers import Linear, Module
from tt_spatial import Conv2d, im2col
from tt_tensor import Function, Tensor, as_tensor, float32

QMAX = 127  # symmetric int8: -127..127 (-128 unused, so the range is symmetric around 0)


def quantize_per_channel(weight, axis=0):
    """(q int8 like weight, scale float32 (weight.shape[axis],)): symmetric, one scale per
    slice along `axis`; scale_c = max|w_c| / 127 (1.0 for an all-zero slice), q =
    clip(rint(w / scale_c), -127, 127).

    `weight` is a Tensor or an array (read as float32 `w`); a negative axis counts from the
    end. A scalar weight is a ValueError.
    """
    w = np.asarray(getattr(weight, "data", weight), dtype=np.float32)
    if w.ndim == 0:
        raise ValueError("quantize_per_channel: weight must have at least one axis, got a scalar")
    axis = axis % w.ndim
    others = tuple(i for i in range(w.ndim) if i != axis)
    ### BEGIN SOLUTION
    amax = np.abs(w).max(axis=others, keepdims=True) if others else np.abs(w)
    scale = np.where(amax > 0, amax / QMAX, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale), -QMAX, QMAX).astype(np.int8)
    return q, scale.reshape(-1)
    ### END SOLUTION


def dequantize_per_channel(q, scale, axis=0):
    """float32 weights q * scale_c (an ndarray shaped like q), scale_c broadcast along `axis`.

    `q` (int8) and `scale` ((q.shape[axis],) float32) are Tensors or arrays, as
    quantize_per_channel returns them; `shape` is the scale's broadcast shape along `axis`.
    """
    q = np.asarray(getattr(q, "data", q))
    scale = np.asarray(getattr(scale, "data", scale), dtype=np.float32)
    shape = [1] * q.ndim
    shape[axis % q.ndim] = -1
    ### BEGIN SOLUTION
    return q.astype(np.float32) * scale.reshape(shape)
    ### END SOLUTION


def quantize_rows(x):
    """Dynamic activation quantization, one scale per row (the last axis): (x_q int8 like x,
    scale float32 (*, 1)) with scale = max|row| / 127 (1.0 for an all-zero row) and x_q =
    clip(rint(x / scale), -127, 127).

    `x` is a float ndarray (*, K), not a Tensor: Int8Linear.forward passes its array.
    """
    ### BEGIN SOLUTION
    amax = np.abs(x).max(axis=-1, keepdims=True)
    scale = np.where(amax > 0, amax / QMAX, 1.0).astype(np.float32)
    xq = np.clip(np.rint(x / scale), -QMAX, QMAX).astype(np.int8)
    return xq, scale
    ### END SOLUTION


class Int8Linear(Function):
    """y = (x_q @ q^T) * x_scale * w_scale with int32 accumulation, x (N, K), q (O, K).

    |x_q . q_o| <= K * 127 * 127 fits int32 for K < 133,000. The backward is the
    straight-through estimator: rounding is treated as the identity, dy/dx = W_dequantized.
    """

    @staticmethod
    def forward(ctx, x, q, scale):
        """x (N, K) float ndarray, q (O, K) int8, scale (O,) float32 (arrays: apply passes the
        Tensors' data) -> y (N, O), an ndarray of x's dtype (float32): quantize_rows(x), the
        int8 product accumulated in int32 (x_q @ q^T, both as int32), times x_scale (N, 1)
        and scale (O,).

        ctx already keeps q and scale for the backward.
        """
        ctx.q, ctx.scale = q, scale
        ### BEGIN SOLUTION
        xq, x_scale = quantize_rows(x)                                # (N, K) int8, (N, 1)
        acc = np.matmul(xq.astype(np.int32), q.T.astype(np.int32))    # (N, O) int32
        return (acc.astype(np.float32) * x_scale * scale).astype(x.dtype, copy=False)
        ### END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        w = dequantize_per_channel(ctx.q, ctx.scale)                  # (O, K)
        return (grad @ w).astype(grad.dtype, copy=False), None, None


def _check_compute(compute):
    if compute not in ("float", "int8"):
        raise ValueError(f"compute must be 'float' or 'int8', got {compute!r}")
    return compute


def _qmatmul(x, weight_int8, scale, compute):
    """x (N, K) @ (weight_int8 * scale per row)^T -> (N, O), a Tensor. "int8": Int8Linear
    (given). "float": widen the (O, K) int8 weights to float32, and multiply by the (O,)
    scales on the smaller side: the weights when N > K, x @ (q * scale[:, None])^T, else the
    outputs, (x @ q^T) * scale (the same product); the matmul with x in tt ops.

    x is a float32 Tensor, weight_int8 an (O, K) int8 Tensor, scale an (O,) float32 Tensor
    (the layer's buffers). The matmul with x is a tt op (`@`), so autograd and the profiler
    see it; a multiply by the scales done in tt ops is profiled too (the tests hold it to
    the smaller side).
    """
    if compute == "int8":
        return Int8Linear.apply(x, weight_int8, scale)
    N, K = x.shape
    ### BEGIN SOLUTION
    # (x @ q^T) * s == x @ (q * s)^T: scale whichever is smaller, the N x O outputs or the
    # O x K weights (one token at a time: the outputs; a large batch: the weights)
    w = weight_int8.astype(float32)                                  # (O, K), widened
    if N > K:
        return x @ (w * scale.reshape(-1, 1)).T                      # (N, O)
    return (x @ w.T) * scale                                         # (N, O)
    ### END SOLUTION


class QuantizedLinear(Module):
    """Linear with int8 weights (per output channel scales) for inference.

    Buffers: weight_int8 (out, in) int8, weight_scale (out,) float32, bias (out,) or None.
    """

    def __init__(self, in_features, out_features, bias=True, compute="float"):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.compute = _check_compute(compute)
        self.register_buffer("weight_int8", Tensor(np.zeros((out_features, in_features),
                                                            dtype=np.int8), dtype=np.int8))
        self.register_buffer("weight_scale", Tensor(np.ones(out_features, dtype=np.float32)))
        self.register_buffer("bias", Tensor(np.zeros(out_features, np.float32)) if bias
                             else None)

    @classmethod
    def from_float(cls, linear, compute="float"):
        """Quantize a tt_layers.Linear's weight (its bias stays float32)."""
        layer = cls(linear.in_features, linear.out_features, linear.bias is not None, compute)
        q, scale = quantize_per_channel(linear.weight.data, axis=0)
        layer.weight_int8.data[...] = q
        layer.weight_scale.data[...] = scale
        if linear.bias is not None:
            layer.bias.data[...] = linear.bias.data
        return layer

    def forward(self, x):
        """(*, in_features) -> (*, out_features)."""
        x = as_tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"QuantizedLinear: expected input of shape (*, {self.in_features}),"
                             f" got {x.shape}")
        lead = x.shape[:-1]
        out = _qmatmul(x.reshape(-1, self.in_features), self.weight_int8, self.weight_scale,
                       self.compute)                                 # (N, out)
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(*lead, self.out_features)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}, compute={self.compute!r}")


class QuantizedConv2d(Module):
    """Conv2d with int8 weights (one scale per output channel), computed as im2col + matmul."""

    def __init__(self, conv, compute="float"):
        super().__init__()
        self.in_channels, self.out_channels = conv.in_channels, conv.out_channels
        self.kernel_size, self.stride, self.padding = conv.kernel_size, conv.stride, conv.padding
        self.compute = _check_compute(compute)
        q, scale = quantize_per_channel(conv.weight.data, axis=0)    # (OC, C, KH, KW), (OC,)
        self.register_buffer("weight_int8", Tensor(q.reshape(self.out_channels, -1),
                                                   dtype=np.int8))   # (OC, C*KH*KW)
        self.register_buffer("weight_scale", Tensor(scale))
        self.register_buffer("bias", None if conv.bias is None else Tensor(conv.bias.data))

    @classmethod
    def from_float(cls, conv, compute="float"):
        return cls(conv, compute)

    def forward(self, x):
        """(B, C, H, W) -> (B, OC, OH, OW)."""
        x = as_tensor(x)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"QuantizedConv2d: expected input (B, {self.in_channels}, H, W), "
                             f"got shape {x.shape}")
        B = x.shape[0]
        cols = im2col(x, self.kernel_size, self.stride, self.padding)  # (C*KH*KW, B*OH*OW)
        OH, OW = _out_hw(x.shape[2:], self.kernel_size, self.stride, self.padding)
        out = _qmatmul(cols.T, self.weight_int8, self.weight_scale, self.compute)  # (B*OH*OW, OC)
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(B, OH, OW, self.out_channels).permute(0, 3, 1, 2)  # (B, OC, OH, OW)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, compute={self.compute!r}")


def _out_hw(hw, kernel, stride, padding):
    return tuple((s + 2 * p - k) // st + 1 for s, k, st, p in zip(hw, kernel, stride, padding))


QUANTIZED = {Linear: QuantizedLinear, Conv2d: QuantizedConv2d}


def quantize_dynamic(model, qconfig_spec=None, inplace=False, compute="float"):
    """A copy of `model` (or the model itself when inplace) with every Linear and Conv2d (or
    the classes in qconfig_spec) replaced by its int8 QuantizedLinear / QuantizedConv2d.

    PyTorch's name (torch.ao.quantization.quantize_dynamic). The result is for inference:
    call it in eval mode, under no_grad.
    """
    _check_compute(compute)
    spec = set(QUANTIZED) if qconfig_spec is None else set(qconfig_spec)
    unknown = [cls.__name__ for cls in spec if cls not in QUANTIZED]
    if unknown:
        raise ValueError(f"quantize_dynamic: no quantized version of {unknown}; "
                         f"supported: {[cls.__name__ for cls in QUANTIZED]}")
    if isinstance(model, tuple(spec)):
        raise ValueError("quantize_dynamic: pass a model that contains the layers; use "
                         "QuantizedLinear.from_float for a single layer")
    model = model if inplace else copy.deepcopy(model)
    for parent in list(model.modules()):
        children = list(parent.named_children())
        if not any(type(child) in spec for _, child in children):
            continue
        # re-assign every child in order: assignment appends, so the order (which Sequential
        # runs in) comes out unchanged
        for name, child in children:
            if type(child) in spec:
                child = QUANTIZED[type(child)].from_float(child, compute)
            setattr(parent, name, child)
    return model


def model_size_bytes(model):
    """Bytes of every parameter and buffer, each array counted once (tied weights once)."""
    arrays = {}
    for tensor in [*model.parameters(), *model.buffers()]:
        arrays[id(tensor.data)] = tensor.data.nbytes
    return sum(arrays.values())
