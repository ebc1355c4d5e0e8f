"""The reverse-mode engine: one topological order, one reverse sweep.

Each tensor's gradient is complete before it is passed on, because the sweep visits a tensor
only after every tensor that used it. So a value shared by many ops is visited once, with the
sum of its gradients (a recursive engine that walks every path instead is exponential).
"""

import time

import numpy as np
from tt_tensor import from_numpy, hooks_active, notify

from .rules import RULES


def topological_order(root):
    """Every tensor that `root` depends on and that requires grad, inputs before outputs.

    Iterative depth-first search, so a 100,000-op chain needs no recursion.
    """
    ### BEGIN SOLUTION
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        stack.append((tensor, True))
        node = tensor.grad_fn
        if node is None:
            continue
        if node.freed:
            raise RuntimeError(
                f"backward through the graph a second time: the graph of op '{node.name}' was "
                "freed by an earlier backward; pass retain_graph=True to the first call"
            )
        for parent in node.inputs:
            if parent.requires_grad and id(parent) not in seen:
                stack.append((parent, False))
    return order
    ### END SOLUTION


def input_grads(node, grad, out):
    """The gradients of one node's inputs, given the gradient of its output.

    One door for every op: RULES answers for primitives and fused Functions alike. Saved
    inputs written in place since the op ran are refused first (Node.check_saved).
    """
    node.check_saved()
    needs = tuple(t.requires_grad for t in node.inputs)
    return RULES[node.op](grad, node, out, needs)


def _seed_gradient(tensor, gradient):
    """The starting gradient d tensor / d tensor, checked against the tensor's shape."""
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad (no input had requires_grad=True, "
            "or it was computed under no_grad)"
        )
    if gradient is None:
        if tensor.data.size != 1:
            raise RuntimeError(
                f"backward: a gradient can only be implied for a scalar output; this tensor has "
                f"shape {tensor.shape}, so call backward(gradient) with a gradient of that shape"
            )
        return np.ones_like(tensor.data)
    seed = np.array(getattr(gradient, "data", gradient), dtype=tensor.dtype)
    if seed.shape != tensor.shape:
        raise ValueError(
            f"backward: gradient of shape {seed.shape} for a tensor of shape {tensor.shape}"
        )
    return seed


def _owned(array, like, handed_out):
    """A gradient array that may be stored on a leaf: ours, writeable, not shared, and laid
    out in memory like the leaf's data `like` (else p -= lr * g would stride across rows)."""
    if (array.flags.owndata and array.flags.writeable and id(array) not in handed_out
            and array.dtype == like.dtype and array.strides == like.strides):
        handed_out.add(id(array))
        return array
    copy = np.empty_like(like)  # same dtype and memory order as the leaf
    copy[...] = array
    return copy


def _accumulate(tensor, grad, handed_out):
    """Add `grad` into tensor.grad (creating it on first use)."""
    if tensor.grad is None:
        tensor.grad = from_numpy(_owned(grad, tensor.data, handed_out))
    else:
        tensor.grad.data += grad


def run_backward(root, gradient=None, retain_graph=False, inputs=None):
    """Propagate from `root`; returns {id(t): grad} for `inputs` (then .grad is untouched)."""
    order = topological_order(root)
    grads = {id(root): _seed_gradient(root, gradient)}
    wanted = None if inputs is None else {id(t) for t in inputs}
    found, handed_out = {}, set()
    timed = hooks_active()
    ### BEGIN SOLUTION
    for tensor in reversed(order):
        grad = grads.pop(id(tensor), None)
        if grad is None:
            continue
        if wanted is not None and id(tensor) in wanted:
            found[id(tensor)] = grad
        node = tensor.grad_fn
        if node is None or tensor.retains_grad:
            if wanted is None:
                _accumulate(tensor, grad, handed_out)
            if node is None:
                continue
        start = time.perf_counter() if timed else 0.0
        parts = input_grads(node, grad, tensor.data)
        if timed:
            notify(node.name, "backward", node.inputs, parts, time.perf_counter() - start)
        for parent, part in zip(node.inputs, parts):
            if part is None or not parent.requires_grad:
                continue
            key = id(parent)
            grads[key] = part if key not in grads else grads[key] + part
    ### END SOLUTION
    if not retain_graph:
        _free(order)
    return found


def _free(order):
    """Release what backward no longer needs, like PyTorch: a second pass must retain_graph."""
    for tensor in order:
        node = tensor.grad_fn
        if node is not None:
            node.freed = True
            node.inputs, node.ctx = (), None


def backward(tensor, gradient=None, retain_graph=False):
    """Accumulate d tensor / d leaf into leaf.grad for every leaf that requires grad."""
    run_backward(tensor, gradient, retain_graph)


def grad(output, inputs, grad_output=None, retain_graph=False):
    """The gradients of `output` with respect to `inputs` (a list), without touching .grad."""
    inputs = list(inputs)
    found = run_backward(output, grad_output, retain_graph, inputs)
    result = []
    for t in inputs:
        g = found.get(id(t))
        result.append(from_numpy(np.array(g)) if g is not None else None)
    return result
