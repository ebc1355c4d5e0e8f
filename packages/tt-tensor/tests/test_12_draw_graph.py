"""Task 12 (given, not a learner task): `draw_graph`, the recorded graph as Graphviz DOT text.

The DOT text is parsed back into boxes (tensors), ellipses (ops) and edges, and compared with
graphs whose structure is known from the expression that made them.
"""

import re
import stat
import sys

import numpy as np
import pytest

import tt_tensor as tt

NODE = re.compile(r'^\s*(\w+) \[shape=(box|ellipse), label="((?:[^"\\]|\\.)*)"\];$')
EDGE = re.compile(r"^\s*(\w+) -> (\w+);$")


def parse(source):
    """{id: (shape, [label lines])} and [(from, to)] of the DOT text; every line understood."""
    lines = source.strip().splitlines()
    assert lines[0] == "digraph {" and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[1:-1]:
        if node := NODE.match(line):
            label = node[3].replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
            nodes[node[1]] = (node[2], label.split("\n"))
        elif edge := EDGE.match(line):
            edges.append((edge[1], edge[2]))
        else:
            assert line.strip() in ("rankdir=LR;", "node [fontname=monospace];"), line
    return nodes, edges


def by_first_line(nodes, shape):
    found = {}
    for key, (kind, label) in nodes.items():
        if kind == shape:
            found.setdefault(label[0], []).append(key)
    return found


def leaves(*shapes, dtype=tt.float64):
    rng = np.random.default_rng(0)
    return [tt.tensor(rng.standard_normal(s), dtype=dtype, requires_grad=True) for s in shapes]


def test_a_times_b_plus_c_sum_has_its_three_ops_six_tensors_and_eight_edges():
    a, b, c = leaves((3,), (3,), (3,))
    graph = tt.draw_graph((a * b + c).sum(), params={"a": a, "b": b, "c": c})
    nodes, edges = parse(graph.source)
    boxes, ops = by_first_line(nodes, "box"), by_first_line(nodes, "ellipse")
    assert sorted(ops) == ["add", "mul", "sum"] and all(len(v) == 1 for v in ops.values())
    assert sorted(boxes) == ["a", "b", "c", "output", "result"] and len(boxes["result"]) == 2
    assert len(edges) == 8
    mul, add, total = ops["mul"][0], ops["add"][0], ops["sum"][0]
    (a_id,), (b_id,), (c_id,), (out,) = boxes["a"], boxes["b"], boxes["c"], boxes["output"]
    product = next(t for op, t in edges if op == mul)
    summed = next(t for op, t in edges if op == add)
    assert set(edges) == {(a_id, mul), (b_id, mul), (mul, product), (product, add),
                          (c_id, add), (add, summed), (summed, total), (total, out)}
    assert nodes[out][1][1] == "() float64" and nodes[a_id][1][1] == "(3,) float64"


def test_gradients_show_with_their_shape_and_norm_once_grad_is_set():
    # tt-autograd's backward stores .grad (its own tests draw after a real backward); here the
    # gradients of sum(a*b + c) are set by hand: d/da = b, d/db = a, d/dc = ones
    a, b, c = leaves((3,), (3,), (3,))
    loss = (a * b + c).sum()
    graph = tt.draw_graph(loss, params={"a": a, "b": b, "c": c})
    assert "grad" not in graph.source
    a.grad, b.grad, c.grad = b.detach(), a.detach(), tt.ones(3, dtype=tt.float64)
    nodes, _ = parse(graph.source)  # drawn before, read now
    labels = {label[0]: label for _, label in nodes.values()}
    for name, grad in (("a", b.data), ("b", a.data), ("c", np.ones(3))):
        assert labels[name][2] == f"grad (3,) norm {np.linalg.norm(grad):.4g}"


def test_a_two_layer_mlp_loss_has_every_op_of_its_formula():
    x = tt.tensor(np.random.default_rng(1).standard_normal((4, 3)))
    y = tt.tensor(np.random.default_rng(2).standard_normal((4, 2)))
    w1, b1, w2, b2 = leaves((3, 5), (5,), (5, 2), (2,))
    hidden = tt.maximum(x @ w1 + b1, 0.0)
    loss = (((hidden @ w2 + b2) - y) ** 2).mean()
    params = {"fc1.weight": w1, "fc1.bias": b1, "fc2.weight": w2, "fc2.bias": b2}
    nodes, edges = parse(tt.draw_graph(loss, params=params).source)
    ops = by_first_line(nodes, "ellipse")
    # matmul, add, maximum, matmul, add, sub, pow, and mean = sum / count
    expected = {"matmul": 2, "add": 2, "maximum": 1, "sub": 1, "pow": 1, "sum": 1, "div": 1}
    assert {name: len(ids) for name, ids in ops.items()} == expected
    boxes = by_first_line(nodes, "box")
    assert set(params) <= set(boxes)
    # one result per op (the last is the output), the 4 parameters, x, y, 3 constants
    assert len(boxes["result"]) == 8 and len(boxes["output"]) == 1
    assert len(boxes["input"]) == 2 and len(boxes["constant"]) == 3
    assert sum(len(v) for v in boxes.values()) == 9 + 4 + 2 + 3
    # each op: one edge out, one edge in per input (sum has one input, the rest two)
    assert len(edges) == 9 + 2 * 8 + 1
    (out,) = boxes["output"]
    assert nodes[out][1][1] == "() float64"
    w1_label = nodes[boxes["fc1.weight"][0]][1]
    assert w1_label[1] == "(3, 5) float64"


def test_constants_show_their_value_and_attributes_their_text():
    (a,) = leaves((2, 3))
    nodes, _ = parse(tt.draw_graph((a * 0.5).sum(axis=1)).source)
    labels = [label for _, label in nodes.values()]
    assert ["constant", "() float64 = 0.5"] in labels
    assert ["sum", "axis=(1,)", "keepdims=False"] in labels


def test_an_index_array_attribute_is_shortened():
    (a,) = leaves((50,))
    nodes, _ = parse(tt.draw_graph(a[np.arange(40)]).source)
    labels = [label for kind, label in nodes.values() if kind == "ellipse"]
    assert labels == [["getitem", "index=array(40,)"]]


def test_a_deep_chain_is_drawn_without_recursion():
    (x,) = leaves((1,))
    t = x
    for _ in range(3 * sys.getrecursionlimit()):
        t = t + x
    graph = tt.draw_graph(t)
    assert repr(graph) == (f"Graph({3 * sys.getrecursionlimit() + 1} tensors, "
                           f"{3 * sys.getrecursionlimit()} ops, "
                           f"{9 * sys.getrecursionlimit()} edges)")


def test_a_tensor_without_graph_is_one_box_and_bad_input_is_named():
    nodes, edges = parse(tt.draw_graph(tt.zeros(2, 3)).source)
    assert list(nodes.values()) == [("box", ["output", "(2, 3) float32"])] and edges == []
    with pytest.raises(TypeError, match="ndarray"):
        tt.draw_graph(np.zeros(3))


def fake_dot(folder, body):
    """A `dot` program on PATH that runs `body` (Python) instead of Graphviz."""
    path = folder / "dot"
    path.write_text(f"#!{sys.executable}\nimport sys\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_svg_without_graphviz_names_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    graph = tt.draw_graph(tt.zeros(1, requires_grad=True).sum())
    with pytest.raises(RuntimeError, match="install Graphviz"):
        graph.svg()
    assert graph._repr_svg_() is None
    assert graph._repr_mimebundle_() == {"text/plain": graph.source}


def test_svg_pipes_the_dot_text_through_dot(tmp_path, monkeypatch):
    fake_dot(tmp_path, "assert sys.argv[1:] == ['-Tsvg']\n"
                       "print('<svg>' + str(len(sys.stdin.read())) + '</svg>')")
    monkeypatch.setenv("PATH", str(tmp_path))
    graph = tt.draw_graph(tt.zeros(1, requires_grad=True).sum())
    expected = f"<svg>{len(graph.source)}</svg>\n"
    assert graph.svg() == expected and graph._repr_svg_() == expected
    assert graph._repr_mimebundle_() == {"text/plain": graph.source, "image/svg+xml": expected}


def test_a_failing_dot_is_reported_with_its_message(tmp_path, monkeypatch):
    fake_dot(tmp_path, "sys.stderr.write('syntax error in line 3')\nsys.exit(2)")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="exit code 2.*syntax error in line 3"):
        tt.draw_graph(tt.zeros(1, requires_grad=True).sum()).svg()
