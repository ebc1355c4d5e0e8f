"""gradcheck itself: it passes on right gradients and fails, naming the input, on wrong ones."""

import numpy as np
import pytest
from tt_tensor import Function, float32, float64, tensor

from tt_autograd import gradcheck


class ScaledWrong(Function):
    """Forward 3x, backward claims 3.3: a 10% error gradcheck must catch."""

    @staticmethod
    def forward(ctx, x):
        return 3.0 * x

    @staticmethod
    def backward(ctx, g):
        return (3.3 * g,)


def leaf(shape, dtype=float64, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape)
    return tensor(data, dtype=dtype, requires_grad=True)


def test_passes_on_a_correct_gradient():
    assert gradcheck(lambda a, b: (a * b).exp(), leaf((2, 3)), leaf((3,), seed=1)) is True


def test_fails_on_a_wrong_gradient_and_names_the_input():
    constant = tensor(np.ones(3), dtype=float64)  # position 0 does not require grad
    with pytest.raises(AssertionError, match=r"input 2 of shape \(2, 3\)"):
        gradcheck(lambda c, a, b: c * a + ScaledWrong.apply(b), constant, leaf((3,)),
                  leaf((2, 3), seed=1))


def test_rejects_float32_inputs():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda a: a * a, leaf((3,), dtype=float32))


def test_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda a: a * a, tensor(np.ones(3), dtype=float64))


def test_unused_input_has_zero_gradient():
    assert gradcheck(lambda a, b: a * 2.0, leaf((3,)), leaf((2,), seed=1))
