"""Task 9: bad input fails loudly at the public entry points, naming the shapes and values."""

import numpy as np
import pytest

import tt_tensor as tt



# --- creating tensors ------------------------------------------------------------------------
@pytest.mark.parametrize("data", ["abc", b"abc", [1, "a"], None, {"a": 1}, [1j, 2j], object()],
                         ids=["str", "bytes", "mixed list", "None", "dict", "complex", "object"])
def test_non_numeric_data_is_refused(data):
    with pytest.raises(TypeError, match="expected numbers") as err:
        tt.tensor(data)
    assert repr(data)[:20] in str(err.value)  # the message shows the offending data


def test_a_list_of_tensors_is_refused():
    """tensor() copies numbers; joining tensors is stack's work (it records the graph)."""
    data = [tt.tensor(1.0), tt.tensor(2.0)]
    with pytest.raises(TypeError, match="expected numbers") as err:
        tt.tensor(data)
    assert repr(data)[:20] in str(err.value)


@pytest.mark.parametrize("data", [[[1, 2], [3]], [[1.0], [2.0, 3.0]], [1, [2, 3]]], ids=str)
def test_ragged_lists_are_refused(data):
    with pytest.raises(ValueError, match="ragged"):
        tt.tensor(data)


def test_negative_shape_is_refused():
    with pytest.raises(ValueError, match="-1"):
        tt.zeros(2, -1)


@pytest.mark.parametrize(
    "make",
    [lambda: tt.tensor([1, 2], requires_grad=True),
     lambda: tt.zeros(2, dtype=tt.int64, requires_grad=True),
     lambda: tt.arange(3).requires_grad_(),
     lambda: tt.tensor([True]).requires_grad_()],
    ids=["tensor", "zeros", "requires_grad_", "bool"],
)
def test_requires_grad_on_a_non_float_tensor_is_refused(make):
    with pytest.raises(TypeError, match="floating") as err:
        make()
    assert "int64" in str(err.value) or "bool" in str(err.value)


def test_item_on_many_elements_names_the_shape():
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        tt.zeros(2, 3).item()


def test_len_of_a_0d_tensor():
    with pytest.raises(TypeError, match="0-d"):
        len(tt.tensor(1.0))


# --- shapes that do not fit ----------------------------------------------------------------------
def _message(fn):
    with pytest.raises((ValueError, IndexError, TypeError)) as err:
        fn()
    return str(err.value)


@pytest.mark.parametrize(
    "fn, shapes",
    [
        (lambda: tt.randn(2, 3) @ tt.randn(4, 5), ["(2, 3)", "(4, 5)"]),
        (lambda: tt.matmul(tt.randn(3), tt.randn(4)), ["(3,)", "(4,)"]),
        (lambda: tt.randn(5, 2, 3) @ tt.randn(5, 2, 3), ["(5, 2, 3)"]),
        (lambda: tt.tensor(1.0) @ tt.randn(2, 3), ["()", "(2, 3)"]),
        (lambda: tt.randn(2, 3) + tt.randn(4), ["(2, 3)", "(4,)"]),
        (lambda: tt.randn(4) - tt.randn(2, 3), ["(4,)", "(2, 3)"]),
        (lambda: tt.mul(tt.randn(2, 3), tt.randn(3, 2)), ["(2, 3)", "(3, 2)"]),
        (lambda: tt.maximum(tt.randn(2, 3), tt.randn(2)), ["(2, 3)", "(2,)"]),
        (lambda: tt.where(np.ones(4, bool), tt.randn(2, 3), 0.0), ["(4,)", "(2, 3)"]),
        (lambda: tt.randn(2, 3).reshape(4, 2), ["(2, 3)", "(4, 2)"]),
        (lambda: tt.randn(2, 3).broadcast_to(4, 2), ["(2, 3)", "(4, 2)"]),
        (lambda: tt.cat([tt.randn(2, 3), tt.randn(2, 4)]), ["(2, 3)", "(2, 4)"]),
        (lambda: tt.stack([tt.randn(2, 3), tt.randn(2, 4)]), ["(2, 3)", "(2, 4)"]),
        (lambda: tt.sliding_window(tt.randn(2, 3), (3, 4)), ["(3, 4)", "(2, 3)"]),
        (lambda: tt.sliding_window(tt.randn(6), (2,), stride=0), ["0"]),
        (lambda: tt.pad(tt.randn(2, 3), ((1, 1),) * 3), ["(2, 3)"]),
        (lambda: tt.pad(tt.randn(2, 3), -1), ["-1"]),
        (lambda: tt.randn(2, 3).permute(0, 0), ["(0, 0)", "(2, 3)"]),
        (lambda: tt.randn(2, 3).sum(2), ["2"]),
        (lambda: tt.randn(2, 3).mean(-3), ["-3"]),
        (lambda: tt.randn(2, 3).max((0, 5)), ["5"]),
        (lambda: tt.zeros(0).max(), ["(0,)"]),
        (lambda: tt.randn(2, 3).argmax(5), ["5"]),
    ],
    ids=["@", "matmul 1-d", "batched @", "@ 0-d", "add", "sub", "mul", "maximum", "where",
         "reshape", "broadcast_to", "cat", "stack", "window too large", "stride 0", "pad fit",
         "pad negative", "permute", "sum axis", "mean axis", "max axis", "max empty", "argmax"],
)
def test_error_names_shapes_and_values(fn, shapes):
    message = _message(fn)
    for s in shapes:
        assert s in message, f"{s!r} not in {message!r}"


@pytest.mark.parametrize(
    "index", [5, (0, 3), (0, 0, 0), np.array([0, 2]), np.array([True, False, True])],
    ids=["int", "second axis", "too many", "int array", "mask"],
)
def test_index_out_of_range_names_index_and_shape(index):
    with pytest.raises(IndexError) as err:
        tt.zeros(2, 3)[index]
    assert "(2, 3)" in str(err.value)


# --- dims out of range -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [lambda x: x.permute(0, 5), lambda x: x.squeeze(5), lambda x: x.unsqueeze(5),
     lambda x: x.flatten(5), lambda x: x.transpose(0, 5), lambda x: tt.stack([x, x], 5),
     lambda x: tt.cat([x, x], 5)],
    ids=["permute", "squeeze", "unsqueeze", "flatten", "transpose", "stack", "cat"],
)
def test_dim_out_of_range_is_refused(fn):
    message = _message(lambda: fn(tt.zeros(2, 3)))
    assert "out of range" in message and "5" in message


def test_permute_error_shows_the_axes_given():
    assert "(0, 1, 2)" in _message(lambda: tt.zeros(2, 3).permute(0, 1, 2))


@pytest.mark.parametrize(
    "shape, axes, wanted",
    [((2, 3), (0, 1, 2), "(0, 1, 2) is not a permutation of the 2 axes of (2, 3)"),
     ((2, 3), (0, 0, 5), "(0, 0, 5) is not a permutation of the 2 axes of (2, 3)"),  # count 1st
     ((2, 3), (5, 5), "dim 5 is out of range for a tensor with 2 dims"),  # range before repeats
     ((2, 3), (0, 7), "dim 7 is out of range"),
     ((2, 3), (0, 0), "axis 0 is repeated"),
     ((2, 3), (1, -1), "axis -1 is repeated"),
     ((2, 3, 4), (2, 0, -1), "axis -1 is repeated")],
    ids=str,
)
def test_permute_checks_count_then_range_then_repeats(shape, axes, wanted):
    with pytest.raises(ValueError) as err:
        tt.zeros(*shape).permute(*axes)
    assert str(err.value).startswith("permute: ") and wanted in str(err.value)


@pytest.mark.parametrize(
    "shape, window, stride, shown",
    [((2, 3), (3, 4), 1, ["(3, 4)", "(2, 3)"]),  # larger than both axes
     ((5, 3), (2, 4), 1, ["(2, 4)", "(5, 3)"]),  # larger than one axis
     ((3, 3), (2, 2, 2), 1, ["(2, 2, 2)", "(3, 3)"]),  # more axes than x
     ((6,), (0,), 1, ["(0,)"]),
     ((6, 6), (-1, 2), 1, ["(-1, 2)"]),
     ((6,), (2,), 0, ["0"]),
     ((6,), (2,), -2, ["-2"]),
     ((6, 6), (2, 2), (1, 0), ["(1, 0)"]),
     ((6, 6), (2, 2), (1,), ["(1,)"])],  # not one per window axis
    ids=["window too large", "window too large on one axis", "window has too many axes",
         "window 0", "window negative", "stride 0", "stride negative", "stride pair with 0",
         "stride count"],
)
def test_sliding_window_refuses_bad_sizes_by_value(shape, window, stride, shown):
    with pytest.raises(ValueError) as err:
        tt.sliding_window(tt.zeros(*shape), window, stride)
    message = str(err.value)
    assert message.startswith("sliding_window: ")
    for text in shown:
        assert text in message, f"{text!r} not in {message!r}"


def test_flatten_start_after_end_is_refused():
    _message(lambda: tt.zeros(2, 3, 4).flatten(2, 1))
