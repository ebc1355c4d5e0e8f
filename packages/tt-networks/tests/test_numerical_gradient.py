"""Contract tests for numerical_gradient: closed-form gradients, params left untouched."""

import numpy as np
import pytest
from tt_layers import Linear, Parameter
from tt_tensor import float64, tensor

import tt_networks as N


def rng(seed=0):
    return np.random.default_rng(seed)


def p64(shape, seed=0):
    return Parameter(rng(seed).standard_normal(shape).astype(np.float64))


def test_sum_of_squares():
    a, b = p64((3, 2), 0), p64((4,), 1)
    grads = N.numerical_gradient(lambda: (a * a).sum() + (b * b).sum(), [a, b])
    np.testing.assert_allclose(grads[0], 2 * a.data, rtol=1e-8)
    np.testing.assert_allclose(grads[1], 2 * b.data, rtol=1e-8)
    assert grads[0].shape == (3, 2) and grads[0].dtype == np.float64


def test_quadratic_form_and_float_results():
    x = p64((4,), 2)
    A = rng(3).standard_normal((4, 4))
    grads = N.numerical_gradient(lambda: float(x.data @ A @ x.data), [x])
    np.testing.assert_allclose(grads[0], (A + A.T) @ x.data, rtol=1e-7, atol=1e-9)


def test_params_are_left_exactly_as_they_were():
    w = Parameter(rng(4).standard_normal((3, 3)).astype(np.float32))
    before = w.data.copy()
    array = w.data
    N.numerical_gradient(lambda: (w * w * w).sum(), [w])
    assert w.data is array
    np.testing.assert_array_equal(w.data, before)


def test_params_are_restored_when_fn_raises():
    w = p64((2,), 5)
    before = w.data.copy()

    def explode():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        N.numerical_gradient(explode, [w])
    np.testing.assert_array_equal(w.data, before)


def test_linear_mse_gradient_matches_closed_form():
    lin = Linear(3, 2, dtype=float64)
    x = rng(6).standard_normal((5, 3))
    y = rng(7).standard_normal((5, 2))

    def loss():
        return N.mse_loss(lin(tensor(x, dtype=float64)), tensor(y, dtype=float64))

    grad_w, grad_b = N.numerical_gradient(loss, lin.parameters())
    r = x @ lin.weight.data.T + lin.bias.data - y  # (5, 2) residuals
    np.testing.assert_allclose(grad_w, 2.0 / r.size * r.T @ x, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(grad_b, 2.0 / r.size * r.sum(0), rtol=1e-7, atol=1e-10)


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    z = p64((4, 3), 8)
    y = np.array([0, 2, 1, 2])
    (grad,) = N.numerical_gradient(lambda: N.cross_entropy(z, tensor(y)), [z])
    e = np.exp(z.data - z.data.max(1, keepdims=True))
    expected = (e / e.sum(1, keepdims=True) - np.eye(3)[y]) / 4
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-9)


def test_bce_with_logits_gradient_is_sigmoid_minus_target():
    x = p64((6,), 9)
    t = rng(10).integers(0, 2, size=6).astype(np.float64)
    (grad,) = N.numerical_gradient(
        lambda: N.binary_cross_entropy_with_logits(x, tensor(t, dtype=float64)), [x])
    np.testing.assert_allclose(grad, (1 / (1 + np.exp(-x.data)) - t) / 6, rtol=1e-6)


def test_float32_gradient_is_close_to_float64():
    w64 = p64((3, 4), 11)
    w32 = Parameter(w64.data.astype(np.float32))
    g64 = N.numerical_gradient(lambda: (w64 * w64).sum(), [w64], eps=1e-3)[0]
    g32 = N.numerical_gradient(lambda: (w32 * w32).sum(), [w32], eps=1e-3)[0]
    assert g32.dtype == np.float32
    scale = float((w64.data**2).sum())  # documented error: ~1e-7 * |f| / eps
    np.testing.assert_allclose(g32, g64, atol=10 * 1.2e-7 * scale / 1e-3)


def test_bad_arguments_are_named():
    w = p64((2,), 12)
    with pytest.raises(ValueError, match=r"scalar.*\(2,\)"):
        N.numerical_gradient(lambda: w * 2.0, [w])
    with pytest.raises(TypeError, match=r"params\[1\]"):
        N.numerical_gradient(lambda: (w * w).sum(), [w, np.zeros(2)])
    with pytest.raises(TypeError, match=r"params\[0\].*int64"):
        N.numerical_gradient(lambda: 0.0, [tensor([1, 2])])


def test_numerical_gradient_progress_bar_only_when_asked(capsys):
    p = tensor([1.0, -2.0, 3.0], dtype=float64, requires_grad=True)
    quiet = N.numerical_gradient(lambda: (p * p).sum(), [p])
    assert capsys.readouterr() == ("", "")
    loud = N.numerical_gradient(lambda: (p * p).sum(), [p], progress=True)
    assert "numerical gradient" in capsys.readouterr().err
    np.testing.assert_allclose(quiet[0], 2 * p.data, rtol=1e-6)
    np.testing.assert_array_equal(quiet[0], loud[0])
