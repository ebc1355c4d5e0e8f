"""`Function`, the extension point for fused ops: forward and backward side by side."""

import time

import numpy as np

from ._graph import Context
from ._hooks import hooks_active, notify
from .tensor import as_tensor, record


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
        tensors = tuple(as_tensor(x) for x in inputs)
        start = time.perf_counter() if hooks_active() else None
        ctx = Context()
        data = cls.forward(ctx, *(t.data for t in tensors), **attrs)  # record makes it an ndarray
        out = record(data, tensors, cls, attrs, ctx)
        if start is not None:
            notify(cls.__name__, "forward", tensors, out, time.perf_counter() - start)
        return out
