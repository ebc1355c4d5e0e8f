"""Composed ops get correct gradients with no gradient code of their own.

tt_tensor's composed ops, the activations (03), the losses, Linear and Sequential (04-05):
all gradchecked in float64. Modules are converted with .double(), which gives them float64
copies of their parameters; the parameters are passed to gradcheck as inputs so that their
gradients are checked too.
"""

import numpy as np
import pytest
import tt_activations as A
import tt_networks as N
from tt_layers import GELU, Linear, ReLU, Sigmoid, Tanh
from tt_tensor import (
    abs as tt_abs, cat, clip, flatten, float32, float64, mean, min as tt_min, minimum, sqrt,
    squeeze, stack, tensor, transpose, unsqueeze, var,
)

from gradient_samples import Samples
from tt_autograd import gradcheck

SAMPLES = Samples(7)
RNG = SAMPLES.rng
r, pos, distinct = SAMPLES.r, SAMPLES.pos, SAMPLES.distinct


def leaves(*arrays):
    return [tensor(a, dtype=float64, requires_grad=True) for a in arrays]


def check(fn, *arrays):
    assert gradcheck(fn, *leaves(*arrays))


# --- tt_tensor's composed ops ---------------------------------------------------------------
TENSOR_OPS = {
    "mean-all": (lambda a: mean(a), [r(2, 3, 4)]),
    "mean-axis": (lambda a: a.mean(1), [r(2, 3, 4)]),
    "mean-tuple-keepdims": (lambda a: a.mean((0, 2), keepdims=True), [r(2, 3, 4)]),
    "var-all": (lambda a: var(a), [r(3, 4)]),
    "var-axis-biased": (lambda a: a.var(-1, correction=0), [r(3, 5)]),
    "var-keepdims": (lambda a: a.var(0, keepdims=True), [r(4, 3)]),
    "sqrt": (lambda a: sqrt(a), [pos(3, 4)]),
    "sqrt-method": (lambda a: a.sqrt(), [pos(5)]),
    "min-all": (lambda a: tt_min(a), [distinct(3, 4)]),
    "min-axis": (lambda a: a.min(1), [distinct(3, 4)]),
    "minimum": (minimum, [distinct(3, 4), distinct(4, offset=0.1)]),
    "abs": (lambda a: tt_abs(a), [distinct(3, 4, offset=0.1)]),
    "clip-both": (lambda a: clip(a, -0.3, 0.5), [distinct(3, 4)]),
    "clip-min": (lambda a: a.clip(min=0.1), [distinct(10)]),
    "stack-0": (lambda a, b: stack([a, b]), [r(2, 3), r(2, 3)]),
    "stack-last": (lambda a, b, c: stack([a, b, c], axis=-1), [r(2, 3), r(2, 3), r(2, 3)]),
    "cat": (lambda a, b: cat([a, b], 1), [r(2, 3), r(2, 1)]),
    "transpose": (lambda a: transpose(a, 0, 2), [r(2, 3, 4)]),
    "transpose-method": (lambda a: a.transpose(-1, 0), [r(2, 3)]),
    "flatten": (lambda a: flatten(a), [r(2, 3, 4)]),
    "flatten-range": (lambda a: a.flatten(1, 2), [r(2, 3, 4, 2)]),
    "squeeze": (lambda a: squeeze(a), [r(2, 1, 3, 1)]),
    "squeeze-dim": (lambda a: a.squeeze(1), [r(2, 1, 3)]),
    "unsqueeze": (lambda a: unsqueeze(a, -1), [r(2, 3)]),
}


@pytest.mark.parametrize("name", sorted(TENSOR_OPS))
def test_tensor_composed_op(name):
    fn, arrays = TENSOR_OPS[name]
    check(fn, *arrays)


# --- activations ------------------------------------------------------------------------
ACTIVATIONS = {
    "relu": (A.relu, distinct(3, 4, offset=0.1)),
    "relu-class": (ReLU(), distinct(2, 5, offset=0.1)),
    "sigmoid": (A.sigmoid, r(3, 4) * 3.0),
    "sigmoid-class": (Sigmoid(), r(6)),
    "tanh": (A.tanh, r(3, 4)),
    "tanh-class": (Tanh(), r(2, 2)),
    "gelu": (A.gelu, r(3, 4) * 2.0),
    "gelu-tanh": (lambda x: A.gelu(x, approximate="tanh"), r(3, 4) * 2.0),
    "gelu-class": (GELU(), r(5)),
    "softmax": (A.softmax, r(3, 5)),
    "softmax-axis0": (lambda x: A.softmax(x, axis=0), r(3, 5)),
    "softmax-1d": (A.softmax, r(6)),
    "log_softmax": (A.log_softmax, r(3, 5)),
    "log_softmax-3d-axis1": (lambda x: A.log_softmax(x, axis=1), r(2, 4, 3)),
    "log_softmax-large": (A.log_softmax, r(2, 4) * 50.0),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation(name):
    fn, x = ACTIVATIONS[name]
    check(fn, x)


def test_sigmoid_gradient_matches_its_closed_form():
    x = leaves(np.linspace(-8.0, 8.0, 17))[0]
    A.sigmoid(x).sum().backward()
    s = 1.0 / (1.0 + np.exp(-x.data))
    np.testing.assert_allclose(x.grad.data, s * (1.0 - s), rtol=1e-12, atol=1e-15)


def test_log_softmax_gradient_matches_its_closed_form():
    x = leaves(r(3, 5))[0]
    g = r(3, 5)
    A.log_softmax(x, axis=-1).backward(g)
    p = np.exp(x.data) / np.exp(x.data).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(x.grad.data, g - p * g.sum(axis=-1, keepdims=True), rtol=1e-10)


# --- losses ------------------------------------------------------------------------------
LABELS = np.array([2, 0, 4, 4])
SPATIAL_LABELS = np.array([[0, 2, 1], [1, 1, 0]])
SEQ_LABELS = np.array([0, 2, 1, 1, 0, 2, 2, 1])
TARGET_01 = (RNG.random((3, 4)) > 0.5).astype(float)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(reduction):
    check(lambda a, t: N.mse_loss(a, t, reduction=reduction), r(3, 4), r(3, 4))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy(reduction):
    check(lambda z: N.cross_entropy(z, LABELS, reduction=reduction), r(4, 5))


def test_cross_entropy_spatial_and_label_smoothing():
    check(lambda z: N.cross_entropy(z, SPATIAL_LABELS), r(2, 3, 3))
    check(lambda z: N.cross_entropy(z, LABELS, label_smoothing=0.1), r(4, 5))


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    z = leaves(r(4, 5))[0]
    N.cross_entropy(z, LABELS).backward()
    p = np.exp(z.data) / np.exp(z.data).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(z.grad.data, (p - np.eye(5)[LABELS]) / 4, rtol=1e-10)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy(reduction):
    probs = RNG.uniform(0.05, 0.95, (3, 4))
    check(lambda p: N.binary_cross_entropy(p, tensor(TARGET_01, dtype=float64),
                                           reduction=reduction), probs)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_with_logits(reduction):
    logits = distinct(3, 4, offset=0.1) * 5.0
    check(lambda z, t: N.binary_cross_entropy_with_logits(z, t, reduction=reduction),
          logits, RNG.random((3, 4)))


# --- modules: gradients with respect to the input and every parameter -------------------
def check_module(module, x, loss=lambda out: out):
    module = module.double()  # float64 copies of the parameters
    params = list(module.parameters())
    assert params and all(p.dtype == float64 and p.requires_grad for p in params)
    assert gradcheck(lambda x, *ps: loss(module(x)), *leaves(x), *params)


def test_linear():
    check_module(Linear(4, 3), r(5, 4))


def test_linear_without_bias_and_leading_dims():
    check_module(Linear(4, 2, bias=False), r(2, 3, 4))


def test_sequential_with_cross_entropy():
    net = N.Sequential(Linear(4, 6), ReLU(), Linear(6, 5), Tanh(), Linear(5, 3))
    check_module(net, r(8, 4), loss=lambda out: N.cross_entropy(out, SEQ_LABELS))


def test_mlp_builder_with_mse():
    check_module(N.mlp([3, 5, 2], activation=Sigmoid), r(6, 3),
                 loss=lambda out: N.mse_loss(out, tensor(np.ones((6, 2)), dtype=float64)))


def test_float32_training_gradients_agree_with_float64():
    """The float32 path (what training uses) gives the float64 gradients to float32 accuracy."""
    x, labels = r(16, 4), RNG.integers(0, 3, 16)
    net32 = N.Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
    net64 = N.Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
    net64.load_state_dict(net32.state_dict())
    net64.double()
    for net, dtype in [(net32, float32), (net64, float64)]:
        N.cross_entropy(net(tensor(x, dtype=dtype)), labels).backward()
    for p32, p64 in zip(net32.parameters(), net64.parameters()):
        assert p32.grad.dtype == float32
        np.testing.assert_allclose(p32.grad.data, p64.grad.data, rtol=1e-4, atol=1e-6)
