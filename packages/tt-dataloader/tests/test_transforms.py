"""Batch transforms: shapes and dtypes kept, values equal to the NumPy definition."""

import json

import numpy as np
import pytest
from tt_dataloader import (
    Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToTensor, to_float_images,
)
from tt_tensor import Tensor, from_numpy


def batch(dtype=np.float32, shape=(6, 3, 8, 10), seed=0):
    return np.random.default_rng(seed).random(shape).astype(dtype)


def all_transforms():
    return [
        RandomCrop((8, 10), padding=3, seed=0),
        RandomHorizontalFlip(seed=0),
        Normalize([0.4, 0.5, 0.6], [0.2, 0.25, 0.3]),
        Compose([RandomCrop((8, 10), padding=2, seed=1), RandomHorizontalFlip(seed=2),
                 Normalize([0.5] * 3, [0.5] * 3)]),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index", range(4))
def test_transforms_keep_dtype_and_shape(dtype, index):
    x = batch(dtype)
    out = all_transforms()[index](x)
    assert isinstance(out, np.ndarray) and out.dtype == dtype and out.shape == x.shape
    out = all_transforms()[index](from_numpy(x))
    assert isinstance(out, Tensor) and out.dtype == dtype and out.shape == x.shape


def test_full_size_crop_without_padding_is_the_identity():
    x = batch()
    assert np.array_equal(RandomCrop((8, 10), seed=0)(x), x)


def test_crop_equals_the_padded_slice_at_the_drawn_offsets():
    x, p, (h, w) = batch(shape=(16, 3, 8, 10)), 3, (6, 7)
    tops, lefts = RandomCrop((h, w), padding=p, seed=42).get_params(x)
    out = RandomCrop((h, w), padding=p, seed=42)(x)  # same seed -> the same offsets
    padded = np.zeros((16, 3, 8 + 2 * p, 10 + 2 * p), np.float32)
    padded[:, :, p:p + 8, p:p + 10] = x
    assert out.shape == (16, 3, h, w)
    for b in range(16):  # the slow per-image reference
        assert np.array_equal(out[b], padded[b, :, tops[b]:tops[b] + h, lefts[b]:lefts[b] + w])
    assert tops.min() >= 0 and tops.max() <= 8 + 2 * p - h
    assert lefts.min() >= 0 and lefts.max() <= 10 + 2 * p - w


def test_reflect_crop_equals_the_mirrored_slice_at_the_drawn_offsets():
    x, p, (h, w) = batch(shape=(16, 3, 8, 10)), 3, (8, 10)
    tops, lefts = RandomCrop((h, w), padding=p, padding_mode="reflect", seed=7).get_params(x)
    out = RandomCrop((h, w), padding=p, padding_mode="reflect", seed=7)(x)
    # mirror index by hand: padded row i reads row |i - p|, reflected again past the far edge
    rows = [abs(i - p) if i - p < 8 else 2 * 7 - (i - p) for i in range(8 + 2 * p)]
    cols = [abs(j - p) if j - p < 10 else 2 * 9 - (j - p) for j in range(10 + 2 * p)]
    padded = x[:, :, rows][:, :, :, cols]
    for b in range(16):
        assert np.array_equal(out[b], padded[b, :, tops[b]:tops[b] + h, lefts[b]:lefts[b] + w])
    assert "padding_mode='reflect'" in repr(RandomCrop(8, 3, padding_mode="reflect"))


def test_reflect_padding_must_be_smaller_than_the_image():
    with pytest.raises(ValueError, match=r"reflect padding 8 .*\(2, 3, 8, 8\)"):
        RandomCrop(8, padding=8, padding_mode="reflect")(np.zeros((2, 3, 8, 8), np.float32))


def test_unknown_padding_mode_is_rejected():
    with pytest.raises(ValueError, match="'edge'"):
        RandomCrop(8, padding=2, padding_mode="edge")


def test_crop_offsets_differ_between_images():
    tops, lefts = RandomCrop(32, padding=4, seed=0).get_params(np.zeros((64, 3, 32, 32)))
    assert len(np.unique(tops)) > 1 and len(np.unique(lefts)) > 1
    assert set(np.unique(tops)) <= set(range(9))


def test_crop_larger_than_the_padded_image_is_rejected():
    with pytest.raises(ValueError, match=r"\(12, 12\)"):
        RandomCrop(12, padding=1)(np.zeros((2, 3, 8, 8), np.float32))


def test_transforms_need_a_batch():
    with pytest.raises(ValueError, match=r"\(3, 8, 8\)"):
        RandomHorizontalFlip()(np.zeros((3, 8, 8)))


def test_flip_with_p_one_mirrors_every_image_and_p_zero_none():
    x = batch()
    assert np.array_equal(RandomHorizontalFlip(p=1.0)(x), x[..., ::-1])
    assert np.array_equal(RandomHorizontalFlip(p=0.0)(x), x)


def test_flip_mirrors_some_images_and_leaves_the_input_alone():
    x = batch(shape=(64, 3, 4, 5))
    original = x.copy()
    out = RandomHorizontalFlip(p=0.5, seed=3)(x)
    flipped = np.array([np.array_equal(o, i[..., ::-1]) for o, i in zip(out, x)])
    kept = np.array([np.array_equal(o, i) for o, i in zip(out, x)])
    assert np.all(flipped ^ kept) and 0 < flipped.sum() < 64
    assert np.array_equal(x, original)
    # documented: which images flip is generator.random(B) < p, one call per batch
    assert flipped.tolist() == (np.random.default_rng(3).random(64) < 0.5).tolist()


def test_normalize_equals_the_formula():
    x = batch(np.float64)
    mean, std = np.array([0.1, 0.2, 0.3]), np.array([0.5, 2.0, 4.0])
    expected = (x - mean.reshape(1, 3, 1, 1)) / std.reshape(1, 3, 1, 1)
    assert np.allclose(Normalize(mean, std)(x), expected)


def test_normalize_checks_channels_and_dtype():
    with pytest.raises(ValueError, match=r"\(6, 4, 8, 10\)"):
        Normalize([0.5] * 3, [0.5] * 3)(np.zeros((6, 4, 8, 10), np.float32))
    with pytest.raises(TypeError, match="uint8"):
        Normalize([0.5] * 3, [0.5] * 3)(np.zeros((6, 3, 8, 10), np.uint8))
    with pytest.raises(ValueError, match="positive"):
        Normalize([0.5], [0.0])


def test_to_tensor_scales_uint8_to_unit_interval():
    raw = np.random.default_rng(0).integers(0, 256, (2, 5, 4, 3), dtype=np.uint8)  # NHWC
    out = ToTensor(channels_last=True)(raw)
    assert isinstance(out, Tensor) and out.dtype == np.float32 and out.shape == (2, 3, 5, 4)
    assert np.allclose(out.numpy(), raw.transpose(0, 3, 1, 2) / 255.0)
    assert np.allclose(to_float_images(raw), raw / 255.0)


def test_random_state_round_trips_through_json():
    crop = Compose([RandomCrop(8, padding=2, seed=5), RandomHorizontalFlip(seed=6)])
    x = batch(shape=(8, 3, 8, 8))
    crop(x)
    state = json.loads(json.dumps(crop.state_dict()))
    expected = crop(x)
    other = Compose([RandomCrop(8, padding=2, seed=0), RandomHorizontalFlip(seed=0)])
    other.load_state_dict(state)
    assert np.array_equal(other(x), expected)


def test_load_state_dict_checks_the_number_of_states():
    with pytest.raises(ValueError, match="expected 2"):
        Compose([RandomCrop(8), RandomHorizontalFlip()]).load_state_dict({"transforms": [None]})
