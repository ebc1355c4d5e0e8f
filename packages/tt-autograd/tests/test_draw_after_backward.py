"""tt-tensor's `draw_graph` after this engine's backward: the gradients it stored, drawn.

A drawing keeps the structure it saw, so one made before backward (which frees the graph)
shows the gradients once backward has run; `retain_graph=True` lets one be drawn after.
"""

import re

import numpy as np
from tt_tensor import draw_graph, float64, maximum, tensor

BOX = re.compile(r'^\s*t\d+ \[shape=box, label="([^"]*)"\];$', re.MULTILINE)


def labels(graph):
    """First label line (the tensor's role or name) -> the label's lines, for each box."""
    return {found.split("\\n")[0]: found.split("\\n") for found in BOX.findall(graph.source)}


def leaf(shape, seed):
    values = np.random.default_rng(seed).standard_normal(shape)
    return tensor(values, dtype=float64, requires_grad=True)


def test_a_drawing_made_before_backward_shows_the_gradients_of_the_math():
    a, b, c = leaf(3, 0), leaf(3, 1), leaf(3, 2)
    loss = (a * b + c).sum()
    graph = draw_graph(loss, params={"a": a, "b": b, "c": c})
    loss.backward()
    drawn = labels(graph)
    # d/da sum(a*b + c) = b, d/db = a, d/dc = ones
    for name, expected in (("a", b.data), ("b", a.data), ("c", np.ones(3))):
        assert drawn[name][2] == f"grad (3,) norm {np.linalg.norm(expected):.4g}"


def test_a_two_layer_mlp_drawn_after_backward_with_retain_graph():
    x, y = leaf((4, 3), 3).detach(), leaf((4, 2), 4).detach()
    w1, b1, w2, b2 = leaf((3, 5), 5), leaf(5, 6), leaf((5, 2), 7), leaf(2, 8)
    hidden = maximum(x @ w1 + b1, 0.0)
    out = hidden @ w2 + b2
    loss = ((out - y) ** 2).mean()
    loss.backward(retain_graph=True)
    params = {"fc1.weight": w1, "fc1.bias": b1, "fc2.weight": w2, "fc2.bias": b2}
    drawn = labels(draw_graph(loss, params=params))
    # the closed form of the last layer: dL/dW2 = hidden^T (2 (out - y) / N), N = 8 outputs
    delta = 2.0 * (out.data - y.data) / out.data.size
    expected = {"fc2.weight": hidden.data.T @ delta, "fc2.bias": delta.sum(axis=0),
                "fc1.weight": w1.grad.data, "fc1.bias": b1.grad.data}
    for name, grad in expected.items():
        shape = params[name].shape
        assert drawn[name][2] == f"grad {tuple(shape)} norm {np.linalg.norm(grad):.4g}"
    assert len(drawn["output"]) == 2  # the output's own gradient is not stored
