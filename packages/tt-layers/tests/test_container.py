"""ModuleList: PyTorch's list of registered submodules."""

import numpy as np
import pytest
from tt_tensor import tensor

import tt_layers as L


def three():
    return [L.Linear(2, 3), L.Linear(3, 3), L.Linear(3, 1)]


def test_entries_are_registered_children_named_by_position():
    layers = three()
    blocks = L.ModuleList(layers)
    assert isinstance(blocks, L.Module) and len(blocks) == 3
    assert list(blocks) == layers
    assert [name for name, _ in blocks.named_children()] == ["0", "1", "2"]
    expected = [f"{i}.{p}" for i in range(3) for p in ("weight", "bias")]
    assert [name for name, _ in blocks.named_parameters()] == expected
    assert list(blocks.state_dict()) == expected


def test_owner_sees_parameters_under_dotted_names():
    class Stack(L.Module):
        def __init__(self):
            super().__init__()
            self.h = L.ModuleList(three())

        def forward(self, x):
            for layer in self.h:
                x = layer(x)
            return x

    model = Stack()
    assert list(model.state_dict())[:2] == ["h.0.weight", "h.0.bias"]
    x = np.ones((4, 2))
    expected = x
    for layer in model.h:
        expected = expected @ layer.weight.data.T + layer.bias.data
    np.testing.assert_allclose(model(tensor(x)).data, expected, rtol=1e-6)
    other = Stack()
    other.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(other.h[2].weight.data, model.h[2].weight.data)


def test_indexing_slicing_and_negative_indices():
    layers = three()
    blocks = L.ModuleList(layers)
    assert blocks[0] is layers[0] and blocks[-1] is layers[2]
    head = blocks[:2]
    assert isinstance(head, L.ModuleList) and list(head) == layers[:2]
    replacement = L.Linear(3, 3)
    blocks[-2] = replacement
    assert blocks[1] is replacement and len(blocks) == 3
    with pytest.raises(IndexError, match="index 3 is out of range for 3"):
        blocks[3]
    with pytest.raises(IndexError, match="-4"):
        blocks[-4]
    with pytest.raises(TypeError, match="ints or slices, got str"):
        blocks["0"]


def test_append_extend_insert_keep_positions_as_names():
    a, b, c, d = (L.Linear(1, 1) for _ in range(4))
    blocks = L.ModuleList()
    assert len(blocks) == 0 and list(blocks) == []
    assert blocks.append(a) is blocks
    assert blocks.extend([b, c]) is blocks
    blocks.insert(1, d)
    assert list(blocks) == [a, d, b, c]
    assert [name for name, _ in blocks.named_children()] == ["0", "1", "2", "3"]
    with pytest.raises(TypeError, match="must be Modules, got function"):
        blocks.append(lambda x: x)


def test_has_no_forward_and_prints_its_entries():
    blocks = L.ModuleList([L.ReLU(), L.Tanh()])
    with pytest.raises(NotImplementedError):
        blocks(tensor([1.0]))
    assert repr(blocks) == "ModuleList(\n  (0): ReLU()\n  (1): Tanh()\n)"
