"""Contract tests for tt_layers.Module and Parameter: registration, traversal, modes,
state_dict round trips and their errors, module hooks."""

import copy
import pickle
import threading

import numpy as np
import pytest
from tt_tensor import Tensor, float64, tensor, zeros

import tt_layers as L


class Block(L.Module):
    """Two Linear layers, a buffer and a non-persistent buffer."""

    def __init__(self, d=3):
        super().__init__()
        self.fc1 = L.Linear(d, 4)
        self.act = L.ReLU()
        self.fc2 = L.Linear(4, d, bias=False)
        self.register_buffer("count", zeros(1))
        self.register_buffer("scratch", zeros(2), persistent=False)
        self.note = "plain attribute"

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Net(L.Module):
    def __init__(self):
        super().__init__()
        self.scale = L.Parameter(np.ones(3))
        self.block = Block()
        self.head = L.Linear(3, 2)

    def forward(self, x):
        return self.head(self.block(x * self.scale))


NET_PARAMS = ["scale", "block.fc1.weight", "block.fc1.bias", "block.fc2.weight",
              "head.weight", "head.bias"]


# --- Parameter -----------------------------------------------------------------------------
def test_parameter_is_a_float_tensor_that_requires_grad():
    p = L.Parameter([1, 2, 3])
    assert isinstance(p, Tensor) and p.requires_grad
    assert p.dtype == np.float32
    assert L.Parameter(np.zeros(2, dtype=np.float64)).dtype == np.float64
    assert not L.Parameter(np.zeros(2), requires_grad=False).requires_grad
    source = np.zeros(3, dtype=np.float32)
    L.Parameter(source).data[0] = 5.0
    assert source[0] == 0.0  # a Parameter owns a copy
    assert repr(p).startswith("Parameter containing:")


def test_parameter_rejects_non_numeric_data():
    with pytest.raises(TypeError):
        L.Parameter(["a", "b"])


# --- registration --------------------------------------------------------------------------
def test_attributes_are_routed_to_registries():
    b = Block()
    assert list(b._parameters) == []
    assert list(b._modules) == ["fc1", "act", "fc2"]
    assert list(b._buffers) == ["count", "scratch"]
    assert b.note == "plain attribute"
    assert b.fc2.bias is None and "bias" in b.fc2._parameters


def test_named_modules_walks_the_tree_depth_first_each_module_once():
    """named_modules on plain Modules alone (no Linear, no parameters): the traversal before
    anything that is built on it."""
    root, a, b, leaf = L.Module(), L.Module(), L.Module(), L.Module()
    a.leaf = leaf
    root.a, root.b = a, b
    root.again = leaf  # shared: reported once, under its first name
    root.empty = None
    assert [(name, m) for name, m in root.named_modules()] == [
        ("", root), ("a", a), ("a.leaf", leaf), ("b", b)]
    assert [name for name, _ in root.named_modules(prefix="net")] == [
        "net", "net.a", "net.a.leaf", "net.b"]
    assert [name for name, _ in root.named_modules(remove_duplicate=False)] == [
        "", "a", "a.leaf", "b", "again"]
    assert list(root.modules()) == [root, a, leaf, b]


def test_plain_tensors_are_not_parameters():
    m = L.Module()
    m.t = tensor([1.0, 2.0])
    m.p = L.Parameter([1.0])
    assert [name for name, _ in m.named_parameters()] == ["p"]


def test_named_parameters_use_dotted_names_in_definition_order():
    net = Net()
    assert [name for name, _ in net.named_parameters()] == NET_PARAMS
    assert [p.shape for p in net.parameters()] == [(3,), (4, 3), (4,), (3, 4), (2, 3), (2,)]
    assert [name for name, _ in net.named_parameters(prefix="model")][0] == "model.scale"
    assert [name for name, _ in net.named_parameters(recurse=False)] == ["scale"]


def test_children_modules_and_buffers():
    net = Net()
    assert [name for name, _ in net.named_children()] == ["block", "head"]
    assert [name for name, _ in net.named_modules()] == [
        "", "block", "block.fc1", "block.act", "block.fc2", "head"]
    assert len(list(net.modules())) == 6 and len(list(net.children())) == 2
    assert [name for name, _ in net.named_buffers()] == ["block.count", "block.scratch"]
    assert all(isinstance(b, Tensor) for b in net.buffers())


def test_shared_parameters_and_modules_appear_once():
    m = L.Module()
    m.a = L.Linear(2, 2)
    m.b = m.a  # the same module twice
    m.w = m.a.weight  # and the same Parameter under another name
    # own parameters come first, then the children's; each object once
    assert [name for name, _ in m.named_parameters()] == ["w", "a.bias"]
    assert len(list(m.children())) == 1
    assert m.num_parameters() == 6
    # state_dict keeps every name (like PyTorch), all pointing at the same numbers
    assert sorted(m.state_dict()) == ["a.bias", "a.weight", "b.bias", "b.weight", "w"]


def test_reassignment_and_deletion():
    m = L.Module()
    m.layer = L.Linear(2, 2)
    m.layer = L.Parameter([1.0])  # a name moves between registries
    assert "layer" not in m._modules and "layer" in m._parameters
    m.layer = None  # a registered parameter may be set to None
    assert m.layer is None and list(m.parameters()) == []
    with pytest.raises(TypeError, match="'layer'"):
        m.layer = 3.0
    del m.layer
    with pytest.raises(AttributeError, match="layer"):
        _ = m.layer


def test_assigning_before_init_is_a_clear_error():
    class Forgetful(L.Module):
        def __init__(self):
            self.fc = L.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Forgetful()


def test_register_errors_name_the_problem():
    m = L.Module()
    with pytest.raises(TypeError, match="'buf'"):
        m.register_buffer("buf", np.zeros(2))
    with pytest.raises(KeyError, match="a.b"):
        m.register_parameter("a.b", L.Parameter([1.0]))
    with pytest.raises(TypeError, match="'w'"):
        m.register_parameter("w", tensor([1.0]))
    m.register_buffer("buf", zeros(2))
    with pytest.raises(TypeError, match="'buf'"):
        m.buf = "text"


# --- modes and gradients -------------------------------------------------------------------
def test_train_and_eval_recurse():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.block.train(False)
    assert net.training and not net.block.fc1.training and net.head.training


def test_zero_grad_sets_none_or_zeros():
    net = Net()
    for p in net.parameters():
        p.grad = tensor(np.ones(p.shape))
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_apply_and_to():
    net = Net()
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "ReLU", "Linear", "Block", "Linear", "Net"]
    net.double()
    assert {p.dtype for p in net.parameters()} == {np.dtype(float64)}
    assert net.block.count.dtype == np.float64
    with pytest.raises(TypeError, match="int64"):
        net.to(np.int64)


# --- state_dict ------------------------------------------------------------------------------
def test_state_dict_holds_copies_of_params_and_persistent_buffers():
    net = Net()
    sd = net.state_dict()
    # each module's own parameters and buffers, then its children's (PyTorch's order)
    assert list(sd) == ["scale", "block.count", "block.fc1.weight", "block.fc1.bias",
                        "block.fc2.weight", "head.weight", "head.bias"]
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    np.testing.assert_array_equal(sd["head.weight"], net.head.weight.data)
    sd["head.weight"][...] = 7.0
    assert not np.any(net.head.weight.data == 7.0)


def test_state_dict_round_trip_loads_in_place():
    a, b = Net(), Net()
    a.block.count.data[...] = 42.0
    weight_array = b.head.weight.data
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.head.weight.data is weight_array  # same array: optimizers keep their references
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[key], value)
    x = tensor(np.random.default_rng(0).standard_normal((5, 3)))
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_load_state_dict_accepts_tensors_and_casts_dtype():
    net = Net()
    sd = {k: tensor(np.full(v.shape, 0.5), dtype=float64) for k, v in net.state_dict().items()}
    net.load_state_dict(sd)
    assert net.head.bias.dtype == np.float32
    np.testing.assert_array_equal(net.head.bias.data, 0.5)


def test_load_state_dict_reports_missing_and_unexpected_keys():
    net = Net()
    sd = net.state_dict()
    del sd["head.bias"], sd["block.count"]
    sd["head.extra"] = np.zeros(1)
    before = net.state_dict()
    with pytest.raises(RuntimeError, match="Missing key") as info:
        net.load_state_dict({k: v + 1 for k, v in sd.items()})
    message = str(info.value)
    assert "Missing key(s)" in message and '"head.bias"' in message
    assert '"block.count"' in message
    assert "Unexpected key(s)" in message and '"head.extra"' in message
    for key, value in before.items():  # nothing was written
        np.testing.assert_array_equal(net.state_dict()[key], value)
    result = net.load_state_dict(sd, strict=False)
    assert sorted(result.missing_keys) == ["block.count", "head.bias"]
    assert result.unexpected_keys == ["head.extra"]


def test_load_state_dict_names_key_and_both_shapes_on_mismatch():
    net = Net()
    sd = net.state_dict()
    sd["block.fc1.weight"] = np.zeros((3, 4))
    for strict in (True, False):  # a shape mismatch is an error even when not strict
        with pytest.raises(RuntimeError, match=r"block\.fc1\.weight.*\(3, 4\).*\(4, 3\)"):
            net.load_state_dict(sd, strict=strict)
    with pytest.raises(TypeError, match="list"):
        net.load_state_dict([1, 2])


# --- repr ----------------------------------------------------------------------------------
def test_repr_is_an_indented_tree():
    expected = "\n".join([
        "Net(",
        "  (block): Block(",
        "    (fc1): Linear(in_features=3, out_features=4, bias=True)",
        "    (act): ReLU()",
        "    (fc2): Linear(in_features=4, out_features=3, bias=False)",
        "  )",
        "  (head): Linear(in_features=3, out_features=2, bias=True)",
        ")",
    ])
    assert repr(Net()) == expected


def test_call_runs_forward():
    net = Net()
    x = tensor(np.ones((2, 3)))
    np.testing.assert_array_equal(net(x).data, net.forward(x).data)
    with pytest.raises(NotImplementedError, match="Module"):
        L.Module()(x)


# --- module hooks --------------------------------------------------------------------------
def test_forward_hooks_fire_in_call_order_and_remove():
    net, calls = Net(), []
    pre = L.register_module_forward_pre_hook(
        lambda m, inputs: calls.append(("pre", type(m).__name__, len(inputs))))
    post = L.register_module_forward_hook(
        lambda m, inputs, out: calls.append(("post", type(m).__name__, out.shape)))
    try:
        net(tensor(np.ones((2, 3))))
    finally:
        pre.remove()
        post.remove()
    names = [(kind, name) for kind, name, _ in calls]
    assert names == [("pre", "Net"), ("pre", "Block"), ("pre", "Linear"), ("post", "Linear"),
                     ("pre", "ReLU"), ("post", "ReLU"), ("pre", "Linear"), ("post", "Linear"),
                     ("post", "Block"), ("pre", "Linear"), ("post", "Linear"), ("post", "Net")]
    assert calls[-1] == ("post", "Net", (2, 2))
    calls.clear()
    net(tensor(np.ones((2, 3))))
    assert calls == []


def test_hooks_can_replace_inputs_and_outputs():
    lin = L.Linear(2, 2)
    x = tensor(np.ones((1, 2)))
    with L.register_module_forward_pre_hook(lambda m, inputs: inputs[0] * 0.0):
        np.testing.assert_allclose(lin(x).data, lin.bias.data[None, :])
    with L.register_module_forward_hook(lambda m, inputs, out: out * 2.0):
        np.testing.assert_allclose(lin(x).data, 2.0 * lin.forward(x).data, rtol=1e-6)
    np.testing.assert_array_equal(lin(x).data, lin.forward(x).data)  # removed by `with`


def test_hook_registration_needs_a_callable():
    with pytest.raises(TypeError, match="callable"):
        L.register_module_forward_hook("not a function")


def test_module_hooks_see_only_the_calls_of_their_own_thread():
    lin = L.Linear(3, 2)
    main, worker = [], []

    def work():
        with L.register_module_forward_hook(lambda m, inputs, out: worker.append(m)):
            lin(zeros(1, 3))
            lin(zeros(1, 3))

    with L.register_module_forward_pre_hook(lambda m, inputs: main.append(m)):
        thread = threading.Thread(target=work)
        thread.start()
        thread.join(timeout=30)
        lin(zeros(1, 3))
    assert main == [lin] and worker == [lin, lin]


def test_deepcopy_and_pickle_give_independent_modules():
    net = Net()
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert [n for n, _ in clone.named_parameters()] == NET_PARAMS
        assert all(isinstance(p, L.Parameter) and p.requires_grad for p in clone.parameters())
        clone.head.weight.data[...] = 0.0
        assert not np.all(net.head.weight.data == 0.0)
        x = tensor(np.ones((1, 3)))
        clone.load_state_dict(net.state_dict())
        np.testing.assert_array_equal(clone(x).data, net(x).data)
