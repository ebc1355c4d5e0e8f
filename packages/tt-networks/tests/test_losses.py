"""Contract tests for the losses and accuracy: NumPy formulas, stability, errors."""

import subprocess
import sys

import numpy as np
import pytest
from tt_tensor import PRIMITIVES, float64, tensor

import tt_networks as N

REDUCE = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}


@pytest.fixture(autouse=True)
def plain_paths():
    """These tests check the composition in losses.py (the lesson, your code): the fused
    cross-entropy is off here; test_fast_paths.py checks it against the composition."""
    switch = getattr(N, "use_fast_paths", None)  # optional, not in all
    before = switch(False) if switch else None
    yield
    if switch:
        switch(before)


def rng(seed=0):
    return np.random.default_rng(seed)


def np_log_softmax(z, axis):
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def np_cross_entropy(z, y, eps=0.0):
    """Reference per-element loss; z (N, C, ...), y (N, ...)."""
    logp = np_log_softmax(z, axis=1)
    picked = np.take_along_axis(logp, np.expand_dims(y, 1), axis=1).squeeze(1)
    return -(1 - eps) * picked - eps * logp.mean(axis=1)


def np_bce(p, t):
    return -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log(1 - p), -100))


def graph_ops(out):
    seen, stack, names = set(), [out], set()
    while stack:
        t = stack.pop()
        if t.grad_fn is None or id(t) in seen:
            continue
        seen.add(id(t))
        names.add(t.grad_fn.name)
        stack.extend(t.grad_fn.inputs)
    return names


# --- mse ---------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", sorted(REDUCE))
@pytest.mark.parametrize("shape", [(), (6,), (4, 3), (2, 3, 2)])
def test_mse_loss_matches_numpy(reduction, shape):
    a, b = rng(0).standard_normal(shape), rng(1).standard_normal(shape)
    out = N.mse_loss(tensor(a, dtype=float64), tensor(b, dtype=float64), reduction=reduction)
    np.testing.assert_allclose(out.data, REDUCE[reduction]((a - b) ** 2), rtol=1e-12)


# --- cross-entropy ---------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", sorted(REDUCE))
@pytest.mark.parametrize("eps", [0.0, 0.1])
@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2), (2, 3, 2, 2)])
def test_cross_entropy_matches_numpy(reduction, eps, shape):
    z = rng(0).standard_normal(shape) * 3
    y = rng(1).integers(0, shape[1], size=shape[:1] + shape[2:])
    out = N.cross_entropy(tensor(z, dtype=float64), tensor(y), reduction=reduction,
                          label_smoothing=eps)
    np.testing.assert_allclose(out.data, REDUCE[reduction](np_cross_entropy(z, y, eps)),
                               rtol=1e-12)


def test_cross_entropy_unbatched_and_float32():
    z = rng(2).standard_normal(5)
    out = N.cross_entropy(tensor(z), 3)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, -np_log_softmax(z, 0)[3], rtol=1e-6)


def test_cross_entropy_is_stable_for_large_logits():
    z = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, -1000.0], [-1000.0, 0.0, 1000.0]])
    y = np.array([0, 1, 0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = N.cross_entropy(tensor(z), tensor(y), reduction="none")
    np.testing.assert_allclose(out.data, [0.0, np.log(2.0), 2000.0], rtol=1e-6, atol=1e-6)


def test_cross_entropy_errors_name_shapes_and_values():
    z = tensor(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\[0, 3\).*\(4, 3\).*max 3"):
        N.cross_entropy(z, tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"min -1"):
        N.cross_entropy(z, tensor([0, -1, 2, 1]))
    with pytest.raises(ValueError, match=r"target of shape \(3,\).*input of shape \(4, 3\)"):
        N.cross_entropy(z, tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="integer class indices"):
        N.cross_entropy(z, tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="reduction"):
        N.cross_entropy(z, tensor([0, 1, 2, 1]), reduction="average")
    with pytest.raises(ValueError, match="label_smoothing"):
        N.cross_entropy(z, tensor([0, 1, 2, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"empty.*\(0, 3\)"):  # documented: N = 0 refused
        N.cross_entropy(tensor(np.zeros((0, 3))), np.zeros(0, dtype=np.int64))


# --- binary cross-entropy ------------------------------------------------------------------
@pytest.mark.parametrize("reduction", sorted(REDUCE))
def test_binary_cross_entropy_matches_numpy(reduction):
    p = rng(0).uniform(0.01, 0.99, size=(6, 2))
    t = rng(1).uniform(0, 1, size=(6, 2))
    out = N.binary_cross_entropy(tensor(p, dtype=float64), tensor(t, dtype=float64),
                                 reduction=reduction)
    np.testing.assert_allclose(out.data, REDUCE[reduction](np_bce(p, t)), rtol=1e-12)


def test_binary_cross_entropy_clamps_log_at_minus_100():
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-50])
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    with np.errstate(divide="raise", invalid="raise"):
        out = N.binary_cross_entropy(tensor(p, dtype=float64), tensor(t, dtype=float64),
                                     reduction="none")
    np.testing.assert_allclose(out.data, [100.0, 100.0, 0.0, 0.0, 100.0], atol=1e-12)


@pytest.mark.parametrize("reduction", sorted(REDUCE))
def test_bce_with_logits_matches_numpy(reduction):
    x = rng(0).standard_normal((5, 3)) * 4
    t = rng(1).integers(0, 2, size=(5, 3)).astype(np.float64)
    out = N.binary_cross_entropy_with_logits(tensor(x, dtype=float64),
                                             tensor(t, dtype=float64), reduction=reduction)
    sig = 1.0 / (1.0 + np.exp(-x))
    expected = -(t * np.log(sig) + (1 - t) * np.log(1 - sig))
    np.testing.assert_allclose(out.data, REDUCE[reduction](expected), rtol=1e-10)


def test_bce_with_logits_is_stable_for_large_logits():
    x = np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0])
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = N.binary_cross_entropy_with_logits(tensor(x), tensor(t), reduction="none")
    np.testing.assert_allclose(out.data, [1000.0, 1000.0, 0.0, 0.0, np.log(2.0)], rtol=1e-6)


def test_binary_losses_accept_integer_targets_and_check_inputs():
    p = tensor([0.2, 0.9])
    np.testing.assert_allclose(N.binary_cross_entropy(p, tensor([0, 1])).data,
                               np.mean(np_bce(np.array([0.2, 0.9]), np.array([0, 1]))),
                               rtol=1e-6)
    with pytest.raises(ValueError, match=r"\[0, 1\].*max 1\.5"):
        N.binary_cross_entropy(tensor([0.5, 1.5]), tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"\(2,\).*\(2, 1\)"):
        N.binary_cross_entropy_with_logits(tensor([0.5, 1.5]), tensor([[0.0], [1.0]]))
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        N.mse_loss(tensor([1.0, 2.0, 3.0]), tensor([1.0, 2.0]))


@pytest.mark.parametrize("fn,args", [
    (N.mse_loss, ([[0.5, -1.0]], [[0.0, 1.0]])),
    (N.cross_entropy, ([[0.5, -1.0, 2.0]], [2])),
    (N.binary_cross_entropy, ([[0.5, 0.25]], [[0.0, 1.0]])),
    (N.binary_cross_entropy_with_logits, ([[0.5, -1.0]], [[0.0, 1.0]])),
])
def test_losses_record_graphs_of_primitives(fn, args):
    x = tensor(args[0], dtype=float64, requires_grad=True)
    target = tensor(args[1], dtype=float64) if fn is not N.cross_entropy else tensor(args[1])
    out = fn(x, target)
    assert out.shape == () and out.requires_grad
    assert graph_ops(out) <= set(PRIMITIVES)


def test_loss_classes_match_functions():
    z = tensor(rng(0).standard_normal((4, 3)))
    y = tensor(np.array([0, 2, 1, 2]))
    t = tensor(rng(1).uniform(0, 1, (4, 3)))
    probs = tensor(rng(2).uniform(0.05, 0.95, (4, 3)))
    cases = [
        (N.MSELoss(), N.mse_loss(z, t)),
        (N.MSELoss(reduction="sum"), N.mse_loss(z, t, reduction="sum")),
        (N.CrossEntropyLoss(label_smoothing=0.2), N.cross_entropy(z, y, label_smoothing=0.2)),
        (N.BCELoss(), N.binary_cross_entropy(probs, t)),
        (N.BCEWithLogitsLoss(reduction="none"),
         N.binary_cross_entropy_with_logits(z, t, reduction="none")),
    ]
    for loss_fn, expected in cases:
        target = y if isinstance(loss_fn, N.CrossEntropyLoss) else t
        inputs = probs if isinstance(loss_fn, N.BCELoss) else z
        np.testing.assert_array_equal(loss_fn(inputs, target).data, expected.data)
    assert repr(N.MSELoss()) == "MSELoss(reduction='mean')"
    with pytest.raises(ValueError, match="reduction"):
        N.BCELoss(reduction="avg")


# --- accuracy ------------------------------------------------------------------------------
def test_accuracy_multiclass_and_binary():
    z = rng(0).standard_normal((50, 4))
    y = rng(1).integers(0, 4, size=50)
    assert N.accuracy(tensor(z), tensor(y)) == pytest.approx(np.mean(z.argmax(1) == y))
    probs = np.array([0.1, 0.7, 0.4, 0.9])
    labels = np.array([0, 1, 1, 1])
    assert N.accuracy(probs, labels) == 0.75
    assert N.accuracy(tensor(probs.reshape(4, 1)), tensor(labels.reshape(4, 1))) == 0.75
    logits = np.array([-2.0, 0.5, -0.1, 3.0])
    assert N.accuracy(logits, labels, threshold=0.0) == 0.75
    # targets compare by value: float and bool labels count like their integers
    assert N.accuracy(probs, labels.astype(np.float32)) == 0.75
    assert N.accuracy(probs, labels.astype(bool).reshape(4, 1)) == 0.75
    assert N.accuracy(z, y.astype(np.float64)) == pytest.approx(np.mean(z.argmax(1) == y))
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        N.accuracy(probs, labels[:3])
    with pytest.raises(ValueError, match=r"\(2, 2, 2\)"):
        N.accuracy(np.zeros((2, 2, 2)), np.zeros(2))


def test_library_prints_nothing(capsys):
    N.cross_entropy(tensor(np.zeros((2, 3))), tensor([0, 1]))
    N.numerical_gradient(lambda: N.mse_loss(tensor([1.0]), tensor([0.0])), [])
    repr(N.mlp([2, 2]))
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    result = subprocess.run([sys.executable, "-c", "import tt_networks"],
                            capture_output=True, text=True, check=True)
    assert result.stdout == "" and result.stderr == ""
