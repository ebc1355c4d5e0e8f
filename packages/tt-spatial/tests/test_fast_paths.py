"""The fused fast paths (fused.py) equal the plain compositions, in values and gradients.

Each case runs twice on the same arrays, once with use_fast_paths(False) (the compositions
of primitives in functional.py) and once with the fast paths on, with one and two worker
threads, and compares the outputs and every gradient. The switch is optional (an
implementation may have no fast path); without one, the output with a graph recorded must
equal the output without (gradients: test_gradients.py).
"""

import numpy as np
import pytest
import tt_spatial
import tt_tensor as tt
from tt_spatial import conv2d, max_pool2d

SWITCH = getattr(tt_spatial, "use_fast_paths", None)


@pytest.fixture(autouse=True)
def restore_setting():
    before = tt_spatial.fast_paths_enabled() if SWITCH else None
    yield
    if SWITCH:
        SWITCH(before, threads=None)


def run(fn, arrays, needs, upstream, fast, threads=1):
    """(output, gradients, op name) of fn over fresh tensors of `arrays` (None where not
    needed)."""
    SWITCH(fast, threads=threads)
    tensors = [tt.tensor(a, dtype=a.dtype, requires_grad=n) for a, n in zip(arrays, needs)]
    out = fn(*tensors)
    out.backward(upstream)
    grads = [t.grad.data.copy() if t.grad is not None else None for t in tensors]
    return out.data.copy(), grads, out.grad_fn.name


def compare(fn, arrays, needs, out_shape, fused_name, rtol):
    if SWITCH is None:  # no fast path to compare: with a graph == without one
        recorded = fn(*[tt.tensor(a, dtype=a.dtype, requires_grad=True) for a in arrays])
        with tt.no_grad():
            plain = fn(*[tt.tensor(a, dtype=a.dtype) for a in arrays])
        assert recorded.shape == plain.shape == out_shape
        np.testing.assert_allclose(recorded.data, plain.data, rtol=rtol, atol=rtol)
        return
    upstream = np.random.default_rng(9).standard_normal(out_shape).astype(arrays[0].dtype)
    plain_out, plain_grads, plain_op = run(fn, arrays, needs, upstream, fast=False)
    assert plain_op != fused_name  # the switch really gives the composition
    for threads in (1, 2):
        out, grads, op = run(fn, arrays, needs, upstream, fast=True, threads=threads)
        assert op == fused_name
        np.testing.assert_allclose(out, plain_out, rtol=rtol, atol=rtol)
        for got, want in zip(grads, plain_grads):
            assert (got is None) == (want is None)
            if want is not None:  # a sum summed in another order: rounding of its scale
                np.testing.assert_allclose(got, want, rtol=rtol,
                                           atol=rtol * max(1.0, np.abs(want).max()))


CONV_CASES = [  # x shape, weight shape, stride, padding, bias
    ((2, 3, 5, 5), (4, 3, 3, 3), (1, 1), (0, 0), True),
    ((2, 3, 7, 5), (4, 3, 3, 3), (2, 2), (1, 1), True),
    ((1, 2, 6, 9), (3, 2, 2, 4), (1, 2), (2, 1), False),
    ((3, 1, 5, 4), (2, 1, 5, 1), (3, 1), (0, 2), True),
    ((4, 8, 16, 16), (16, 8, 3, 3), (1, 1), (1, 1), False),   # a ResNet-9 conv; 2 threads split C
    # big enough that the fast path's batch chunks (at most about 16 MiB of im2col columns
    # each, the README) do not divide the odd batch evenly: 2 chunks in float32, 4 and 3 in
    # float64
    ((11, 16, 64, 64), (8, 16, 3, 3), (1, 1), (1, 1), False),
    ((13, 16, 96, 96), (8, 16, 3, 3), (2, 2), (1, 1), True),
]


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("xs, ws, stride, padding, bias", CONV_CASES)
@pytest.mark.parametrize("input_grad", [True, False])
def test_fused_conv2d_equals_the_composition(xs, ws, stride, padding, bias, input_grad, dtype,
                                             rtol):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)]
    if bias:
        arrays.append(rng.standard_normal(ws[0]).astype(dtype))
    H, W = xs[2] + 2 * padding[0], xs[3] + 2 * padding[1]
    out_shape = (xs[0], ws[0], (H - ws[2]) // stride[0] + 1, (W - ws[3]) // stride[1] + 1)

    def fn(x, w, b=None):
        return conv2d(x, w, b, stride, padding)

    compare(fn, arrays, [input_grad, True, True][:len(arrays)], out_shape, "Conv2dIm2col", rtol)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("xs, ws, stride, padding, bias", CONV_CASES)
def test_conv2d_without_a_graph_equals_the_composition(xs, ws, stride, padding, bias, dtype,
                                                       rtol):
    """Evaluation (no graph): with the fast paths on, conv2d may take a fused forward (the
    reference does: one Conv2dIm2col op, no node); its values are the composition's."""
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)]
    if bias:
        arrays.append(rng.standard_normal(ws[0]).astype(dtype))

    def evaluate(fast, threads=1):
        if SWITCH is not None:
            SWITCH(fast, threads=threads)
        ops = []
        with tt.add_op_hook(lambda event: ops.append(event.op)), tt.no_grad():
            out = conv2d(*[tt.tensor(a, dtype=a.dtype, requires_grad=True) for a in arrays],
                         stride=stride, padding=padding)
        assert out.grad_fn is None and not out.requires_grad
        return out.data, ops

    plain, plain_ops = evaluate(False)
    assert "Conv2dIm2col" not in plain_ops or SWITCH is None
    for threads in (1, 2):
        out, ops = evaluate(True, threads)
        np.testing.assert_allclose(out, plain, rtol=rtol, atol=rtol)
        if "+own" not in tt_spatial.__version__:  # the reference's choice, not the contract's
            assert ops == ["Conv2dIm2col"]


POOL_CASES = [  # x shape, kernel, stride, padding
    ((2, 3, 8, 8), 2, None, 0),
    ((2, 3, 7, 9), 3, 2, 1),
    ((1, 4, 6, 5), (2, 3), (1, 2), (1, 0)),
    ((2, 2, 4, 4), 4, None, 0),                                # the global max-pool of ResNet-9
    # big enough that the fast path's channel blocks (about 1 MiB of window stack each, the
    # README) split the 7 channels unevenly
    ((20, 7, 62, 62), 2, None, 0),
    ((20, 7, 61, 61), 3, 2, 1),
]


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("xs, kernel, stride, padding", POOL_CASES)
def test_fused_max_pool2d_equals_the_composition(xs, kernel, stride, padding, ties):
    rng = np.random.default_rng(2)
    x = rng.integers(0, 3, xs) if ties else rng.standard_normal(xs)  # ties: first max wins
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int)
                                              else stride)
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    out_shape = (*xs[:2], (xs[2] + 2 * ph - kh) // sh + 1, (xs[3] + 2 * pw - kw) // sw + 1)
    compare(lambda t: max_pool2d(t, kernel, stride, padding), [x.astype(np.float32)], [True],
            out_shape, "MaxPool2dWindows", rtol=0)


@pytest.mark.parametrize("xs, kernel, stride, padding", POOL_CASES)
def test_fused_max_pool2d_equals_the_composition_on_nan_and_channel_major_inputs(
        xs, kernel, stride, padding):
    """A nan window's maximum is nan and its gradient 0 (no entry equals nan); an input laid
    out channel-major (a conv output's view) pools like a row-major one."""
    rng = np.random.default_rng(4)
    x = rng.integers(0, 3, xs).astype(np.float32)
    x[0, 1, 1, 2] = np.nan
    channel_major = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    upstream = rng.standard_normal(max_pool2d(x, kernel, stride, padding).shape)
    upstream = upstream.astype(np.float32)

    def pool(t):
        return max_pool2d(t, kernel, stride, padding)

    if SWITCH is None:
        return compare(pool, [channel_major], [True], upstream.shape, "", rtol=0)
    plain_out, plain_grads, _ = run(pool, [x], [True], upstream, fast=False)
    assert np.isnan(plain_out).any()
    for threads in (1, 2):
        out, grads, op = run(pool, [channel_major], [True], upstream, fast=True, threads=threads)
        assert op == "MaxPool2dWindows"
        np.testing.assert_array_equal(out, plain_out)          # nan where the plain has nan
        np.testing.assert_array_equal(grads[0], plain_grads[0])


def test_fused_max_pool2d_keeps_inf_gradients_off_the_other_entries():
    x = np.random.default_rng(3).standard_normal((1, 2, 4, 4)).astype(np.float32)
    xt = tt.tensor(x, requires_grad=True)
    max_pool2d(xt, 2).backward(np.full((1, 2, 2, 2), np.inf, dtype=np.float32))
    # one maximum per window gets inf, the other 3 of each window exactly 0 (never nan)
    assert np.isnan(xt.grad.data).sum() == 0 and np.isinf(xt.grad.data).sum() == 8
    if SWITCH:
        plain = run(lambda t: max_pool2d(t, 2), [x], [True], np.full((1, 2, 2, 2), np.inf,
                                                                      np.float32), fast=False)
        np.testing.assert_array_equal(xt.grad.data, plain[1][0])


def test_without_a_graph_nothing_is_recorded():
    x = tt.tensor(np.ones((1, 1, 4, 4)), requires_grad=True)
    with tt.no_grad():
        assert conv2d(x, np.ones((1, 1, 3, 3))).grad_fn is None
    assert conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3))).grad_fn is None


def test_the_switch_returns_the_previous_setting_and_checks_threads():
    if SWITCH is None:  # an implementation without fast paths names neither function
        assert "fast_paths_enabled" not in tt_spatial.__all__
        return
    SWITCH(True)
    assert SWITCH(False) is True and not tt_spatial.fast_paths_enabled()
    assert SWITCH(True) is False and tt_spatial.fast_paths_enabled()
    with pytest.raises(ValueError, match="0"):
        SWITCH(True, threads=0)


def test_the_fast_paths_start_on_only_in_the_reference_build():
    # A learner's own package (version +own) starts on its plain code, so the capstones train
    # through what the learner wrote; the reference starts on its fast paths.
    own = "+own" in tt_spatial.__version__
    if SWITCH is not None:
        assert tt_spatial.fast_paths_enabled() is not own
