"""The recorded graph: a `Node` per op result, and `Function`, the extension point for fused ops.

tt-tensor records *what* was computed (op, inputs, attributes). It knows nothing of derivatives:
the gradient rule of every primitive lives in tt-autograd, and a fused `Function` carries its
own backward next to its forward.
"""

import time

import numpy as np

from ._grad_mode import is_grad_enabled
from ._hooks import hooks_active, notify


class Node:
    """How a tensor was made: `op` (a primitive's name or a Function subclass), its input
    tensors, its attributes (axis, shape, index, ...) and, for a Function, its saved context."""

    __slots__ = ("op", "inputs", "attrs", "ctx", "freed")

    def __init__(self, op, inputs, attrs=None, ctx=None):
        self.op = op
        self.inputs = inputs
        self.attrs = attrs if attrs is not None else {}
        self.ctx = ctx
        self.freed = False  # set by the engine once a backward pass released the graph

    @property
    def name(self):
        """The op's name: the primitive's string, or the Function subclass's name."""
        return self.op if isinstance(self.op, str) else self.op.__name__

    def __repr__(self):
        return f"<Node {self.name} of {len(self.inputs)} input(s)>"


def record(data, inputs, op, attrs=None, ctx=None):
    """Wrap the array `data` as the result of `op` on `inputs`; record a node when needed."""
    out = _tensor.Tensor.__new__(_tensor.Tensor)
    out.data = data
    out.grad = None
    out.retains_grad = False
    if is_grad_enabled() and any(t.requires_grad for t in inputs):
        out.requires_grad = True
        out.grad_fn = Node(op, inputs, attrs, ctx)
    else:
        out.requires_grad = False
        out.grad_fn = None
    return out


class Context:
    """Scratch space a Function's forward fills for its backward (`ctx.x = ...`)."""


class Function:
    """A fused op: forward and backward side by side. Subclass it and define

        @staticmethod
        def forward(ctx, *arrays, **attrs) -> ndarray
        @staticmethod
        def backward(ctx, grad) -> tuple   # one ndarray (or None) per input array

    then call `MyOp.apply(*tensors, **attrs)`. Only add one where profiling shows the composed
    version is too slow, together with a test that both agree (values and gradients).
    """

    @staticmethod
    def forward(ctx, *arrays, **attrs):
        raise NotImplementedError("Function subclasses define forward(ctx, *arrays, **attrs)")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("Function subclasses define backward(ctx, grad)")

    @classmethod
    def apply(cls, *inputs, **attrs):
        """Run forward on the inputs' arrays and record the result as one node of op `cls`."""
        return _apply_function(cls, inputs, attrs)


def _apply_function(cls, inputs, attrs):
    tensors = tuple(_tensor.as_tensor(x) for x in inputs)
    start = time.perf_counter() if hooks_active() else None
    ctx = Context()
    data = np.asarray(cls.forward(ctx, *(t.data for t in tensors), **attrs))
    out = record(data, tensors, cls, attrs, ctx)
    if start is not None:
        notify(cls.__name__, "forward", tensors, out, time.perf_counter() - start)
    return out


from . import tensor as _tensor  # noqa: E402  (last: tensor.py imports this module too)
