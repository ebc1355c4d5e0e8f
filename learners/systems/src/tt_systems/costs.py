"""What one op costs: floating-point operations counted from shapes, and bytes allocated.

The counting convention (the README explains it):
- matmul a (*, M, K) @ b (*, K, N): 2 * M * N * K per batch element (a multiply and an add);
- elementwise ops (ELEMENTWISE): one FLOP per element of the output, whose shape is the
  broadcast shape of all the operands (x (3, 4) + b (4,) is 12); reductions (REDUCTIONS: sum,
  max): one per element of the input, whatever the axes;
- movement ops (MOVEMENT: reshape, permute, pad, getitem, ...): no FLOPs, only bytes when they
  copy;
- backward, for each input that receives a gradient (each gradient that is not None): matmul
  2 * M * N * K of its forward shapes; an elementwise op one FLOP per element of the
  broadcast shape of all its inputs (its forward output), also for an input that was
  broadcast (summing that gradient down to the input's shape is not counted apart); a
  reduction one per element of its input (the gradient spread back over it).
So x (3, 4) * b (4,), both needing gradients, costs 12 forward and 2 * 12 backward; x.sum(1)
on (3, 4, 5) costs 60 forward and 60 backward.
A fused `tt_tensor.Function` counts 0 FLOPs unless a rule is registered for its name
(`register_flop_rule`); the course's fused softmaxes and GELU have theirs.
Closed forms for whole layers (`linear_flops`, `conv2d_flops`, `attention_flops`) follow the
same convention. A profile of Linear and Conv2d adds up to theirs exactly (their modules'
contracts fix every op that computes); attention's contract fixes its matmuls
(`attention_matmul_flops`, exact) and leaves the elementwise work around the softmax to the
implementation, within `attention_flops_tolerance`.
"""

import math

import numpy as np

ELEMENTWISE = frozenset({"add", "sub", "mul", "div", "pow", "maximum", "neg", "exp", "log",
                         "tanh", "where"})
REDUCTIONS = frozenset({"sum", "max"})
MOVEMENT = frozenset({"reshape", "permute", "broadcast_to", "getitem", "pad", "sliding_window",
                      "concatenate", "astype"})


def _shape(x):
    """The shape of a Tensor or an ndarray (np.shape for anything else)."""
    shape = getattr(x, "shape", None)
    return shape if shape is not None else np.shape(x)


def _matmul_operand_shapes(inputs, output):
    """The two operand shapes of a matmul. An operand that was not a Tensor (an ndarray
    passed in) is not among the event's inputs: rebuild its shape from the output's."""
    if len(inputs) >= 2:
        return _shape(inputs[0]), _shape(inputs[1])
    known, out = _shape(inputs[0]), _shape(output)
    if len(known) >= 2 and len(out) >= 2 and known[-2] == out[-2]:  # the left operand
        return known, (known[-1], out[-1])
    return (out[-2] if len(out) >= 2 else 1, known[0]), known     # the right operand


def _size(shape):
    return math.prod(shape)


def matmul_dims(a_shape, b_shape):
    """(batch, M, K, N) of a @ b under NumPy's rules: a 1-D operand gets a unit axis."""
    a = (1,) + tuple(a_shape) if len(a_shape) == 1 else tuple(a_shape)
    b = tuple(b_shape) + (1,) if len(b_shape) == 1 else tuple(b_shape)
    batch = _size(np.broadcast_shapes(a[:-2], b[:-2]))
    return batch, a[-2], a[-1], b[-1]


def matmul_flops(a_shape, b_shape):
    """2 * batch * M * K * N (an int) for a @ b with these shapes (tuples): one multiply and
    one add per term of every dot product; matmul_dims gives (batch, M, K, N) under NumPy's
    rules (a 1-D operand gets a unit axis, batch axes broadcast)."""
    ### BEGIN SOLUTION
    batch, M, K, N = matmul_dims(a_shape, b_shape)
    return 2 * batch * M * K * N
    ### END SOLUTION


def _per_element(n):
    """A rule counting n FLOPs per element of the output (or of the first gradient)."""
    def rule(inputs, result):
        first = result[0] if isinstance(result, (tuple, list)) else result
        return 0 if first is None else n * _size(_shape(first))
    return rule


# FLOP rules for fused Functions, by op name: fn(inputs, output) forward, fn(inputs, grads)
# backward. The course's own fused ops count what their NumPy bodies compute, so a profile
# of attention or of a GPT's MLP adds up the same as the composed versions' would.
def _masked_softmax_flops(inputs, output):
    """tt_attention's softmax(scale x + bias): scale, bias add (when the node shows a bias),
    max, sub, exp, sum, div per element. Without a recorded node (no_grad) the bias add is
    not visible and not counted."""
    attrs = getattr(getattr(output, "grad_fn", None), "attrs", None) or {}
    per = 7 if attrs.get("bias") is not None else 6
    return per * _size(_shape(output))


# tt_spatial's fused conv2d and max_pool2d (its fast paths) count what the compositions
# would: the conv's matmul (and bias adds), the pool's comparisons. A backward event shows
# the inputs and their gradients but not the output, so the forward rule notes the output's
# size per (x, weight) pair for the backward rule (bounded: dropped past _NOTED_MAX).
_conv_outputs = {}
_NOTED_MAX = 4096


def _conv_forward_flops(inputs, output):
    x, weight = inputs[0], inputs[1]
    outputs = _size(_shape(output))                            # B * OC * OH * OW
    if len(_conv_outputs) >= _NOTED_MAX:
        _conv_outputs.clear()
    _conv_outputs[(id(x), id(weight))] = outputs
    per_output = _size(_shape(weight)[1:])                     # C * KH * KW
    return 2 * outputs * per_output + (outputs if len(inputs) == 3 else 0)


def _conv_backward_flops(inputs, grads):
    """dW and (when computed) d(cols), one matmul each as in the composition; the bias's
    gradient sums one number per output."""
    outputs = _conv_outputs.pop((id(inputs[0]), id(inputs[1])), 0)
    product = 2 * outputs * _size(_shape(inputs[1])[1:])
    flops = product * sum(g is not None for g in grads[:2])
    return flops + (outputs if len(grads) == 3 and grads[2] is not None else 0)


def _pool_forward_flops(inputs, output):
    """max over each window: one comparison per window element, as the max reduction."""
    kh, kw = getattr(getattr(output, "grad_fn", None), "attrs", {}).get("kernel", (1, 1))
    return kh * kw * _size(_shape(output))


def _attention_dims(inputs):
    """(scores, D, Dv) of tt_attention's fused attention: q (*, Tq, D), k (*, Tk, D), v."""
    q, k, v = (_shape(x) for x in inputs[:3])
    return _size(q[:-1]) * k[-2], q[-1], v[-1]


def _attention_forward_flops(inputs, output):
    """tt_attention's ScaledDotProductAttention counts what its composition would: q k^T and
    w v (2 FLOPs per multiply-add each) and the masked softmax between them."""
    scores, D, Dv = _attention_dims(inputs)
    attrs = getattr(getattr(output, "grad_fn", None), "attrs", None) or {}
    softmax = 7 if attrs.get("bias") is not None else 6  # as _masked_softmax_flops
    return 2 * scores * (D + Dv) + softmax * scores


def _attention_backward_flops(inputs, grads):
    """The composition's backward: two products for each of q k^T and w v (the gradients of
    both operands), and the softmax's gradient (5 per score)."""
    scores, D, Dv = _attention_dims(inputs)
    return 2 * 2 * scores * (D + Dv) + 5 * scores


def _cross_entropy_flops(inputs, output):
    """tt_networks' fused cross-entropy: max, sub, exp, sum, div per logit (the (N, C) input;
    the output is a 0-d loss or the (N,) losses)."""
    return 5 * _size(_shape(inputs[0]))


EXTRA_FORWARD = {
    "BatchNormTrain": _per_element(7),   # tt_normalization: 2 sums, sub, square, 2 mul, add
    "Conv2dIm2col": _conv_forward_flops,
    "MaxPool2dWindows": _pool_forward_flops,
    "CrossEntropyRows": _cross_entropy_flops,
    "LayerNormRows": _per_element(7),    # tt_normalization: mean, sub, square-sum, 1/std, w, b
    "ScaledMaskedSoftmax": _masked_softmax_flops,
    "ScaledDotProductAttention": _attention_forward_flops,
    "SoftmaxLastAxis": _per_element(5),  # max, sub, exp, sum, div
    "GELUTanh": _per_element(8),         # tt_activations: 0.5 x (1 + tanh(c (x + k x^3)))
}
EXTRA_BACKWARD = {
    "BatchNormTrain": _per_element(7),   # 2 sums, 2 mul, 2 sub, scale
    "Conv2dIm2col": _conv_backward_flops,
    "MaxPool2dWindows": _per_element(1),     # the first-maximum mask times the gradient
    "CrossEntropyRows": _per_element(2),    # softmax - onehot, times the upstream gradient
    "LayerNormRows": _per_element(10),   # g w, 2 row means, x_hat mul, 2 sub, 1/std, dw, db
    "ScaledMaskedSoftmax": _per_element(5),  # scale * y * (g - sum(g y))
    "ScaledDotProductAttention": _attention_backward_flops,
    "SoftmaxLastAxis": _per_element(4),      # y * (g - sum(g y)): mul, sum, mul, sub
    "GELUTanh": _per_element(12),
}


def register_flop_rule(op, forward, backward=None):
    """Count FLOPs of the op named `op` (a Function subclass's name) with forward(inputs,
    output) -> int and backward(inputs, grads) -> int (0 when not given); forward=None
    removes the rule."""
    if forward is None:
        EXTRA_FORWARD.pop(op, None)
        EXTRA_BACKWARD.pop(op, None)
        return
    if not callable(forward) or (backward is not None and not callable(backward)):
        raise TypeError(f"register_flop_rule: the rules for {op!r} must be callables")
    EXTRA_FORWARD[op] = forward
    EXTRA_BACKWARD[op] = backward if backward is not None else (lambda inputs, grads: 0)


def forward_flops(op, inputs, output):
    """FLOPs (an int) of one forward op `op`, from shapes only: matmul: matmul_flops of its
    two operand shapes; an op in ELEMENTWISE: the element count of `output`; in REDUCTIONS:
    the element count of inputs[0]; anything else (MOVEMENT, a fused op without a rule): 0.

    `inputs` are the op's Tensor operands (a number or ndarray operand is not among them:
    _matmul_operand_shapes rebuilds a matmul's missing one), `output` its result. Rules
    registered for fused ops (EXTRA_FORWARD) answer before this code; the module doc has
    examples.
    """
    if op in EXTRA_FORWARD:
        return int(EXTRA_FORWARD[op](inputs, output))
    ### BEGIN SOLUTION
    if op == "matmul":
        return matmul_flops(*_matmul_operand_shapes(inputs, output))
    if op in ELEMENTWISE:
        return _size(_shape(output))
    if op in REDUCTIONS:
        return _size(_shape(inputs[0])) if inputs else 0
    return 0  # movement ops, and fused Functions without a registered rule
    ### END SOLUTION


def backward_flops(op, inputs, grads):
    """FLOPs (an int) of one op's backward, per gradient produced (each of `grads` that is
    not None): matmul: matmul_flops of inputs[0] and inputs[1]; an op in ELEMENTWISE: the
    element count of the broadcast shape of all `inputs` (its forward output, also for an
    input that was broadcast); in REDUCTIONS: the element count of inputs[0]; else 0.

    `inputs` are the forward node's inputs (Tensors: a number operand is one here too),
    `grads` one array or None per input; `produced` counts the gradients. Rules registered
    for fused ops (EXTRA_BACKWARD) answer before this code; the module doc has examples.
    """
    if op in EXTRA_BACKWARD:
        return int(EXTRA_BACKWARD[op](inputs, grads))
    produced = sum(g is not None for g in grads)
    ### BEGIN SOLUTION
    if produced == 0:
        return 0
    if op == "matmul":
        if len(inputs) >= 2:
            return produced * matmul_flops(_shape(inputs[0]), _shape(inputs[1]))
        return 0  # an operand that was not a Tensor: its shape is not known here
    if op in ELEMENTWISE:
        return produced * _size(_broadcast_output_shape(inputs, grads))
    if op in REDUCTIONS:
        return _size(_shape(inputs[0])) if inputs else 0
    return 0
    ### END SOLUTION


def _arrays(items):
    """Every ndarray among op arguments: tensors' data, arrays, and lists of them."""
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from _arrays(item)
            continue
        data = getattr(item, "data", item)
        if isinstance(data, np.ndarray):
            yield data


def forward_bytes(inputs, output):
    """Bytes a forward op allocated and its result keeps: the output's nbytes, or 0 when the
    output is a view that may share memory with an input (reshape, permute, broadcast_to,
    sliding_window, basic getitem; NumPy's bounds check `may_share_memory` is O(1)); plus,
    when a graph node was recorded, the other arrays it keeps (see _saved_bytes)."""
    data = getattr(output, "data", output)
    if not isinstance(data, np.ndarray):
        return 0
    inputs = list(_arrays(inputs))
    saved = _saved_bytes(getattr(output, "grad_fn", None), inputs + [data])
    for array in inputs:
        if np.may_share_memory(data, array):
            return saved
    return data.nbytes + saved


def _saved_bytes(node, known):
    """Bytes of the arrays a recorded node keeps besides its inputs and output: a Function's
    ctx (what its forward saved for backward) and the node's attributes (a `where`
    condition, a getitem index, a mask bias). None of `known` is counted."""
    if node is None:
        return 0
    ctx = getattr(node, "ctx", None)
    values = list(getattr(node, "attrs", {}).values())
    values += list(vars(ctx).values()) if ctx is not None else []
    total, seen = 0, set()
    for value in values:
        if isinstance(value, np.ndarray) and id(value) not in seen:
            seen.add(id(value))
            if not any(np.may_share_memory(value, k) for k in known):
                total += value.nbytes
    return total


def _broadcast_output_shape(inputs, grads):
    """The output shape of an elementwise op, from its inputs' shapes (NumPy's broadcasting);
    the largest gradient's shape when the inputs do not tell (no inputs, or not broadcastable)."""
    try:
        return np.broadcast_shapes(*(tuple(_shape(x)) for x in inputs))
    except (TypeError, ValueError):
        sizes = [np.shape(g) for g in grads if g is not None]
        return max(sizes, key=_size, default=())


def linear_flops(batch, in_features, out_features, bias=True):
    """Forward FLOPs of Linear on (batch, in_features): x @ W^T (2 N I O) plus the bias (N O)."""
    ### BEGIN SOLUTION
    N, I, O = batch, in_features, out_features
    return 2 * N * I * O + (N * O if bias else 0)
    ### END SOLUTION


def conv2d_flops(batch, in_channels, out_channels, kernel_size, out_hw, bias=True):
    """Forward FLOPs of Conv2d: one matmul (OC, C KH KW) @ (C KH KW, B OH OW) plus the bias.

    = 2 B OC OH OW C KH KW + B OC OH OW; padding and im2col are movement (bytes, no FLOPs).
    """
    (KH, KW), (OH, OW) = kernel_size, out_hw
    ### BEGIN SOLUTION
    B, C, OC = batch, in_channels, out_channels
    outputs = B * OC * OH * OW
    return 2 * outputs * C * KH * KW + (outputs if bias else 0)
    ### END SOLUTION


def attention_flops(batch, T, embed_dim, num_heads, bias=True, causal=True, past=0):
    """Forward FLOPs (an int) of tt_attention.MultiHeadAttention on (B, T, E), H heads,
    D = E / H, S = past + T keys: 4 * linear_flops(B T, E, E, bias) (the q, k, v and output
    projections) + 2 * 2 B H T S D (Q K^T and P V) + B H T S (the 1/sqrt(D) scale) + B H T S
    (the causal mask add, only when causal and T > 1) + 5 B H T S (softmax).

    The terms: 4 (2 B T E^2 + B T E) for the projections, the B T E bias add only when bias;
    a single query (T = 1) sees every key, so it gets no mask; the softmax counts max, sub,
    exp, sum and div, one FLOP per score each.

    The matmul part (attention_matmul_flops) is tt-attention's contract; the elementwise part
    is the reference's way, and an implementation may differ there by attention_flops_tolerance.
    """
    B, E, H = batch, embed_dim, num_heads
    S = past + T
    D = E // H
    ### BEGIN SOLUTION
    N = B * T
    projections = 4 * (2 * N * E * E + (N * E if bias else 0))
    scores = B * H * T * S
    matmuls = 2 * 2 * scores * D
    masked = scores if causal and T > 1 else 0
    return projections + matmuls + scores + masked + 5 * scores
    ### END SOLUTION


def attention_matmul_flops(batch, T, embed_dim, num_heads, past=0):
    """The matmul FLOPs of MultiHeadAttention, exact for any implementation of tt-attention's
    contract (its README's cost table: the four E x E projections, Q K^T and P V as batched
    matmuls over the heads): 4 * 2 B T E^2 + 2 * 2 B H T S D = 8 B T E^2 + 4 B T S E."""
    S = past + T
    return 8 * batch * T * embed_dim ** 2 + 4 * batch * T * S * embed_dim


def attention_flops_tolerance(batch, T, embed_dim, num_heads, past=0):
    """How far the elementwise FLOPs of an implementation meeting tt-attention's contract may
    be from attention_flops: 2 per score (where the scale goes, a mask applied or not) and 2
    per (B, T, E) element (scaling q instead of the scores, say)."""
    S = past + T
    return 2 * (batch * num_heads * T * S + batch * T * embed_dim)
