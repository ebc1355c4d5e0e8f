"""BatchNorm1d / BatchNorm2d: the normalisation formula, PyTorch's running-statistics rule,
train/eval behaviour, state and errors. Gradients are in test_gradients.py."""

import numpy as np
import pytest
import tt_tensor as tt
import tt_normalization
from tt_normalization import BatchNorm1d, BatchNorm2d, batch_norm
from tt_tensor import fast_paths_off


@pytest.fixture(autouse=True)
def plain_paths():
    """These tests check the composition in functional.py (the lesson, your code): the fused
    batch norm is off here; test_fast_paths.py checks it against the composition."""
    with fast_paths_off(tt_normalization):  # a module without fast paths is left alone
        yield


def f64(array, grad=False):
    return tt.tensor(array, dtype=tt.float64, requires_grad=grad)


def reduce_axes(x):
    return (0,) + tuple(range(2, x.ndim))


def bn_reference(x, mean, var, weight, bias, eps=1e-5):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return ((x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
            * weight.reshape(shape) + bias.reshape(shape))


LAYERS = [(BatchNorm1d, (8, 3)), (BatchNorm1d, (4, 3, 5)), (BatchNorm2d, (4, 3, 5, 6))]
SHAPES = [shape for _, shape in LAYERS]


# The functional form alone: batch_norm without running statistics never updates any, so
# these check the normalisation before the running-statistics update is written.
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_in_training_normalises_with_the_batch_statistics(shape, affine):
    rng = np.random.default_rng(10)
    x = rng.standard_normal(shape) * 2 - 1
    w, b = (rng.standard_normal(3), rng.standard_normal(3)) if affine else (None, None)
    y = batch_norm(f64(x), None, None, None if w is None else f64(w),
                   None if b is None else f64(b), training=True, eps=1e-3)
    axes = reduce_axes(x)
    expected = bn_reference(x, x.mean(axis=axes), x.var(axis=axes),  # biased variance
                            np.ones(3) if w is None else w, np.zeros(3) if b is None else b,
                            eps=1e-3)
    np.testing.assert_allclose(y.data, expected, atol=1e-10)
    assert y.shape == x.shape


@pytest.mark.parametrize("shape", SHAPES)
def test_batch_norm_in_eval_uses_the_running_stats_and_leaves_them_alone(shape):
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape)
    rm, rv = rng.standard_normal(3), rng.random(3) + 0.5
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    running_mean, running_var = f64(rm.copy()), f64(rv.copy())
    y = batch_norm(f64(x), running_mean, running_var, f64(w), f64(b), training=False)
    np.testing.assert_allclose(y.data, bn_reference(x, rm, rv, w, b), atol=1e-12)
    np.testing.assert_array_equal(running_mean.data, rm)
    np.testing.assert_array_equal(running_var.data, rv)


def test_batch_norm_keeps_float32():
    x = tt.randn(4, 3, 2)
    assert batch_norm(x, None, None, tt.ones(3), tt.zeros(3), training=True).dtype == \
        np.float32


@pytest.mark.parametrize("shape", SHAPES)
def test_batch_norm_in_training_moves_the_given_running_stats_in_place(shape):
    """PyTorch's rule on the functional form: the same buffer Tensors hold
    (1 - momentum) * old + momentum * batch, with the unbiased batch variance."""
    rng = np.random.default_rng(12)
    x = rng.standard_normal(shape) * 3 + 2
    rm, rv = rng.standard_normal(3), rng.random(3) + 0.5
    running_mean, running_var = f64(rm.copy()), f64(rv.copy())
    batch_norm(f64(x, True), running_mean, running_var, training=True, momentum=0.25)
    axes = reduce_axes(x)
    np.testing.assert_allclose(running_mean.data, 0.75 * rm + 0.25 * x.mean(axis=axes),
                               rtol=1e-12)
    np.testing.assert_allclose(running_var.data,
                               0.75 * rv + 0.25 * x.var(axis=axes, ddof=1), rtol=1e-12)
    assert not running_mean.requires_grad and not running_var.requires_grad


@pytest.mark.parametrize("cls, shape", LAYERS)
def test_train_mode_uses_batch_statistics(cls, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 3 + 1
    layer = cls(3).double()
    layer.weight.data[...] = rng.standard_normal(3)
    layer.bias.data[...] = rng.standard_normal(3)
    axes = reduce_axes(x)
    expected = bn_reference(x, x.mean(axis=axes), x.var(axis=axes),  # biased variance
                            layer.weight.data, layer.bias.data)
    np.testing.assert_allclose(layer(f64(x)).data, expected, atol=1e-10)


@pytest.mark.parametrize("cls, shape", LAYERS)
def test_running_stats_follow_the_momentum_rule(cls, shape):
    rng = np.random.default_rng(1)
    layer, momentum = cls(3, momentum=0.3), 0.3
    mean, var = np.zeros(3), np.ones(3)
    for step in range(1, 5):
        x = rng.standard_normal(shape) * step + step
        layer(tt.tensor(x))
        axes = reduce_axes(x)
        mean = (1 - momentum) * mean + momentum * x.mean(axis=axes)
        var = (1 - momentum) * var + momentum * x.var(axis=axes, ddof=1)  # unbiased
        np.testing.assert_allclose(layer.running_mean.data, mean, rtol=1e-5)
        np.testing.assert_allclose(layer.running_var.data, var, rtol=1e-5)
        assert int(layer.num_batches_tracked.data) == step


def test_momentum_none_is_a_cumulative_average():
    rng = np.random.default_rng(2)
    layer = BatchNorm1d(2, momentum=None)
    batches = [rng.standard_normal((6, 2)) + k for k in range(3)]
    for x in batches:
        layer(tt.tensor(x))
    np.testing.assert_allclose(layer.running_mean.data,
                               np.mean([b.mean(axis=0) for b in batches], axis=0), rtol=1e-5)
    np.testing.assert_allclose(layer.running_var.data,
                               np.mean([b.var(axis=0, ddof=1) for b in batches], axis=0),
                               rtol=1e-5)


def test_eval_mode_uses_running_stats_and_leaves_them_alone():
    rng = np.random.default_rng(3)
    layer = BatchNorm2d(3).double()
    layer.running_mean.data[...] = rng.standard_normal(3)
    layer.running_var.data[...] = rng.random(3) + 0.5
    layer.weight.data[...] = rng.standard_normal(3)
    layer.eval()
    x = rng.standard_normal((2, 3, 4, 4))
    before = layer.state_dict()
    expected = bn_reference(x, layer.running_mean.data, layer.running_var.data,
                            layer.weight.data, layer.bias.data)
    np.testing.assert_allclose(layer(f64(x)).data, expected, atol=1e-12)
    for key, value in layer.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_train_eval_switch():
    rng = np.random.default_rng(4)
    layer = BatchNorm1d(4)
    x = tt.tensor(rng.standard_normal((16, 4)) * 2 + 5)
    train_out = layer(x).data
    np.testing.assert_allclose(train_out.mean(axis=0), 0, atol=1e-5)
    layer.eval()
    eval_out = layer(x).data  # running stats moved only 10% of the way: not normalised
    assert not layer.training and np.abs(eval_out.mean(axis=0)).min() > 1
    layer.train()
    np.testing.assert_allclose(layer(x).data, train_out, atol=1e-6)
    assert int(layer.num_batches_tracked.data) == 2  # eval steps do not count


def test_affine_false_and_no_running_stats():
    rng = np.random.default_rng(8)
    layer = BatchNorm2d(3, affine=False, track_running_stats=False)
    assert layer.weight is None and layer.running_mean is None
    assert list(layer.parameters()) == [] and layer.state_dict() == {}
    x = rng.standard_normal((2, 3, 4, 4))
    expected = bn_reference(x, x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3)),
                            np.ones(3), np.zeros(3))
    layer.eval()  # without running stats, eval still uses the batch
    np.testing.assert_allclose(layer(tt.tensor(x)).data, expected, atol=1e-5)


def test_state_dict_and_parameters():
    layer = BatchNorm2d(5)
    assert list(layer.state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert [p.shape for p in layer.parameters()] == [(5,), (5,)]
    np.testing.assert_array_equal(layer.weight.data, np.ones(5))
    np.testing.assert_array_equal(layer.running_var.data, np.ones(5))
    assert layer.num_batches_tracked.dtype == np.int64


def test_keeps_float32():
    assert BatchNorm2d(3)(tt.randn(2, 3, 4, 4)).dtype == np.float32


def test_bad_shapes_name_expected_and_got():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\).*\(N, 3, H, W\).*\(2, 4, 5, 5\)"):
        BatchNorm2d(3)(tt.randn(2, 4, 5, 5))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\).*\(N, 3\).*\(2, 3, 4, 4\)"):
        BatchNorm1d(3)(tt.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3\)"):
        BatchNorm1d(3)(tt.randn(1, 3))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        batch_norm(tt.randn(2, 3), None, None, tt.ones(4), training=True)
