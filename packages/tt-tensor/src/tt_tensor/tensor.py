"""The Tensor: an ndarray, whether it requires a gradient, and how it was made (`grad_fn`)."""

import importlib

import numpy as np

DEFAULT_FLOAT = np.float32


def _to_array(data, dtype=None):
    """A fresh ndarray from numbers, nested lists, arrays or tensors.

    Floats default to float32, integers to int64, booleans stay bool; `dtype` overrides.
    """
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        arr = data
    else:
        try:
            arr = np.array(data)
        except ValueError as err:
            raise ValueError(f"tensor(): ragged or malformed nested sequence: {err}") from None
    if arr.dtype.kind not in "biuf":
        shown = repr(data) if len(repr(data)) < 60 else repr(data)[:57] + "..."
        raise TypeError(f"tensor(): expected numbers, got {arr.dtype} data {shown}")
    if dtype is not None:
        return np.array(arr, dtype=dtype)
    if arr.dtype.kind == "f":
        return np.array(arr, dtype=DEFAULT_FLOAT)
    if arr.dtype.kind in "iu":
        return np.array(arr, dtype=np.int64)
    return np.array(arr)


class Tensor:
    """An n-dimensional array that can record the ops applied to it.

    data: the ndarray. requires_grad: whether gradients should flow to it.
    grad: the accumulated gradient (a Tensor) after backward. grad_fn: the Node that made it
    (None for leaves: tensors created by the user).
    """

    __slots__ = ("data", "requires_grad", "grad", "grad_fn", "retains_grad", "__weakref__")
    __array_priority__ = 1000  # ndarray op Tensor -> Tensor's reflected method

    def __init__(self, data, dtype=None, requires_grad=False):
        self.data = _to_array(data, dtype)
        self.grad = None
        self.grad_fn = None
        self.retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array):
        """A leaf tensor around an existing array, without copying or converting it."""
        t = cls.__new__(cls)
        t.data, t.grad, t.grad_fn, t.retains_grad, t.requires_grad = array, None, None, False, False
        return t

    # --- properties computed from the data -------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def is_leaf(self):
        """True for tensors not made by a recorded op."""
        return self.grad_fn is None

    def size(self, dim=None):
        """The shape (PyTorch's name), or the length of one axis."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self):
        return self.data.size

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    # --- leaving the graph --------------------------------------------------------------
    def numpy(self):
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item(): only one-element tensors convert, this one has shape {self.shape}"
            )
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def detach(self):
        """The same data, cut from the graph (no grad_fn, requires_grad False)."""
        return Tensor._wrap(self.data)

    def requires_grad_(self, flag=True):
        """Set requires_grad in place (only float tensors can require gradients)."""
        if flag and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require grad, this one is {self.dtype}"
            )
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self):
        """Keep .grad on this non-leaf tensor after backward."""
        self.retains_grad = True
        return self

    def backward(self, gradient=None, retain_graph=False):
        """Differentiate this tensor; gradients accumulate into the .grad of leaves.

        The work is done by tt-autograd (module 09); tt-tensor only records the graph.
        """
        try:
            engine = importlib.import_module("tt_autograd")
        except ModuleNotFoundError as err:
            if err.name != "tt_autograd":
                raise  # tt_autograd is there, but one of its own imports failed
            raise ModuleNotFoundError(
                "Tensor.backward() needs tt-autograd (module 09), which is not installed. "
                "Install it from the local packages (pip install ./packages/tt-autograd) or "
                "use numerical gradients (tt_networks.numerical_gradient)."
            ) from None
        engine.backward(self, gradient, retain_graph=retain_graph)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.data.dtype != DEFAULT_FLOAT:
            extra = f", dtype={self.data.dtype}" + extra
        return f"tensor({body}{extra})"

    def __bool__(self):
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    __hash__ = object.__hash__

    # --- operators: each is a primitive (ops) or a composition (composed) ------------------
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, other):
        return ops.pow(self, other)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    def __setitem__(self, index, value):
        """Write into the data in place; refused on tensors that are part of a graph."""
        if self.requires_grad or self.grad_fn is not None:
            raise RuntimeError(
                "in-place assignment to a tensor that requires grad would corrupt its gradient; "
                "use tt_tensor.where or build a new tensor"
            )
        self.data[composed._plain_index(index)] = value.data if isinstance(value, Tensor) else value

    def __eq__(self, other):
        return composed.eq(self, other)

    def __ne__(self, other):
        return composed.ne(self, other)

    def __lt__(self, other):
        return composed.lt(self, other)

    def __le__(self, other):
        return composed.le(self, other)

    def __gt__(self, other):
        return composed.gt(self, other)

    def __ge__(self, other):
        return composed.ge(self, other)

    # --- methods with PyTorch's names ---------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return ops.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return composed.mean(self, axis, keepdims)

    def var(self, axis=None, keepdims=False, correction=1):
        return composed.var(self, axis, keepdims, correction)

    def max(self, axis=None, keepdims=False):
        return ops.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return composed.min(self, axis, keepdims)

    def argmax(self, axis=None):
        return composed.argmax(self, axis)

    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return composed.sqrt(self)

    def tanh(self):
        return ops.tanh(self)

    def abs(self):
        return composed.abs(self)

    def clip(self, min=None, max=None):
        return composed.clip(self, min, max)

    def reshape(self, *shape):
        return ops.reshape(self, composed._shape_arg(shape))

    view = reshape

    def permute(self, *axes):
        return ops.permute(self, composed._shape_arg(axes))

    def transpose(self, dim0, dim1):
        return composed.transpose(self, dim0, dim1)

    @property
    def T(self):
        return ops.permute(self, tuple(reversed(range(self.ndim))))

    def broadcast_to(self, *shape):
        return ops.broadcast_to(self, composed._shape_arg(shape))

    expand = broadcast_to

    def flatten(self, start_dim=0, end_dim=-1):
        return composed.flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None):
        return composed.squeeze(self, dim)

    def unsqueeze(self, dim):
        return composed.unsqueeze(self, dim)

    def astype(self, dtype):
        return ops.astype(self, dtype)

    def float(self):
        return ops.astype(self, np.float32)

    def double(self):
        return ops.astype(self, np.float64)

    def long(self):
        return ops.astype(self, np.int64)


def as_tensor(x):
    """x as a Tensor: tensors pass through, ndarrays are wrapped without a copy (dtype kept),
    anything else goes through `tensor()`."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
        return Tensor._wrap(x)
    return Tensor(x)


from . import composed, ops  # noqa: E402  (the operator methods above call into these)
