"""TinyTorch module 02 (tensor): the Tensor, its primitive ops, and graph recording.

Every op here computes with NumPy. When grad mode is on and an input requires a gradient, the
result records a `Node` (op, inputs, attributes) in `grad_fn`; tt-autograd turns those records
into gradients. `Primitive` declares the ops that have gradient rules (`PRIMITIVES` lists them);
everything else is composed.
"""

import numpy as np

from . import _methods
from ._grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from ._graph import PRIMITIVES, Context, Node, Primitive
from ._helpers import broadcast_shapes
from ._hooks import ContextHooks, HookHandle, OpEvent, add_op_hook, hooks_active, notify
from ._version import __version__
from .composed import (
    abs, argmax, clip, eq, flatten, ge, gt, le, lt, mean, min, minimum, ne, sqrt, squeeze,
    stack, transpose, unsqueeze, var,
)
from .creation import (
    arange, eye, from_numpy, full, full_like, ones, ones_like, rand, rand_like, randn,
    randn_like, tensor, zeros, zeros_like,
)
from .draw import draw_graph
from .fast_paths import FastPathSwitch, fast_paths_off
from .function import Function
from .movement import (
    broadcast_to, concatenate, getitem, pad, permute, reshape, sliding_window,
)
from .ops import (
    add, astype, div, exp, log, matmul, max, maximum, mul, neg, pow, sub, sum, tanh, where,
)
from .shortcuts import fast_paths_enabled, use_fast_paths
from .tensor import Tensor, as_tensor

_methods.attach()  # Tensor's operators and op methods (x + y, x.sum(), ...)

float32 = np.float32
float64 = np.float64
int64 = np.int64

cat = concatenate  # PyTorch's name

__all__ = [
    "__version__",
    # the tensor and its creation
    "Tensor", "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "eye", "randn",
    "rand", "arange", "zeros_like", "ones_like", "full_like", "randn_like", "rand_like",
    "float32", "float64", "int64",
    # primitives (declared by Primitive, listed in PRIMITIVES)
    "Primitive", "PRIMITIVES", "add", "sub", "mul", "div", "pow", "maximum", "neg", "exp", "log",
    "tanh", "where", "astype", "sum", "max", "matmul", "reshape", "permute", "broadcast_to",
    "getitem", "pad", "sliding_window", "concatenate",
    # the broadcast rule the elementwise primitives follow
    "broadcast_shapes",
    # composed ops
    "sqrt", "mean", "var", "min", "minimum", "abs", "clip", "transpose", "flatten", "squeeze",
    "unsqueeze", "stack", "cat", "argmax", "eq", "ne", "lt", "le", "gt", "ge",
    # the graph and grad mode
    "Node", "Function", "Context", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "draw_graph",
    # observing ops
    "add_op_hook", "hooks_active", "notify", "OpEvent", "HookHandle", "ContextHooks",
    # the fast-path switch that packages with fused fast paths share
    "FastPathSwitch", "fast_paths_off",
    # tt-tensor's own fast paths: the shortcuts of x @ w, x.reshape, x.T, x.permute, x.transpose
    "use_fast_paths", "fast_paths_enabled",
]
