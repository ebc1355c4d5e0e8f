"""int8 quantization: the math, the layers, and a trained model's accuracy (stated tolerances).

Tests in task order (tests/tasks.txt): quantize, dequantize, the float path of _qmatmul, then
the int8 path (quantize_rows, Int8Linear); a test calls no task after its own."""

import numpy as np
import pytest
from tt_layers import Flatten, Linear, ReLU
from tt_networks import Sequential, mlp
from tt_spatial import Conv2d, MaxPool2d
from tt_systems import (
    Int8Linear, Profiler, QuantizedConv2d, QuantizedLinear, dequantize_per_channel,
    model_size_bytes, quantize_dynamic, quantize_per_channel, quantize_rows, train_mlp,
)
from tt_tensor import no_grad, randn, tensor
from tt_transformers import GPT, GPTConfig

RELATIVE_L2 = 0.02         # ||y_int8 - y_float|| / ||y_float|| on a small model
ACCURACY_DROP = 0.01       # at most one percentage point on the trained MLP


def test_per_channel_scales_and_round_trip_error():
    rng = np.random.default_rng(0)
    w = rng.normal(0, 1, (6, 10)).astype(np.float32) * np.arange(1, 7)[:, None]
    q, scale = quantize_per_channel(w, axis=0)
    assert q.dtype == np.int8 and scale.shape == (6,)
    np.testing.assert_allclose(scale, np.abs(w).max(axis=1) / 127, rtol=1e-6)
    assert np.abs(q).max(axis=1).tolist() == [127] * 6     # each row uses its full range
    assert (np.abs(q - w / scale[:, None]) <= 0.5 + 1e-3).all()  # rounded to the nearest code
    err = np.abs(q * scale[:, None] - w)
    assert (err <= scale[:, None] / 2 + 1e-6).all()        # rounding: at most half a step


def test_quantize_along_another_axis_and_zero_channels():
    w = np.zeros((3, 4), np.float32)
    w[:, 1] = [1.0, -2.0, 0.5]
    q, scale = quantize_per_channel(w, axis=1)
    assert scale.shape == (4,)
    assert scale[0] == scale[2] == scale[3] == 1.0          # all-zero channels: no division by 0
    assert scale.dtype == np.float32 and q.dtype == np.int8 and q.shape == w.shape
    np.testing.assert_array_equal(q[:, [0, 2, 3]], 0)
    np.testing.assert_allclose(q * scale[None, :], w, atol=2 / 254)
    q_last, scale_last = quantize_per_channel(tensor(w), axis=-1)  # a Tensor, a negative axis
    np.testing.assert_array_equal(q_last, q)
    np.testing.assert_array_equal(scale_last, scale)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_dequantize_multiplies_each_channel_by_its_scale(axis):
    rng = np.random.default_rng(2)
    q = rng.integers(-127, 128, (3, 4, 5)).astype(np.int8)
    scale = rng.uniform(0.01, 1, q.shape[axis]).astype(np.float32)
    w = dequantize_per_channel(tensor(q, dtype=np.int8), tensor(scale), axis=axis)
    shape = [1, 1, 1]
    shape[axis] = -1
    assert w.dtype == np.float32 and w.shape == q.shape
    np.testing.assert_array_equal(w, q.astype(np.float32) * scale.reshape(shape))


def test_row_quantization_of_activations():
    x = np.array([[0.5, -1.0, 0.25], [0.0, 0.0, 0.0]], np.float32)
    xq, s = quantize_rows(x)
    assert xq.dtype == np.int8 and s.dtype == np.float32 and s.shape == (2, 1)
    np.testing.assert_allclose(s[:, 0], [1 / 127, 1.0])      # an all-zero row: scale 1
    np.testing.assert_array_equal(xq[0], np.rint(x[0] * 127).astype(np.int8))
    np.testing.assert_array_equal(xq[1], 0)
    x3 = np.random.default_rng(3).normal(0, 2, (2, 3, 7)).astype(np.float32)
    xq3, s3 = quantize_rows(x3)                               # (*, K): one scale per row
    assert xq3.shape == x3.shape and s3.shape == (2, 3, 1)
    np.testing.assert_allclose(s3, np.abs(x3).max(axis=-1, keepdims=True) / 127, rtol=1e-6)
    assert (np.abs(xq3 - x3 / s3) <= 0.5 + 1e-3).all()      # rounded to the nearest code
    assert (np.abs(xq3).max(axis=-1) == 127).all()           # each row uses its full range


@pytest.mark.parametrize("compute", ["float", "int8"])
def test_quantized_linear_is_close_to_linear(compute):
    np.random.seed(0)
    layer = Linear(64, 32)
    x = randn(16, 64)
    q = QuantizedLinear.from_float(layer, compute=compute)
    with no_grad():
        y, yq = layer(x).data, q(x).data
    if compute == "float":
        # weight-only: |y_q - y| <= sum_k |x_k| * scale_o / 2, per output
        bound = np.abs(x.data).sum(axis=1, keepdims=True) * q.weight_scale.data / 2
        assert (np.abs(yq - y) <= bound + 1e-5).all()
    assert np.linalg.norm(yq - y) / np.linalg.norm(y) < RELATIVE_L2


@pytest.mark.parametrize("batch", [1, 200])
def test_both_scaling_orders_agree(batch):
    # N > K scales the weights, N <= K the outputs: the same product either way
    layer = Linear(100, 7)
    q = QuantizedLinear.from_float(layer)
    x = randn(batch, 100)
    w = dequantize_per_channel(q.weight_int8.data, q.weight_scale.data)
    expected = x.data @ w.T + layer.bias.data
    np.testing.assert_allclose(q(x).data, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("batch", [1, 99, 100, 101])
def test_the_float_path_runs_in_tt_ops_and_scales_the_smaller_side(batch):
    """The profiler sees the float path's (N, K) @ (K, O) matmul; a multiply by the scales in
    tt ops is over whichever is smaller, the O x K weights (N > K) or the N x O outputs (the
    weights may also be scaled in NumPy, out of the profile's sight)."""
    K, O = 100, 7
    q = QuantizedLinear.from_float(Linear(K, O, bias=False))
    with Profiler() as prof:
        q(randn(batch, K))
    flops = {}
    for r in prof.records:
        flops[r.name] = flops.get(r.name, 0) + r.flops
    assert flops["matmul"] == 2 * batch * K * O
    assert flops.get("mul", 0) <= O * min(batch, K)


def test_quantized_linear_keeps_leading_dims_and_checks_its_input():
    q = QuantizedLinear.from_float(Linear(8, 3))
    assert q(randn(2, 5, 8)).shape == (2, 5, 3)
    with pytest.raises(ValueError, match=r"\(\*, 8\)"):
        q(randn(2, 7))


def test_int8_linear_forward_is_the_rescaled_int32_product():
    """K = 300: a sum of 300 products of two int8 values overflows int8 and int16, so the
    accumulation must be int32; the result is float32 like x. The rows are quantized by
    quantize_rows (the task before this one)."""
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, (5, 300)).astype(np.float32)
    q = rng.integers(-127, 128, (4, 300)).astype(np.int8)
    scale = rng.uniform(0.001, 0.01, 4).astype(np.float32)
    y = Int8Linear.apply(tensor(x), tensor(q, dtype=np.int8), tensor(scale))
    xq, x_scale = quantize_rows(x)
    exact = xq.astype(np.float64) @ q.T.astype(np.float64)  # integers: exact in float64
    assert y.data.dtype == np.float32 and y.shape == (5, 4)
    np.testing.assert_allclose(y.data, exact * x_scale * scale, rtol=1e-5)


def test_int8_backward_is_the_straight_through_estimate():
    layer = Linear(12, 5)
    q = QuantizedLinear.from_float(layer, compute="int8")
    x = randn(4, 12, requires_grad=True)
    Int8Linear.apply(x, q.weight_int8, q.weight_scale).sum().backward()
    w = dequantize_per_channel(q.weight_int8.data, q.weight_scale.data)
    np.testing.assert_allclose(x.grad.data, np.ones((4, 5)) @ w, rtol=1e-5)


@pytest.mark.parametrize("compute", ["float", "int8"])
@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1)])
def test_quantized_conv2d_is_close_to_conv2d(compute, stride, padding):
    np.random.seed(1)
    conv = Conv2d(3, 6, 3, stride=stride, padding=padding)
    x = randn(2, 3, 9, 9)
    q = QuantizedConv2d.from_float(conv, compute=compute)
    with no_grad():
        y, yq = conv(x).data, q(x).data
    assert yq.shape == y.shape
    assert np.linalg.norm(yq - y) / np.linalg.norm(y) < RELATIVE_L2


def test_quantize_dynamic_replaces_layers_in_order_and_copies():
    model = Sequential(Conv2d(1, 2, 3), ReLU(), MaxPool2d(2), Flatten(), Linear(2 * 3 * 3, 4),
                       ReLU(), Linear(4, 2))
    qmodel = quantize_dynamic(model)
    kinds = [type(m).__name__ for m in qmodel]
    assert kinds == ["QuantizedConv2d", "ReLU", "MaxPool2d", "Flatten", "QuantizedLinear",
                     "ReLU", "QuantizedLinear"]
    assert isinstance(model[0], Conv2d) and isinstance(model[4], Linear)  # original untouched
    only_linear = quantize_dynamic(model, {Linear})
    assert isinstance(only_linear[0], Conv2d) and isinstance(only_linear[4], QuantizedLinear)
    with pytest.raises(ValueError, match="ReLU"):
        quantize_dynamic(model, {ReLU})
    with pytest.raises(ValueError, match="compute"):
        quantize_dynamic(model, compute="int4")


def test_size_shrinks_to_a_quarter_of_the_weights():
    model = mlp([64, 32, 10])
    qmodel = quantize_dynamic(model)
    weights = 64 * 32 + 32 * 10
    biases, scales = 32 + 10, 32 + 10
    assert model_size_bytes(model) == 4 * (weights + biases)
    assert model_size_bytes(qmodel) == weights + 4 * (biases + scales)


def test_quantized_state_dict_round_trips():
    qmodel = quantize_dynamic(mlp([6, 4, 2]))
    fresh = quantize_dynamic(mlp([6, 4, 2]))
    fresh.load_state_dict(qmodel.state_dict())
    x = randn(3, 6)
    np.testing.assert_array_equal(fresh(x).data, qmodel(x).data)
    assert qmodel.state_dict()["0.weight_int8"].dtype == np.int8


@pytest.fixture(scope="module")
def trained():
    return train_mlp(steps=150)


@pytest.mark.parametrize("compute", ["float", "int8"])
def test_trained_mlp_keeps_its_accuracy(trained, compute):
    model, (x, y) = trained
    qmodel = quantize_dynamic(model, compute=compute)
    with no_grad():
        out, qout = model(tensor(x)).data, qmodel(tensor(x)).data
    float_acc, int8_acc = (out.argmax(1) == y).mean(), (qout.argmax(1) == y).mean()
    assert float_acc > 0.7                                  # the model did learn
    assert abs(float_acc - int8_acc) <= ACCURACY_DROP
    assert np.linalg.norm(qout - out) / np.linalg.norm(out) < RELATIVE_L2


def test_quantized_gpt_logits_stay_close():
    np.random.seed(0)
    model = GPT(GPTConfig(block_size=16, vocab_size=12, n_layer=2, n_head=2, n_embd=32)).eval()
    ids = np.random.default_rng(0).integers(0, 12, (2, 16))
    qmodel = quantize_dynamic(model)
    assert isinstance(qmodel.lm_head, QuantizedLinear)
    with no_grad():
        y, yq = model(ids).data, qmodel(ids).data
    assert np.linalg.norm(yq - y) / np.linalg.norm(y) < RELATIVE_L2
