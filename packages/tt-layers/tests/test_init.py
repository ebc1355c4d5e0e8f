"""Contract tests for the initialisers: in place, statistics against their formulas, gains."""

import math

import numpy as np
import pytest
from tt_tensor import float64, zeros

import tt_layers as L
from tt_layers import init

SHAPE = (400, 300)  # fan_out = 400, fan_in = 300: 120,000 samples, std estimates within ~0.5%
FAN_OUT, FAN_IN = SHAPE


def generator():
    return np.random.default_rng(1234)


def param(shape=SHAPE, dtype=np.float32):
    return L.Parameter(np.zeros(shape, dtype=dtype))


def assert_uniform(data, bound):
    assert np.abs(data).max() <= bound * (1 + 1e-6)
    assert np.abs(data).max() > 0.99 * bound
    assert abs(data.std() - bound / math.sqrt(3.0)) < 0.02 * bound / math.sqrt(3.0)
    assert abs(data.mean()) < 0.02 * bound


def assert_normal(data, std, mean=0.0):
    assert abs(data.std() - std) < 0.02 * std
    assert abs(data.mean() - mean) < 0.02 * std + 1e-12
    assert abs(np.mean(np.abs(data - mean) < std) - 0.6827) < 0.01  # mass within one std


def test_namespace_and_top_level_names_are_the_same_functions():
    assert L.init.xavier_uniform_ is L.xavier_uniform_ is init.xavier_uniform_
    assert L.init.kaiming_normal_ is L.kaiming_normal_


def test_calculate_gain_formulas():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5.0 / 3.0)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2.0))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2.0 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2.0 / 1.04))
    assert init.calculate_gain("selu") == pytest.approx(0.75)
    with pytest.raises(ValueError, match="softplus"):
        init.calculate_gain("softplus")


def test_fill_functions_work_in_place_and_keep_dtype():
    p = param((3, 2), np.float64)
    array = p.data
    assert init.ones_(p) is p and p.data is array
    np.testing.assert_array_equal(p.data, 1.0)
    init.zeros_(p)
    np.testing.assert_array_equal(p.data, 0.0)
    init.constant_(p, 2.5)
    np.testing.assert_array_equal(p.data, 2.5)
    assert p.dtype == np.float64
    buf = zeros(4)  # plain tensors (buffers) are filled too
    init.ones_(buf)
    np.testing.assert_array_equal(buf.data, 1.0)


def test_uniform_and_normal_statistics():
    p = init.uniform_(param(), -2.0, 4.0, generator=generator())
    assert p.data.min() >= -2.0 and p.data.max() < 4.0
    assert abs(p.data.std() - 6.0 / math.sqrt(12.0)) < 0.02 * 6.0 / math.sqrt(12.0)
    assert abs(p.data.mean() - 1.0) < 0.02
    assert_normal(init.normal_(param(), 3.0, 0.5, generator=generator()).data, 0.5, mean=3.0)


def test_xavier_statistics():
    bound = math.sqrt(6.0 / (FAN_IN + FAN_OUT))
    assert_uniform(init.xavier_uniform_(param(), generator=generator()).data, bound)
    assert_uniform(init.xavier_uniform_(param(), gain=2.0, generator=generator()).data,
                   2.0 * bound)
    std = math.sqrt(2.0 / (FAN_IN + FAN_OUT))
    assert_normal(init.xavier_normal_(param(), generator=generator()).data, std)


def test_kaiming_uniform_statistics():
    gain = math.sqrt(2.0)  # relu
    assert_uniform(init.kaiming_uniform_(param(), nonlinearity="relu",
                                         generator=generator()).data,
                   math.sqrt(3.0) * gain / math.sqrt(FAN_IN))
    assert_uniform(init.kaiming_uniform_(param(), mode="fan_out", nonlinearity="relu",
                                         generator=generator()).data,
                   math.sqrt(3.0) * gain / math.sqrt(FAN_OUT))
    # Linear's default: a = sqrt(5) with leaky_relu gives the bound 1 / sqrt(fan_in)
    assert_uniform(init.kaiming_uniform_(param(), a=math.sqrt(5), generator=generator()).data,
                   1.0 / math.sqrt(FAN_IN))


def test_kaiming_normal_statistics():
    gain = math.sqrt(2.0)  # relu
    assert_normal(init.kaiming_normal_(param(), nonlinearity="relu",
                                       generator=generator()).data, gain / math.sqrt(FAN_IN))
    assert_normal(init.kaiming_normal_(param(), mode="fan_out", nonlinearity="relu",
                                       generator=generator()).data, gain / math.sqrt(FAN_OUT))


def test_fans_include_the_receptive_field():
    # a conv weight (out=16, in=8, 3, 3): fan_in = 8*9 = 72, fan_out = 16*9 = 144
    p = init.xavier_uniform_(param((16, 8, 3, 3)), generator=generator())
    assert np.abs(p.data).max() <= math.sqrt(6.0 / (72 + 144)) * (1 + 1e-6)
    p = init.kaiming_normal_(param((64, 32, 5, 5), float64), nonlinearity="relu",
                             generator=generator())
    assert abs(p.data.std() - math.sqrt(2.0 / (32 * 25))) < 0.02 * math.sqrt(2.0 / (32 * 25))


def test_generator_and_global_seed_reproducibility():
    a = init.normal_(param((5, 5)), generator=np.random.default_rng(7)).data.copy()
    b = init.normal_(param((5, 5)), generator=np.random.default_rng(7)).data.copy()
    np.testing.assert_array_equal(a, b)
    np.random.seed(11)
    c = init.xavier_uniform_(param((5, 5))).data.copy()
    np.random.seed(11)
    np.testing.assert_array_equal(c, init.xavier_uniform_(param((5, 5))).data)


def test_init_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"\(7,\)"):
        init.xavier_uniform_(param((7,)))
    with pytest.raises(ValueError, match="fan_sideways"):
        init.kaiming_uniform_(param(), mode="fan_sideways")
    with pytest.raises(ValueError, match="a <= b"):
        init.uniform_(param(), 1.0, -1.0)
    with pytest.raises(ValueError, match="std"):
        init.normal_(param(), 0.0, -1.0)
