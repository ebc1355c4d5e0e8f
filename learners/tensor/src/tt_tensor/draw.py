"""`draw_graph`: a tensor's recorded graph as Graphviz DOT text, and SVG where Graphviz is.

It reads only what recording leaves behind (`tensor.grad_fn`, `node.name`, `node.inputs`,
`node.attrs`), so it draws a forward graph without tt-autograd, and shows the gradients that a
backward pass has stored in `.grad`. Graphviz is optional: the DOT text needs nothing; only
`.svg()` runs the `dot` program.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping

import numpy as np

from .tensor import Tensor

INSTALL_GRAPHVIZ = ("install Graphviz so that `dot` is on PATH (apt-get install graphviz, "
                    "brew install graphviz, conda install graphviz, or winget install graphviz)")
ATTR_CHARS = 40  # an attribute's text is cut here: an index array or a mask can be huge


class Graph:
    """A drawn graph: `.source` is its DOT text, `.svg()` renders it with Graphviz's `dot`.

    The structure is fixed when it is drawn; the labels are read when `.source` is, so a graph
    drawn before `backward()` shows the gradients once backward has run. In a notebook it shows
    as a picture when `dot` is installed, else as its DOT text.
    """

    def __init__(self, tensors: list, names: list, ops: list, edges: list):
        self._tensors, self._names = tensors, names  # the tensors, in node order, and labels
        self._ops, self._edges = ops, edges  # op labels; (from, to) node ids

    def __repr__(self) -> str:
        return (f"Graph({len(self._tensors)} tensors, {len(self._ops)} ops, "
                f"{len(self._edges)} edges)")

    def __str__(self) -> str:
        return self.source

    @property
    def source(self) -> str:
        """The DOT text: tensors are boxes `t0, t1, ...` (t0 the output), ops ellipses `op0...`."""
        lines = ["digraph {", "  rankdir=LR;", "  node [fontname=monospace];"]
        for i, (t, name) in enumerate(zip(self._tensors, self._names)):
            lines.append(f'  t{i} [shape=box, label="{escape(tensor_label(t, name, i == 0))}"];')
        for i, label in enumerate(self._ops):
            lines.append(f'  op{i} [shape=ellipse, label="{escape(label)}"];')
        lines += [f"  {a} -> {b};" for a, b in self._edges]
        return "\n".join(lines + ["}"]) + "\n"

    def svg(self, timeout: float = 60.0) -> str:
        """The picture as SVG text, made by `dot -Tsvg`; RuntimeError when `dot` is missing."""
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError(f"Graph.svg() needs Graphviz's `dot` program, which is not on "
                               f"PATH: {INSTALL_GRAPHVIZ}; the DOT text is in `.source`")
        done = subprocess.run([dot, "-Tsvg"], input=self.source, capture_output=True,
                              text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"`{dot} -Tsvg` failed (exit code {done.returncode}): "
                               f"{done.stderr.strip()}")
        return done.stdout

    def _repr_svg_(self) -> str | None:
        return self.svg() if shutil.which("dot") else None

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = {"text/plain": self.source}
        if shutil.which("dot"):
            bundle["image/svg+xml"] = self.svg()
        return bundle


def draw_graph(output: Tensor, params: Mapping[str, Tensor] | None = None) -> Graph:
    """Draw the graph recorded behind `output`: one box per tensor, one ellipse per op.

    A tensor's box shows its role (the output, a parameter, a leaf that requires grad, an input
    or a constant), its shape and dtype, and after backward its gradient's shape and norm. An
    op's ellipse shows its name and attributes. `params` names tensors in the picture, as
    PyTorch users pass `dict(model.named_parameters())`. Draw before `backward()` (which frees
    the graph) or call `backward(retain_graph=True)`.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"draw_graph expects a Tensor, got {type(output).__name__}")
    given = {id(t): name for name, t in (params or {}).items()}
    tensors, index, ops, edges, seen = [], {}, [], [], set()

    def tensor_node(t: Tensor) -> str:
        if id(t) not in index:
            index[id(t)] = len(tensors)
            tensors.append(t)
        return f"t{index[id(t)]}"

    stack = [output]
    while stack:  # iterative: a deep network's graph would exhaust Python's recursion limit
        t = stack.pop()
        name = tensor_node(t)
        node = t.grad_fn
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        op = f"op{len(ops)}"
        ops.append(op_label(node))
        edges.append((op, name))
        for source in node.inputs:
            edges.append((tensor_node(source), op))
            stack.append(source)
    return Graph(tensors, [given.get(id(t)) for t in tensors], ops, edges)


def tensor_label(t: Tensor, name: str | None, is_output: bool) -> str:
    role = name or role_of(t, is_output)
    lines = [role, f"{tuple(t.shape)} {t.dtype}"]
    if t.grad_fn is None and not t.requires_grad and t.data.size == 1:
        lines[1] += f" = {t.data.item():.4g}"
    if t.grad is not None:
        grad = np.asarray(getattr(t.grad, "data", t.grad))
        lines.append(f"grad {tuple(grad.shape)} norm {float(np.linalg.norm(grad)):.4g}")
    return "\n".join(lines)


def role_of(t: Tensor, is_output: bool) -> str:
    if is_output:
        return "output"
    if t.grad_fn is not None:
        return "result"
    if type(t) is not Tensor:  # a subclass such as tt-layers' Parameter names itself
        return type(t).__name__.lower()
    if t.requires_grad:
        return "leaf"
    return "constant" if t.data.size == 1 else "input"


def op_label(node) -> str:
    parts = [node.name]
    for key, value in node.attrs.items():
        if isinstance(value, np.ndarray):
            text = f"array{value.shape}"
        else:
            text = repr(value)
        if len(text) > ATTR_CHARS:
            text = text[:ATTR_CHARS - 3] + "..."
        parts.append(f"{key}={text}")
    return "\n".join(parts)


def escape(text: str) -> str:
    """A DOT string's body: backslashes and quotes escaped, newlines as DOT's centred breaks."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
