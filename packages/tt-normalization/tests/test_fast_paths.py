"""The fused batch norm and layer norm (fused.py) equal the compositions, in values,
gradients and (batch norm) the running statistics they leave behind. The switch is optional
(an implementation may have no fast path); without one, the runs compare a recorded graph with
the same call under no_grad (values and running statistics; gradients: test_gradients.py)."""

import numpy as np
import pytest
import tt_autograd
import tt_normalization
import tt_tensor as tt
from tt_normalization import BatchNorm2d, LayerNorm, batch_norm, layer_norm

SWITCH = getattr(tt_normalization, "use_fast_paths", None)


def use_fast_paths(enabled, threads=None):
    """The package's switch where it has one (an implementation may have no fast path)."""
    if SWITCH:
        SWITCH(enabled, threads=threads)


@pytest.fixture(autouse=True)
def restore_setting():
    before = tt_normalization.fast_paths_enabled() if SWITCH else None
    yield
    if SWITCH:
        SWITCH(before, threads=None)


def run(x, affine, fast, momentum=0.1, dtype=np.float64, channel_major=False, threads=None):
    """(y, [dx, dw, db], running mean, running var) of one training batch_norm.

    channel_major: x arrives as a permuted view of a (C, N, ...) array, as a conv output does;
    "both": the upstream gradient too (as between a conv and the layers after it).
    threads: the fast paths' worker threads (None: from the environment).
    """
    if SWITCH:
        SWITCH(fast, threads=threads)
    C = x.shape[1]
    rng = np.random.default_rng(5)
    if channel_major:
        leaf = tt.tensor(np.swapaxes(x, 0, 1), dtype=dtype, requires_grad=True)
        xt = leaf.permute(1, 0, *range(2, x.ndim))
    else:
        leaf = xt = tt.tensor(x, dtype=dtype, requires_grad=True)
    w = tt.tensor(rng.standard_normal(C) + 1, dtype=dtype, requires_grad=True) if affine else None
    b = tt.tensor(rng.standard_normal(C), dtype=dtype, requires_grad=True) if affine else None
    rm, rv = tt.tensor(rng.standard_normal(C), dtype=dtype), tt.tensor(np.ones(C), dtype=dtype)
    if not SWITCH and not fast:  # the reference run: the same call without a graph
        with tt.no_grad():
            y = batch_norm(xt, rm, rv, w, b, training=True, momentum=momentum, eps=1e-5)
        return y, [None, None, None], rm.data.copy(), rv.data.copy()
    y = batch_norm(xt, rm, rv, w, b, training=True, momentum=momentum, eps=1e-5)
    upstream = np.random.default_rng(6).standard_normal(x.shape).astype(dtype)
    upstream = tt.tensor(upstream, dtype=dtype)
    if channel_major == "both":
        axes = (1, 0, *range(2, x.ndim))
        upstream = tt.tensor(np.ascontiguousarray(upstream.data.transpose(axes))).permute(*axes)
    (y * upstream).sum().backward()
    grads = [t.grad.data if t is not None else None for t in (leaf, w, b)]
    return y, grads, rm.data.copy(), rv.data.copy()


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-4)])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (5, 4, 3, 6)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("channel_major", [False, True, "both"])
def test_fused_batch_norm_equals_the_composition(shape, affine, dtype, rtol, channel_major):
    x = (np.random.default_rng(4).standard_normal(shape) * 3 + 1).astype(dtype)
    plain_y, plain_grads, plain_rm, plain_rv = run(x, affine, False, dtype=dtype,
                                                   channel_major=channel_major)
    y, grads, rm, rv = run(x, affine, True, dtype=dtype, channel_major=channel_major)
    assert y.dtype == plain_y.dtype
    np.testing.assert_allclose(y.data, plain_y.data, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(rm, plain_rm, rtol=rtol)
    np.testing.assert_allclose(rv, plain_rv, rtol=rtol)
    if not SWITCH:
        return
    assert y.grad_fn.name == "BatchNormTrain" and plain_y.grad_fn.name != "BatchNormTrain"
    for got, want in zip(grads, plain_grads):
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())
    np.testing.assert_allclose(rm, plain_rm, rtol=rtol)
    np.testing.assert_allclose(rv, plain_rv, rtol=rtol)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-4)])
@pytest.mark.parametrize("channel_major", [False, True, "both"])
def test_fused_batch_norm_on_threads_equals_the_composition(channel_major, dtype, rtol):
    """Large enough to be cut over 3 worker threads (7 channels: 2, 2 and 3 each) and, in a
    chunk, into groups of channels; channels are independent, so the bits do not depend on
    the number of threads."""
    x = (np.random.default_rng(13).standard_normal((20, 7, 60, 61)) * 3 + 1).astype(dtype)
    plain_y, plain_grads, plain_rm, plain_rv = run(x, True, False, dtype=dtype,
                                                   channel_major=channel_major)
    runs = [run(x, True, True, dtype=dtype, channel_major=channel_major, threads=threads)
            for threads in (1, 3)]
    for y, grads, rm, rv in runs:
        assert y.dtype == plain_y.dtype and y.data.strides == runs[0][0].data.strides
        np.testing.assert_allclose(y.data, plain_y.data, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(rm, plain_rm, rtol=rtol)
        np.testing.assert_allclose(rv, plain_rv, rtol=rtol)
        if SWITCH:
            for got, want in zip(grads, plain_grads):
                np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())
    if SWITCH:
        (y1, grads1, *_), (y3, grads3, *_) = runs
        np.testing.assert_array_equal(y3.data, y1.data)
        for got, want in zip(grads3, grads1):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("channel_major", [False, True])
def test_fused_batch_norm_keeps_the_layout_of_its_input(channel_major):
    """A conv output (channel-major) gives a channel-major output and input gradient, so the
    layers around batch norm never mix layouts; a C-contiguous input, C-contiguous ones."""
    use_fast_paths(True)
    data = np.random.default_rng(14).standard_normal((4, 3, 5, 6))
    stored = np.ascontiguousarray(np.swapaxes(data, 0, 1)) if channel_major else data
    x = tt.tensor(stored, dtype=tt.float64, requires_grad=True)
    if channel_major:
        x = x.permute(1, 0, 2, 3)                                   # (N, C, H, W) view
    w = tt.tensor(np.linspace(0.5, 1.5, 3), dtype=tt.float64, requires_grad=True)
    y = batch_norm(x, None, None, w, training=True)
    assert (y.grad_fn.name == "BatchNormTrain") == (SWITCH is not None)
    if SWITCH:
        assert y.data.strides == x.data.strides
        dx, _ = y.grad_fn.op.backward(y.grad_fn.ctx, np.cos(y.data))  # laid out like y
        assert dx.strides == x.data.strides


def test_module_trained_on_the_fast_path_evaluates_like_the_composition():
    """Two training steps on 3 threads, then eval mode: the running statistics, the
    parameters' gradients and the eval outputs match the composition's (float32)."""
    rng = np.random.default_rng(15)
    batches = [rng.standard_normal((10, 5, 40, 41)) * 2 + 0.5 for _ in range(2)]
    layers = {}
    for fast in (False, True):
        use_fast_paths(fast, threads=3)
        layer = BatchNorm2d(5)
        layer.weight.data[...] = np.linspace(0.5, 1.5, 5)
        for batch in batches:
            (layer(tt.tensor(batch)) * tt.tensor(np.cos(batch))).sum().backward()
        layer.eval()
        layers[fast] = layer, layer(tt.tensor(batches[0] * 0.5))
    (plain, plain_out), (fast, fast_out) = layers[False], layers[True]
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(fast, name).data, getattr(plain, name).data,
                                   rtol=1e-5, atol=1e-6)
    for name in ("weight", "bias"):
        want = getattr(plain, name).grad.data
        np.testing.assert_allclose(getattr(fast, name).grad.data, want, rtol=2e-4,
                                   atol=2e-4 * np.abs(want).max())
    np.testing.assert_allclose(fast_out.data, plain_out.data, rtol=2e-4, atol=2e-4)


def test_module_in_training_takes_the_fast_path_and_counts_its_batch():
    use_fast_paths(True)                              # where the package has a switch
    layer = BatchNorm2d(3)
    x = tt.tensor(np.random.default_rng(7).standard_normal((4, 3, 2, 2)), requires_grad=True)
    fused = layer(x).grad_fn.name == "BatchNormTrain"
    assert int(layer.num_batches_tracked.data) == 1
    assert fused == (SWITCH is not None)
    layer.eval()
    assert layer(x).grad_fn.name != "BatchNormTrain"  # eval: the running statistics, composed


def test_without_a_graph_nothing_is_recorded():
    x = tt.tensor(np.ones((4, 2)) + np.arange(8).reshape(4, 2))
    assert batch_norm(x, None, None, training=True).grad_fn is None


def test_the_fast_paths_start_on_only_in_the_reference_build():
    # A learner's own package (version +own) starts on its plain code, so the capstones train
    # through what the learner wrote; the reference starts on its fast paths.
    own = "+own" in tt_normalization.__version__
    if SWITCH is not None:
        assert tt_normalization.fast_paths_enabled() is not own


def run_layer_norm(x, normalized, params, fast, dtype, permuted=False, threads=None):
    """(y, [dx, dw, db]) of layer_norm with a random upstream gradient.

    params: "both", "weight" or "none"; permuted: x arrives as a transposed view."""
    use_fast_paths(fast, threads=threads)
    shape = normalized if isinstance(normalized, tuple) else (normalized,)
    rng = np.random.default_rng(8)
    if permuted:
        leaf = tt.tensor(np.swapaxes(x, 0, 1), dtype=dtype, requires_grad=True)
        xt = leaf.permute(1, 0, *range(2, x.ndim))
    else:
        leaf = xt = tt.tensor(x, dtype=dtype, requires_grad=True)
    w = tt.tensor(rng.standard_normal(shape) + 1, dtype=dtype, requires_grad=True)
    b = tt.tensor(rng.standard_normal(shape), dtype=dtype, requires_grad=True)
    w, b = {"both": (w, b), "weight": (w, None), "none": (None, None)}[params]
    y = layer_norm(xt, normalized, w, b, eps=1e-5)
    upstream = np.random.default_rng(9).standard_normal(x.shape).astype(dtype)
    (y * tt.tensor(upstream, dtype=dtype)).sum().backward()
    return y, [t.grad.data if t is not None else None for t in (leaf, w, b)]


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-4)])
@pytest.mark.parametrize("shape, normalized, permuted", [
    ((5, 8), 8, False), ((3, 4, 6), (6,), False), ((2, 3, 4, 5), (4, 5), False),
    ((7,), 7, False), ((5, 8), 8, True), ((3, 4, 6), (6,), True), ((2, 3, 4, 5), (4, 5), True),
])
@pytest.mark.parametrize("params", ["both", "weight", "none"])
def test_fused_layer_norm_equals_the_composition(shape, normalized, params, dtype, rtol,
                                                 permuted):
    x = (np.random.default_rng(4).standard_normal(shape) * 3 + 1).astype(dtype)
    plain_y, plain_grads = run_layer_norm(x, normalized, params, False, dtype, permuted)
    y, grads = run_layer_norm(x, normalized, params, True, dtype, permuted)
    if SWITCH:
        assert y.grad_fn.name == "LayerNormRows" and plain_y.grad_fn.name != "LayerNormRows"
    assert y.dtype == plain_y.dtype and y.shape == plain_y.shape
    np.testing.assert_allclose(y.data, plain_y.data, rtol=rtol, atol=rtol)
    for got, want in zip(grads, plain_grads):
        assert (got is None) == (want is None)
        if want is not None:
            assert got.shape == want.shape and got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())


def test_fused_layer_norm_gradients_match_central_differences():
    use_fast_paths(True)
    rng = np.random.default_rng(10)
    x = tt.tensor(rng.standard_normal((3, 4, 5)) * 2, dtype=tt.float64, requires_grad=True)
    w = tt.tensor(rng.standard_normal((4, 5)), dtype=tt.float64, requires_grad=True)
    b = tt.tensor(rng.standard_normal((4, 5)), dtype=tt.float64, requires_grad=True)
    fused = layer_norm(x, (4, 5), w, b).grad_fn.name == "LayerNormRows"
    assert fused == (SWITCH is not None)
    assert tt_autograd.gradcheck(lambda x, w, b: layer_norm(x, (4, 5), w, b), x, w, b)


@pytest.mark.parametrize("shape", [(2, 1, 16), (1, 1, 128), (3, 7)])
def test_fused_layer_norm_without_a_graph_equals_the_composition(shape):
    """Decoding runs under no_grad: the fused version serves it too, with the same values
    (one row of 128, as a GPT decoding one token, takes the few-rows path)."""
    x = np.random.default_rng(11).standard_normal(shape).astype(np.float32) * 3 + 1
    C = shape[-1]
    layer = LayerNorm(C)
    layer.weight.data[...] = np.linspace(0.5, 1.5, C)
    layer.bias.data[...] = np.linspace(-1, 1, C)
    with tt.no_grad():
        use_fast_paths(False)
        plain = layer(tt.tensor(x)).data
        use_fast_paths(True)
        fast = layer(tt.tensor(x))
    assert fast.grad_fn is None and fast.dtype == np.float32
    np.testing.assert_allclose(fast.data, plain, rtol=2e-5, atol=2e-6)
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    want = (x - mean) / np.sqrt(var + 1e-5) * layer.weight.data + layer.bias.data
    np.testing.assert_allclose(fast.data, want, rtol=2e-5, atol=2e-6)


def test_layer_norm_bias_without_weight_takes_the_composition():
    use_fast_paths(True)
    x = tt.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = layer_norm(x, 4, None, tt.tensor(np.ones(4), requires_grad=True))
    assert y.grad_fn.name != "LayerNormRows"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_layer_norm_gives_the_same_bits_on_any_number_of_threads(dtype):
    """Rows are independent: cutting them over worker threads changes nothing ((48, 64, 128)
    is large enough to be cut in three)."""
    x = (np.random.default_rng(12).standard_normal((48, 64, 128)) * 2 + 1).astype(dtype)
    results = []
    for threads in (1, 3):
        results.append(run_layer_norm(x, 128, "both", True, dtype, threads=threads))
    (y1, grads1), (y3, grads3) = results
    np.testing.assert_array_equal(y3.data, y1.data)
    for got, want in zip(grads3, grads1):
        np.testing.assert_array_equal(got, want)


def test_bad_thread_counts_are_refused():
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="threads"):
            tt_normalization.use_fast_paths(True, threads=bad)
