"""Batch transforms: each maps a whole batch (B, C, H, W) at once, with no loop over images.

Every transform takes an ndarray or a Tensor and returns the same kind, with the same dtype.
Transforms work on data, not on the graph: a Tensor comes back as a fresh Tensor without history.
Random transforms own an np.random.Generator and expose `state_dict()` / `load_state_dict()`.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from tt_tensor import Tensor, from_numpy

from ._rng import generator_state, make_generator, set_generator_state


def _unwrap(x, name, ndim=4):
    """(the ndarray of x, whether x was a Tensor); checks x is a (B, C, H, W) batch."""
    array = x.data if isinstance(x, Tensor) else np.asarray(x)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name}: expected a batch of images (B, C, H, W), "
                         f"got shape {array.shape}")
    return array, isinstance(x, Tensor)


def _rewrap(array, was_tensor):
    return from_numpy(np.ascontiguousarray(array)) if was_tensor else array


def _pair(size, name):
    pair = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    if len(pair) != 2 or any(int(s) < 1 for s in pair):
        raise ValueError(f"{name}: size must be a positive int or (height, width), got {size!r}")
    return int(pair[0]), int(pair[1])


class Compose:
    """Apply transforms in order: Compose([RandomCrop(32, 4), Normalize(m, s)])(x)."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for transform in self.transforms:
            x = transform(x)
        return x

    def state_dict(self):
        """The state of each member that has one (None for the others)."""
        return {"transforms": [t.state_dict() if hasattr(t, "state_dict") else None
                               for t in self.transforms]}

    def load_state_dict(self, state):
        states = state.get("transforms") if isinstance(state, dict) else None
        if states is None or len(states) != len(self.transforms):
            got = "no 'transforms' list" if states is None else f"{len(states)} states"
            raise ValueError(f"Compose.load_state_dict: expected {len(self.transforms)} "
                             f"transform states, got {got}")
        for transform, member_state in zip(self.transforms, states):
            if member_state is not None:
                transform.load_state_dict(member_state)

    def __repr__(self):
        return f"Compose({self.transforms!r})"


class RandomTransform:
    """Base of random transforms: an own generator (seed: int, Generator or None) and its state."""

    def __init__(self, seed=None):
        self.generator = make_generator(seed)

    def state_dict(self):
        return {"generator": generator_state(self.generator)}

    def load_state_dict(self, state):
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, dict) or "generator" not in state:
            raise ValueError(f"{name}: expected a dict with a 'generator' key, got {state!r}")
        set_generator_state(self.generator, state["generator"], name)


_PADDING_MODES = ("constant", "reflect")


def _mirrored(n, p):
    """Indices 0..n-1 of an axis padded by p on each side by reflection (edge not repeated):
    -1 -> 1, n -> n - 2."""
    i = np.abs(np.arange(-p, n + p))
    return np.where(i > n - 1, 2 * (n - 1) - i, i)


class RandomCrop(RandomTransform):
    """Pad each side by `padding`, then cut a `size` window at a random offset per image.

    padding_mode "constant" pads with zeros; "reflect" mirrors the image about its edge
    without repeating the edge pixel (PyTorch's and np.pad's "reflect"), so needs
    padding < H and < W.
    """

    def __init__(self, size, padding=0, *, padding_mode="constant", seed=None):
        super().__init__(seed)
        self.size = _pair(size, "RandomCrop")
        if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
            raise ValueError(f"RandomCrop: padding must be a non-negative int, got {padding!r}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"RandomCrop: padding_mode must be one of {_PADDING_MODES}, "
                             f"got {padding_mode!r}")
        self.padding, self.padding_mode = int(padding), padding_mode

    def get_params(self, x):
        """The random offsets (top, left), each (B,), into the padded images of batch x."""
        array = _unwrap(x, "RandomCrop")[0]
        B, _, H, W = array.shape
        h, w = self.size
        free_h, free_w = H + 2 * self.padding - h, W + 2 * self.padding - w
        if free_h < 0 or free_w < 0:
            padded = (H + 2 * self.padding, W + 2 * self.padding)
            raise ValueError(f"RandomCrop: crop {self.size} is larger than the padded images "
                             f"{padded} of batch {array.shape}")
        tops = self.generator.integers(0, free_h + 1, size=B)
        lefts = self.generator.integers(0, free_w + 1, size=B)
        return tops, lefts

    def __call__(self, x):
        """(B, C, H, W) -> (B, C, h, w).

        out[b] = padded[b, :, top[b]:top[b] + h, left[b]:left[b] + w], offsets from get_params;
        padded = x padded by self.padding on both sides of H and W (np.pad with mode
        self.padding_mode). Return _rewrap(out, was_tensor): a Tensor again when x was one.
        """
        tops, lefts = self.get_params(x)
        array, was_tensor = _unwrap(x, "RandomCrop")
        B, C, H, W = array.shape
        p, (h, w) = self.padding, self.size
        if self.padding_mode == "reflect" and p >= min(H, W):
            raise ValueError(f"RandomCrop: reflect padding {p} needs images larger than it, "
                             f"got batch {array.shape}")
        ### BEGIN SOLUTION
        padded = array
        if p and self.padding_mode == "reflect":  # mirrored row and column indices, one gather
            rows, cols = _mirrored(H, p), _mirrored(W, p)
            padded = array[:, :, rows[:, None], cols[None, :]]
        elif p:  # a zero buffer and one slice assignment: several times faster than np.pad
            padded = np.zeros((B, C, H + 2 * p, W + 2 * p), dtype=array.dtype)
            padded[:, :, p:p + H, p:p + W] = array
        views = sliding_window_view(padded, (h, w), axis=(2, 3))  # (B, C, H', W', h, w), no copy
        # advanced indices on axes 0, 2, 3 (split by a slice): their B axis goes first,
        # then the sliced C and the window (h, w): (B, C, h, w)
        out = views[np.arange(B), :, tops, lefts]
        ### END SOLUTION
        return _rewrap(out, was_tensor)

    def __repr__(self):
        mode = "" if self.padding_mode == "constant" else f", padding_mode={self.padding_mode!r}"
        return f"RandomCrop(size={self.size}, padding={self.padding}{mode})"


class RandomHorizontalFlip(RandomTransform):
    """Mirror each image left-right with probability p, independently per image."""

    def __init__(self, p=0.5, *, seed=None):
        super().__init__(seed)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p!r}")
        self.p = float(p)

    def __call__(self, x):
        """(B, C, H, W) -> (B, C, H, W); flipped images are x[b, :, :, ::-1]."""
        array, was_tensor = _unwrap(x, "RandomHorizontalFlip")
        B = array.shape[0]
        ### BEGIN SOLUTION
        flip = self.generator.random(B) < self.p  # (B,) bool: one draw per image
        out = array.copy()
        out[flip] = array[flip, :, :, ::-1]
        ### END SOLUTION
        return _rewrap(out, was_tensor)

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


class Normalize:
    """Per-channel standardisation: out[:, c] = (x[:, c] - mean[c]) / std[c]."""

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        self.std = np.asarray(std, dtype=np.float64).reshape(-1)
        if self.mean.shape != self.std.shape:
            raise ValueError(f"Normalize: mean has {self.mean.size} values, std {self.std.size}")
        if np.any(self.std <= 0):
            raise ValueError(f"Normalize: std must be positive, got {self.std.tolist()}")

    def __call__(self, x):
        """(..., C, H, W) float -> same shape and dtype."""
        array, was_tensor = _unwrap(x, "Normalize", ndim=None)
        if array.dtype.kind != "f":
            raise TypeError(f"Normalize: expected float images, got {array.dtype} "
                            f"(convert uint8 with ToTensor first)")
        if array.ndim < 3 or array.shape[-3] != self.mean.size:
            raise ValueError(f"Normalize: {self.mean.size} channel statistics do not fit "
                             f"images of shape {array.shape} (channel axis -3)")
        ### BEGIN SOLUTION
        shape = (-1, 1, 1)  # channel axis -3 broadcasts over (..., C, H, W)
        mean = self.mean.astype(array.dtype).reshape(shape)
        std = self.std.astype(array.dtype).reshape(shape)
        out = (array - mean) / std
        ### END SOLUTION
        return _rewrap(out, was_tensor)

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


def to_float_images(array, channels_last=False):
    """uint8 images -> float32 in [0, 1], (B, C, H, W); channels_last reads (B, H, W, C)."""
    if array.dtype != np.uint8:
        raise TypeError(f"ToTensor: expected uint8 images, got {array.dtype}")
    if array.ndim != 4:
        raise ValueError(f"ToTensor: expected a batch of images, got shape {array.shape}")
    if channels_last:
        array = array.transpose(0, 3, 1, 2)  # (B, H, W, C) -> (B, C, H, W)
    return array.astype(np.float32) / np.float32(255.0)


class ToTensor:
    """uint8 images (B, C, H, W), or (B, H, W, C) if channels_last -> float32 Tensor in [0, 1]."""

    def __init__(self, channels_last=False):
        self.channels_last = bool(channels_last)

    def __call__(self, x):
        array = x.data if isinstance(x, Tensor) else np.asarray(x)
        return from_numpy(to_float_images(array, self.channels_last))

    def __repr__(self):
        return f"ToTensor(channels_last={self.channels_last})"
