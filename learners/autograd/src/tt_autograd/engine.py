"""The reverse-mode engine, by Kahn's algorithm (my own design).

1. `_Sweep.discover`: walk the graph from the output once (an explicit stack, no recursion)
   and count, for every tensor that requires grad, how many uses it has inside the graph
   (its in-degree in the reversed graph).
2. `_Sweep.run`: start from the output; a tensor is *ready* when every one of its uses has
   sent its gradient back (its count reached 0), so its gradient is complete; apply its
   node's rule and hand the parts to the inputs, decrementing their counts.

Each tensor is processed once with the sum of its gradients, so a value used many times (or
a ladder of diamonds, 2^30 paths) costs one visit per node. Gradients arriving at the same
tensor are summed into a buffer the engine owns; what it stores in `.grad` is always a fresh
array laid out like the leaf, so no two gradients alias and none aliases the caller's array.
"""

import time

import numpy as np
from tt_tensor import from_numpy, hooks_active, notify

from .rules import RULES


def _graph_freed(node):
    return RuntimeError(
        f"backward through the graph a second time: the graph of op '{node.name}' was freed "
        "by an earlier backward; pass retain_graph=True to the first backward")


class _Sweep:
    """One backward pass from `root`: the use counts, the pending gradients, the order."""

    def __init__(self, root):
        self.root = root
        self.uses = {}  # id(tensor) -> uses not yet returned a gradient
        self.tensors = {}  # id(tensor) -> tensor, everything discovered
        self.discover()

    def discover(self):
        self.uses[id(self.root)] = 0
        self.tensors[id(self.root)] = self.root
        stack = [self.root]
        while stack:
            node = stack.pop().grad_fn
            if node is None:
                continue
            if node.freed:
                raise _graph_freed(node)
            for parent in node.inputs:
                if not parent.requires_grad:
                    continue
                key = id(parent)
                if key not in self.uses:
                    self.uses[key] = 0
                    self.tensors[key] = parent
                    stack.append(parent)
                self.uses[key] += 1

    def ready_order(self):
        """Kahn's order without gradients: outputs first (each after all its uses)."""
        uses, ready, order = dict(self.uses), [self.root], []
        while ready:
            tensor = ready.pop()
            order.append(tensor)
            node = tensor.grad_fn
            for parent in (node.inputs if node is not None else ()):
                if parent.requires_grad:
                    uses[id(parent)] -= 1
                    if uses[id(parent)] == 0:
                        ready.append(parent)
        return order


class _Pending:
    """Gradients on their way to a tensor, summed in a buffer owned by the engine."""

    def __init__(self):
        self.sums, self.owned = {}, set()

    def add(self, key, part):
        if key not in self.sums:
            self.sums[key] = part  # maybe a view or someone else's array: not ours yet
        elif key in self.owned:
            np.add(self.sums[key], part, out=self.sums[key])
        else:
            # asarray: a 0-d sum comes back as a NumPy scalar, which `out=` cannot write into
            self.sums[key] = np.asarray(self.sums[key] + part)
            self.owned.add(key)

    def take(self, key):
        self.owned.discard(key)
        return self.sums.pop(key, None)


def topological_order(root):
    """Every tensor that `root` depends on and that requires grad, inputs before outputs."""
    return _Sweep(root).ready_order()[::-1]


def _seed(tensor, gradient):
    """d tensor / d tensor: ones for a scalar, else the given gradient (copied, checked)."""
    if not tensor.requires_grad:
        raise RuntimeError("backward: this tensor does not require grad (no input had "
                           "requires_grad=True, or it was computed under no_grad)")
    if gradient is None:
        if tensor.data.size != 1:
            raise RuntimeError(f"backward: a gradient is implied only for a scalar output; "
                               f"this tensor has shape {tensor.shape}: pass a gradient of "
                               "that shape")
        return np.ones(tensor.shape, dtype=tensor.dtype)
    seed = np.array(getattr(gradient, "data", gradient), dtype=tensor.dtype)  # a copy
    if seed.shape != tensor.shape:
        raise ValueError(f"backward: gradient of shape {seed.shape} for a tensor of shape "
                         f"{tensor.shape}")
    return seed


def _apply_rule(node, g, out):
    """The gradients of a node's inputs (one per input, None where not needed); the table
    holds the fused Functions' rules too. Refused if a saved input was written in place."""
    node.check_saved()
    return RULES[node.op](g, node, out, tuple(t.requires_grad for t in node.inputs))


def _store(tensor, g):
    """Accumulate g into tensor.grad; a new .grad is a fresh array laid out like the data."""
    if tensor.grad is None:
        fresh = np.empty_like(tensor.data)
        fresh[...] = g
        tensor.grad = from_numpy(fresh)
    else:
        tensor.grad.data += g


def _propagate(sweep, seed, wanted=None):
    """Run the sweep; store into .grad, or (wanted: a set of ids) return {id: gradient}."""
    pending, found = _Pending(), {}
    pending.add(id(sweep.root), seed)
    ready, timed = [sweep.root], hooks_active()
    while ready:
        tensor = ready.pop()
        g = pending.take(id(tensor))
        node = tensor.grad_fn
        if g is not None:
            if wanted is not None and id(tensor) in wanted:
                found[id(tensor)] = g
            elif wanted is None and (node is None or tensor.retains_grad):
                _store(tensor, g)
        if node is None:
            continue
        parts = (None,) * len(node.inputs)
        if g is not None:
            start = time.perf_counter() if timed else 0.0
            parts = _apply_rule(node, g, tensor.data)
            if timed:
                notify(node.name, "backward", node.inputs, parts, time.perf_counter() - start)
        for parent, part in zip(node.inputs, parts):
            if not parent.requires_grad:
                continue
            if part is not None:
                pending.add(id(parent), part)
            sweep.uses[id(parent)] -= 1
            if sweep.uses[id(parent)] == 0:
                ready.append(parent)
    return found


def _release(sweep):
    """Free every node the sweep went through (PyTorch's default without retain_graph)."""
    for tensor in sweep.tensors.values():
        node = tensor.grad_fn
        if node is not None:
            node.freed = True
            node.inputs, node.ctx = (), None


def backward(tensor, gradient=None, retain_graph=False):
    """Accumulate d tensor / d leaf into leaf.grad for every leaf that requires grad."""
    seed = _seed(tensor, gradient)
    sweep = _Sweep(tensor)
    _propagate(sweep, seed)
    if not retain_graph:
        _release(sweep)


def grad(output, inputs, grad_output=None, retain_graph=False):
    """The gradients of `output` with respect to `inputs` (a list), without touching .grad."""
    inputs = list(inputs)
    seed = _seed(output, grad_output)
    sweep = _Sweep(output)
    found = _propagate(sweep, seed, wanted={id(t) for t in inputs})
    if not retain_graph:
        _release(sweep)
    return [None if id(t) not in found else from_numpy(np.array(found[id(t)]))
            for t in inputs]
