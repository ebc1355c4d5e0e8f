"""FLOP and byte counts: each op by its rule, each layer against its closed form.

Tests in task order (tests/tasks.txt): the closed forms need only matmul_flops; the profiles
need forward_flops, then backward_flops as well."""

import numpy as np
import pytest
from tt_attention import KVCache, MultiHeadAttention, scaled_dot_product_attention
from tt_layers import Linear
from tt_spatial import Conv2d
from tt_systems import (
    Profiler, attention_flops, attention_flops_tolerance, attention_matmul_flops,
    backward_flops, conv2d_flops, forward_bytes, forward_flops, linear_flops, matmul_flops,
    register_flop_rule,
)
from tt_tensor import Function, broadcast_to, no_grad, randn, reshape, sliding_window


def forward_flops_of(module, *args, **kwargs):
    """The FLOPs the profiler attributes to one forward of `module`."""
    with Profiler(module) as prof:
        module(*args, **kwargs)
    (root,) = [r for r in prof.module_records if r.type == type(module).__name__]
    return root.flops, prof


@pytest.mark.parametrize("a, b", [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((7, 1, 3, 4), (6, 4, 2)),
                                  ((4,), (4, 5)), ((3, 4), (4,))])
def test_matmul_flops_is_2mnk_times_batch(a, b):
    out = np.matmul(np.ones(a), np.ones(b))
    K = a[-1]
    assert matmul_flops(a, b) == 2 * K * out.size


@pytest.mark.parametrize("N, I, O", [(8, 12, 7), (1, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_flops_is_one_matmul_plus_the_bias(N, I, O, bias):
    assert linear_flops(N, I, O, bias) == matmul_flops((N, I), (I, O)) + (N * O if bias else 0)
    assert linear_flops(N, I, O, True) - linear_flops(N, I, O, False) == N * O


@pytest.mark.parametrize("B, C, OC, K, out_hw", [(2, 3, 5, (3, 3), (7, 6)),
                                                 (1, 1, 4, (2, 5), (1, 1))])
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_flops_is_one_matmul_plus_the_bias(B, C, OC, K, out_hw, bias):
    """im2col: (OC, C KH KW) @ (C KH KW, B OH OW), then one add per output element."""
    columns = C * K[0] * K[1]
    outputs = B * OC * out_hw[0] * out_hw[1]
    expected = matmul_flops((OC, columns), (columns, B * out_hw[0] * out_hw[1]))
    assert conv2d_flops(B, C, OC, K, out_hw, bias) == expected + (outputs if bias else 0)


@pytest.mark.parametrize("batch_shape, bias", [((8,), True), ((2, 5), False)])
def test_linear_profile_equals_closed_form(batch_shape, bias):
    layer = Linear(12, 7, bias=bias)
    flops, _ = forward_flops_of(layer, randn(*batch_shape, 12))
    assert flops == linear_flops(int(np.prod(batch_shape)), 12, 7, bias)


def test_linear_backward_is_two_matmuls_when_the_input_needs_a_gradient():
    layer = Linear(6, 4, bias=False)
    x = randn(5, 6, requires_grad=True)
    with Profiler(layer) as prof:
        layer(x).sum().backward()
    (matmul_bwd,) = [r for r in prof.records if (r.name, r.phase) == ("matmul", "backward")]
    assert matmul_bwd.flops == 2 * (2 * 5 * 6 * 4)


@pytest.mark.parametrize("stride, padding, bias", [(1, 0, True), (2, 1, True), (1, 2, False)])
def test_conv2d_profile_equals_closed_form(stride, padding, bias):
    B, C, H, W, OC, K = 2, 3, 9, 8, 5, 3
    conv = Conv2d(C, OC, K, stride=stride, padding=padding, bias=bias)
    flops, _ = forward_flops_of(conv, randn(B, C, H, W))
    OH = (H + 2 * padding - K) // stride + 1
    OW = (W + 2 * padding - K) // stride + 1
    assert flops == conv2d_flops(B, C, OC, (K, K), (OH, OW), bias)


def matmul_flops_of(prof):
    return sum(r.flops for r in prof.records if (r.name, r.phase) == ("matmul", "forward"))


@pytest.mark.parametrize("B, T, E, H, bias", [(2, 7, 16, 4, True), (1, 12, 24, 3, False),
                                              (3, 1, 8, 2, True)])
def test_attention_profile_meets_the_closed_form(B, T, E, H, bias, attention_class):
    """The matmuls exactly (tt-attention's contract), the rest within the stated tolerance."""
    mha = attention_class(E, H, bias=bias, causal=True)
    flops, prof = forward_flops_of(mha, randn(B, T, E))
    assert matmul_flops_of(prof) == attention_matmul_flops(B, T, E, H)
    closed = attention_flops(B, T, E, H, bias=bias, causal=True)
    assert abs(flops - closed) <= attention_flops_tolerance(B, T, E, H)


def test_attention_with_a_kv_cache_counts_the_cached_keys(attention_class):
    mha = attention_class(16, 4, causal=True)
    cache = KVCache()
    with no_grad():
        mha(randn(1, 5, 16), kv_cache=cache)                 # prefill 5 positions
        flops, prof = forward_flops_of(mha, randn(1, 1, 16), kv_cache=cache)
    assert matmul_flops_of(prof) == attention_matmul_flops(1, 1, 16, 4, past=5)
    assert abs(flops - attention_flops(1, 1, 16, 4, past=5)) <= attention_flops_tolerance(
        1, 1, 16, 4, past=5)


@pytest.mark.parametrize("B, T, E, H, bias, causal, past", [
    (2, 7, 16, 4, True, True, 0), (1, 1, 8, 2, True, True, 0), (1, 1, 16, 4, False, True, 5),
    (3, 4, 12, 3, False, False, 2)])
def test_attention_closed_forms_term_by_term(B, T, E, H, bias, causal, past):
    """Each closed form against its terms, T = 1 included (no mask for a single query)."""
    S, D = past + T, E // H
    matmuls = 4 * 2 * B * T * E * E + 2 * 2 * B * H * T * S * D
    assert attention_matmul_flops(B, T, E, H, past=past) == matmuls
    masked = B * H * T * S if causal and T > 1 else 0
    elementwise = 4 * B * T * E * bias + 6 * B * H * T * S + masked
    assert attention_flops(B, T, E, H, bias=bias, causal=causal, past=past) == \
        matmuls + elementwise
    assert attention_flops_tolerance(B, T, E, H, past=past) == 2 * (B * H * T * S + B * T * E)


def test_the_scale_q_attention_is_multi_head_attention(scale_q_attention):
    """The alternative meets the contract: same outputs as the installed one, with and
    without a KV cache."""
    reference = MultiHeadAttention(16, 4, causal=True)
    other = scale_q_attention(16, 4, causal=True)
    other.load_state_dict(reference.state_dict())
    x = randn(2, 6, 16)
    np.testing.assert_allclose(other(x).data, reference(x).data, rtol=1e-5, atol=1e-6)
    caches = KVCache(), KVCache()
    with no_grad():
        for t in range(3):
            step = x[:, t:t + 1]
            np.testing.assert_allclose(other(step, kv_cache=caches[0]).data,
                                       reference(step, kv_cache=caches[1]).data,
                                       rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("B, T, E, H, past", [(2, 7, 16, 4, 0), (1, 1, 8, 2, 0), (1, 1, 16, 4, 5),
                                           (3, 4, 12, 3, 2)])
def test_attention_flops_bias_and_mask_terms(B, T, E, H, past):
    """Each optional term on its own: the four projections' bias adds are 4 B T E; the causal
    mask adds one FLOP per score, B H T S, except for a single query (T = 1: no mask)."""
    S = past + T

    def flops(bias, causal):
        return attention_flops(B, T, E, H, bias=bias, causal=causal, past=past)

    for causal in (True, False):
        assert flops(True, causal) - flops(False, causal) == 4 * B * T * E
    for bias in (True, False):
        assert flops(bias, True) - flops(bias, False) == (B * H * T * S if T > 1 else 0)
    # without either: the matmuls, the scale (one per score) and the softmax (five per score)
    assert flops(False, False) == attention_matmul_flops(B, T, E, H, past=past) \
        + 6 * B * H * T * S


def test_attention_flops_grow_quadratically_in_T():
    # the T-dependent part beyond linear: f(2T) - 2 f(T) = the T^2 terms, scaled by 2
    def quadratic(T):
        return attention_flops(1, 2 * T, 32, 4) - 2 * attention_flops(1, T, 32, 4)

    assert quadratic(64) == 4 * quadratic(32)


def test_forward_flops_of_each_kind_of_op():
    """Elementwise: the output's elements (the broadcast shape); reductions: the input's
    elements, whatever the axes; movement: none; matmul: 2 M N K per batch element."""
    x, b = np.ones((3, 4), np.float32), np.ones(4, np.float32)
    assert forward_flops("mul", (x, b), x * b) == 12
    assert forward_flops("add", (b,), np.ones((5, 3, 4))) == 60   # the array operand: no Tensor
    assert forward_flops("exp", (x,), np.exp(x)) == 12
    cube = np.ones((3, 4, 5), np.float32)
    assert forward_flops("sum", (cube,), cube.sum(axis=1)) == 60
    assert forward_flops("max", (cube,), cube.max()) == 60
    for op in ("reshape", "permute", "getitem", "pad", "concatenate"):
        assert forward_flops(op, (cube,), cube.reshape(12, 5)) == 0
    a, w = np.ones((2, 3, 4)), np.ones((4, 6))
    assert forward_flops("matmul", (a, w), a @ w) == 2 * 2 * 3 * 4 * 6
    assert forward_flops("matmul", (a,), a @ w) == 2 * 2 * 3 * 4 * 6  # w was an ndarray


def test_backward_flops_of_each_kind_of_op():
    """Per gradient produced: elementwise the broadcast output's elements (a broadcast input
    too), reductions the input's elements, matmul 2 M N K; a None gradient costs nothing."""
    x, b = np.ones((3, 4), np.float32), np.ones(4, np.float32)
    assert backward_flops("mul", (x, b), (x, b)) == 2 * 12
    assert backward_flops("mul", (x, b), (None, b)) == 12          # b's gradient is (4,)
    assert backward_flops("add", (b, np.float32(2)), (b, None)) == 4
    cube = np.ones((3, 4, 5), np.float32)
    assert backward_flops("sum", (cube,), (cube,)) == 60
    assert backward_flops("max", (cube,), (None,)) == 0
    assert backward_flops("reshape", (cube,), (cube,)) == 0
    a, w = np.ones((5, 6)), np.ones((6, 4))
    assert backward_flops("matmul", (a, w), (a, w)) == 2 * (2 * 5 * 6 * 4)
    assert backward_flops("matmul", (a, w), (None, w)) == 2 * 5 * 6 * 4


def flops_by_op(prof, phase):
    totals = {}
    for r in prof.records:
        if r.phase == phase:
            totals[r.name] = totals.get(r.name, 0) + r.flops
    return totals


@pytest.mark.parametrize("b_needs_grad", [True, False])
def test_profiled_elementwise_and_reduction_flops_meet_the_rules(b_needs_grad):
    """(x * b).sum(axis=1).max() with x (3, 4, 5), b (4, 5) broadcast: every op forward and
    backward against the counting rules' closed forms."""
    x = randn(3, 4, 5, requires_grad=True)
    b = randn(4, 5, requires_grad=b_needs_grad)
    with Profiler() as prof:
        (x * b).sum(axis=1).max().backward()
    gradients = 2 if b_needs_grad else 1
    assert flops_by_op(prof, "forward") == {"mul": 60, "sum": 60, "max": 3 * 5}
    assert flops_by_op(prof, "backward") == {"mul": gradients * 60, "sum": 60, "max": 3 * 5}


def test_views_allocate_nothing_and_copies_count_their_bytes():
    x = randn(4, 6, 8)
    assert forward_bytes((x,), reshape(x, (24, 8))) == 0
    assert forward_bytes((x,), x.permute(2, 0, 1)) == 0
    assert forward_bytes((x,), broadcast_to(x, (3, 4, 6, 8))) == 0
    assert forward_bytes((x,), sliding_window(x, (2, 2))) == 0
    assert forward_bytes((x,), x[1:3]) == 0                          # basic indexing: a view
    fancy = x[np.array([0, 2, 3])]                                   # fancy indexing: a copy
    assert forward_bytes((x,), fancy) == fancy.data.nbytes
    moved = x.permute(2, 0, 1)
    copied = reshape(moved, (-1,))                                   # not contiguous: a copy
    assert forward_bytes((moved,), copied) == 4 * 6 * 8 * 4
    assert forward_bytes((x, x), x + x) == x.data.nbytes


def test_profiled_bytes_of_a_linear_are_its_two_outputs():
    layer = Linear(10, 6)
    with Profiler() as prof:
        layer(randn(5, 10))
    # x W^T + b: the product and the sum are new (5, 6) arrays; how W is transposed is
    # Linear's business, and a transpose is a view
    by_op = {r.name: r.bytes for r in prof.records}
    assert by_op["matmul"] == 5 * 6 * 4
    assert sum(by_op.values()) == 2 * 5 * 6 * 4


class Cube(Function):
    """x^3 as one fused op; keeps x (the input: nothing new) and x^2 (new) for backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.x, ctx.x2 = x, x * x
        return ctx.x2 * x

    @staticmethod
    def backward(ctx, grad):
        return (3 * ctx.x2 * grad,)


def test_a_fused_function_counts_its_output_and_what_it_saved():
    x = randn(6, 5, requires_grad=True)
    with Profiler() as prof:
        Cube.apply(x).sum().backward()
    cube = {r.phase: r for r in prof.records if r.name == "Cube"}
    assert cube["forward"].bytes == 2 * x.data.nbytes          # output + ctx.x2, not ctx.x
    assert cube["forward"].flops == cube["backward"].flops == 0  # unknown op: no rule yet
    with no_grad():                                               # no graph: nothing saved
        assert forward_bytes((x,), Cube.apply(x)) == x.data.nbytes


def test_registered_flop_rules_count_fused_ops():
    register_flop_rule("Cube", lambda inputs, out: 2 * out.data.size,
                       lambda inputs, grads: 3 * grads[0].size)
    try:
        x = randn(4, 3, requires_grad=True)
        with Profiler() as prof:
            Cube.apply(x).sum().backward()
        cube = {r.phase: r.flops for r in prof.records if r.name == "Cube"}
        assert cube == {"forward": 24, "backward": 36}
    finally:
        register_flop_rule("Cube", None)
    with Profiler() as prof:
        Cube.apply(randn(2, 2))
    assert [r.flops for r in prof.records if r.name == "Cube"] == [0]


@pytest.mark.parametrize("causal", [True, False])
def test_fused_attention_counts_what_its_composition_counts(causal):
    """tt-attention's fast path (one ScaledDotProductAttention op, taken from 2^15 scores on)
    and its composition (two matmuls and a masked softmax) profile the same FLOPs."""
    import tt_attention
    from tt_tensor import fast_paths_off

    B, H, T, D = 2, 4, 64, 8                                   # 32,768 scores
    q, k, v = (randn(B, H, T, D, requires_grad=True) for _ in range(3))

    def profiled():
        with Profiler() as prof:
            y = scaled_dot_product_attention(q, k, v, is_causal=causal)
            (y * y).sum().backward()
        totals = {"forward": 0, "backward": 0}
        for r in prof.records:
            if r.name != "mul" and r.name != "sum":
                totals[r.phase] += r.flops
        return totals, {r.name for r in prof.records}

    fused, fused_ops = profiled()
    with fast_paths_off(tt_attention):
        plain, plain_ops = profiled()
    if tt_attention.fast_paths_enabled():                     # the reference: the fused op ran
        assert "ScaledDotProductAttention" in fused_ops
    assert "ScaledDotProductAttention" not in plain_ops
    scores = B * H * T * T
    assert plain["forward"] == 2 * 2 * scores * D + (7 if causal else 6) * scores
    assert plain["backward"] == 4 * 2 * scores * D + 5 * scores
    assert fused == plain
