"""The recorded graph: the primitives' declarations, a `Node` per op result, and the write
clock that lets backward notice in-place writes. A leaf module (no other tt_tensor import).

tt-tensor records *what* was computed (op, inputs, attributes). It knows nothing of derivatives:
the gradient rule of every primitive lives in tt-autograd, keyed by the `Primitive` below, and a
fused `Function` carries its own backward next to its forward.
"""

import enum
import itertools
import weakref

import numpy as np


class Primitive(str, enum.Enum):
    """The primitive ops, declared once: the op a node records, the name hooks report, and the
    key of tt-autograd's gradient rules. A str, so `node.op == "add"` holds."""

    # elementwise (NumPy broadcasting)
    ADD = "add"
    SUB = "sub"
    MUL = "mul"
    DIV = "div"
    POW = "pow"
    MAXIMUM = "maximum"
    NEG = "neg"
    EXP = "exp"
    LOG = "log"
    TANH = "tanh"
    WHERE = "where"
    ASTYPE = "astype"
    # reductions
    SUM = "sum"
    MAX = "max"
    # linear algebra
    MATMUL = "matmul"
    # movement
    RESHAPE = "reshape"
    PERMUTE = "permute"
    BROADCAST_TO = "broadcast_to"
    GETITEM = "getitem"
    PAD = "pad"
    SLIDING_WINDOW = "sliding_window"
    CONCATENATE = "concatenate"

    def __str__(self):
        return self.value


PRIMITIVES = tuple(Primitive)

# In-place writes (Tensor.__setitem__) tick this clock; a node keeps the time it was recorded.
# While the clock has not moved since, no input of the node can have been written: backward's
# check is then one comparison per node, and recording pays one global read per op.
_ticks = itertools.count(1)
_last_write = 0
# id(root array) -> (time of its last write, weak reference to it). A write counts for every
# tensor whose data views the same root array (PyTorch: views share their version counter).
_writes = {}


def _root(array):
    """The ndarray that owns the memory `array` views (itself when it owns its data)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _forget(key):
    return lambda ref: _writes.pop(key, None)  # the root array is gone: so is its entry


def written(array):
    """Note an in-place write into `array`: advance the write clock, stamp its root array."""
    global _last_write
    _last_write = next(_ticks)
    root = _root(array)
    _writes[id(root)] = (_last_write, weakref.ref(root, _forget(id(root))))


def _written_since(array, stamp):
    """True if the memory of `array` (any view of its root) was written after `stamp`."""
    root = _root(array)
    entry = _writes.get(id(root))
    return entry is not None and entry[0] > stamp and entry[1]() is root


class Node:
    """How a tensor was made: `op` (a `Primitive` or a Function subclass), its input tensors,
    its attributes (axis, shape, index, ...) and, for a Function, its saved context."""

    __slots__ = ("op", "inputs", "attrs", "ctx", "freed", "stamp")

    def __init__(self, op, inputs, attrs=None, ctx=None):
        self.op = op
        self.inputs = inputs
        self.attrs = attrs if attrs is not None else {}
        self.ctx = ctx
        self.freed = False  # set by the engine once a backward pass released the graph
        self.stamp = _last_write  # the write clock when the inputs were used

    @property
    def name(self):
        """The op's name: the primitive's (as a plain str), or the Function subclass's."""
        return self.op.value if isinstance(self.op, Primitive) else self.op.__name__

    def check_saved(self):
        """Raise RuntimeError if an input was written in place after this node used it.

        Backward reads the inputs' values (the saved tensors), so a write in between would
        silently give wrong gradients; PyTorch raises too. Engines call this before a rule.
        """
        if _last_write == self.stamp:
            return
        for position, tensor in enumerate(self.inputs):
            if _written_since(tensor.data, self.stamp):
                raise RuntimeError(
                    f"backward: input {position} of op '{self.name}' (a tensor of shape "
                    f"{tensor.shape}, {tensor.dtype}) was modified in place after the op used "
                    "it (written through it, or through a tensor sharing its memory); its "
                    "gradient would be wrong. Write into a copy, or do the write after backward"
                )

    def __repr__(self):
        return f"<Node {self.name} of {len(self.inputs)} input(s)>"


class Context:
    """Scratch space a Function's forward fills for its backward (`ctx.x = ...`)."""
