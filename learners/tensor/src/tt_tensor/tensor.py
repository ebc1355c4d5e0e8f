"""The Tensor: an ndarray, whether it requires a gradient, and how it was made (`grad_fn`).

This file holds the data structure, `make`, the one way tt_tensor makes a Tensor inside
(creation functions, constants, views), and `record`, which makes an op's result and its
graph node (a task). The operators and op methods (`x + y`,
`x.sum()`, ...) forward to the functions of ops.py and composed.py, which import this file;
`_methods.py` attaches them to the class, so the import graph has no circle.
"""

import importlib

import numpy as np

from ._grad_mode import is_grad_enabled
from ._graph import Node, written
from ._helpers import DEFAULT_FLOAT, plain_index, to_array


class Tensor:
    """An n-dimensional array that can record the ops applied to it.

    data: the ndarray. requires_grad: whether gradients should flow to it.
    grad: the accumulated gradient (a Tensor) after backward. grad_fn: the Node that made it
    (None for leaves: tensors created by the user).
    """

    # _writes is set by the first in-place write only (unset reads as 0), so making a tensor
    # costs nothing for it.
    __slots__ = ("data", "requires_grad", "grad", "grad_fn", "retains_grad", "_writes",
                 "__weakref__")
    __array_priority__ = 1000  # ndarray op Tensor -> Tensor's reflected method
    __hash__ = object.__hash__  # identity, although == is elementwise

    def __init__(self, data, dtype=None, requires_grad=False):
        self.data = to_array(data.data if isinstance(data, Tensor) else data, dtype)
        self.grad = None
        self.grad_fn = None
        self.retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

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

    @property
    def _version(self):
        """How many in-place writes this tensor has had (PyTorch's name)."""
        return getattr(self, "_writes", 0)

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
        return make(self.data)

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

    def __setitem__(self, index, value):
        """Write into the data in place; refused on tensors that are part of a graph.

        Each write counts (`_version`), so that backward through an op that used the old
        values raises instead of silently giving a wrong gradient.
        """
        if self.requires_grad or self.grad_fn is not None:
            raise RuntimeError(
                "in-place assignment to a tensor that requires grad would corrupt its gradient; "
                "use tt_tensor.where or build a new tensor"
            )
        self.data[plain_index(index, Tensor)] = value.data if isinstance(value, Tensor) else value
        self._writes = self._version + 1
        written(self.data)

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


def make(data):
    """The one way to make a Tensor inside tt_tensor: wrap the ndarray `data` (no copy) as a
    tensor that does not require a gradient and was made by no op (a leaf)."""
    out = Tensor.__new__(Tensor)
    out.data = data
    out.grad = None
    out.grad_fn = None
    out.retains_grad = False
    out.requires_grad = False
    return out


def record(data, inputs, op, attrs=None, ctx=None):
    """`data` (an ndarray, not copied) as the Tensor that op `op` made from `inputs` (a tuple
    of Tensors). While grad mode is on and an input requires grad, the result has requires_grad
    True and grad_fn Node(op, inputs, attrs, ctx); otherwise it is a leaf, as make(data).

    `data` may also be a NumPy scalar (`np.float32(2.0)`: what NumPy returns for a 0-d result,
    e.g. `np.exp` of a 0-d array): it becomes a 0-d ndarray, since a Tensor's `.data` is always
    an ndarray. op: a `Primitive` or a `Function` subclass; attrs: what its gradient rule reads
    (None for none); ctx: a Function's Context. The node holds the inputs themselves, not
    copies. See COURSE.md, "The graph".
    """
    ### BEGIN SOLUTION
    if not isinstance(data, np.ndarray):  # a NumPy scalar (a full reduction, x[i, j], ...)
        data = np.asarray(data)
    out = make(data)
    if is_grad_enabled() and any(t.requires_grad for t in inputs):
        out.requires_grad = True
        out.grad_fn = Node(op, tuple(inputs), attrs, ctx)
    return out
    ### END SOLUTION


def as_tensor(x):
    """x as a Tensor: tensors pass through, ndarrays are wrapped without a copy (dtype kept),
    anything else goes through `tensor()`."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
        return make(x)
    return make(to_array(x))
