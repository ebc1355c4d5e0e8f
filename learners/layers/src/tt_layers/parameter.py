"""Parameter: a Tensor that a Module registers as learnable."""

import numpy as np
from tt_tensor import Tensor, as_tensor, float32


class Parameter(Tensor):
    """A float tensor with requires_grad=True that Modules collect in `parameters()`.

    The data is copied (a Parameter owns its array); floating dtypes are kept, anything else
    becomes float32.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:  # PyTorch's Parameter() is an empty tensor
            data = np.empty((0,), dtype=float32)
        source = as_tensor(data)
        dtype = source.dtype if source.dtype.kind == "f" else float32
        super().__init__(source.data, dtype=dtype, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
