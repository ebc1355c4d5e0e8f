"""tinytorch re-exports the installed modules' public names; a missing part names its extra."""

import importlib
import sys

import pytest

import tinytorch

NAMESPACES = {  # namespace -> (package it needs, its distribution, module number, extra)
    "tinytorch.nn": ("tt_layers", "tt-layers", "04", "foundations"),
    "tinytorch.optim": ("tt_optimizers", "tt-optimizers", "10", "vision"),
    "tinytorch.data": ("tt_dataloader", "tt-dataloader", "07", "vision"),
    "tinytorch.autograd": ("tt_autograd", "tt-autograd", "09", "vision"),
}


@pytest.fixture
def fresh(monkeypatch):
    """Forget the namespaces tinytorch has imported or cached, so each test resolves anew."""
    for name in NAMESPACES:
        monkeypatch.delitem(sys.modules, name, raising=False)
        monkeypatch.delattr(tinytorch, name.split(".")[1], raising=False)
    return monkeypatch


def uninstall(monkeypatch, import_name):
    """Make `import_name` look not installed: a None entry in sys.modules stops its import."""
    monkeypatch.setitem(sys.modules, import_name, None)


def test_version_is_at_least_0_2_0():
    release = tuple(int(part) for part in tinytorch.__version__.split(".")[:3])
    assert release >= (0, 2, 0)


def test_top_level_names_are_tt_tensor_public_names():
    tt_tensor = importlib.import_module("tt_tensor")
    public = [name for name in tt_tensor.__all__ if not name.startswith("_")]
    for name in public:
        assert getattr(tinytorch, name) is getattr(tt_tensor, name), name
    assert set(public) <= set(dir(tinytorch))


def test_seed_everything_is_tt_setup_s():
    assert tinytorch.seed_everything is importlib.import_module("tt_setup").seed_everything


@pytest.mark.parametrize("namespace, package", [(n, p[0]) for n, p in NAMESPACES.items()])
def test_namespaces_reexport_their_package(fresh, namespace, package):
    module = importlib.import_module(package)
    resolved = importlib.import_module(namespace)
    assert getattr(tinytorch, namespace.split(".")[1]) is resolved
    for name in [n for n in module.__all__ if not n.startswith("_")]:
        assert getattr(resolved, name) is getattr(module, name), name


def test_a_name_added_to_all_later_appears(fresh):
    tt_tensor = importlib.import_module("tt_tensor")
    fresh.setattr(tt_tensor, "__all__", [*tt_tensor.__all__, "brand_new"])
    fresh.setattr(tt_tensor, "brand_new", object(), raising=False)
    try:
        assert tinytorch.brand_new is tt_tensor.brand_new
        assert "brand_new" in dir(tinytorch)
    finally:
        vars(tinytorch).pop("brand_new", None)  # resolved names are cached on the module


def test_nn_looks_in_all_only_and_the_first_package_wins(fresh):
    tt_layers = importlib.import_module("tt_layers")
    tt_networks = importlib.import_module("tt_networks")
    for module in (tt_layers, tt_networks):
        fresh.setattr(module, "__all__", [*module.__all__, "Shared"])
        fresh.setattr(module, "Shared", module.__name__, raising=False)
    fresh.setattr(tt_layers, "NotExported", 1, raising=False)
    nn = importlib.import_module("tinytorch.nn")
    assert nn.Shared == "tt_layers"
    with pytest.raises(AttributeError, match="NotExported"):
        nn.NotExported  # not in __all__: not part of the contract


def test_nn_activations_are_the_tt_layers_modules(fresh):
    # one home per concept: the Modules are tt_layers', over tt_activations' functions
    tt_layers = importlib.import_module("tt_layers")
    tt_activations = importlib.import_module("tt_activations")
    nn = importlib.import_module("tinytorch.nn")
    for name in ("ReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "LogSoftmax"):
        assert getattr(nn, name) is getattr(tt_layers, name), name
        assert issubclass(getattr(nn, name), tt_layers.Module), name
    assert nn.relu is tt_activations.relu and nn.gelu is tt_activations.gelu


@pytest.mark.parametrize("namespace", list(NAMESPACES))
def test_missing_namespace_names_package_and_extra(fresh, namespace):
    package, distribution, number, extra = NAMESPACES[namespace]
    uninstall(fresh, package)
    expected = rf"{namespace} needs {distribution} \(module {number}\).*tinytorch\[{extra}\]"
    with pytest.raises(ImportError, match=expected):
        getattr(tinytorch, namespace.split(".")[1])
    with pytest.raises(ImportError, match=expected):
        importlib.import_module(namespace)


def test_missing_top_level_name_names_tt_tensor(fresh):
    fresh.delattr(tinytorch, "Tensor", raising=False)
    uninstall(fresh, "tt_tensor")
    with pytest.raises(ImportError, match=r"tinytorch.Tensor needs tt-tensor \(module 02\).*"
                                          r"tinytorch\[foundations\]"):
        tinytorch.Tensor


@pytest.mark.parametrize("name, distribution, extra", [
    ("Conv2d", "tt-spatial", "vision"), ("BatchNorm2d", "tt-normalization", "vision"),
    ("MultiHeadAttention", "tt-attention", "language"), ("Dropout", "tt-regularization",
                                                        "language")])
def test_missing_nn_part_names_its_package_and_extra(fresh, name, distribution, extra):
    uninstall(fresh, distribution.replace("-", "_"))
    nn = importlib.import_module("tinytorch.nn")
    with pytest.raises(ImportError, match=rf"tinytorch.nn.{name} needs {distribution}.*"
                                          rf"tinytorch\[{extra}\]"):
        getattr(nn, name)


def test_unknown_names_raise_attribute_error(fresh):
    assert not hasattr(tinytorch.nn, "NoSuchLayer")
    assert not hasattr(tinytorch, "no_such_function")
    assert not hasattr(tinytorch.nn, "__wrapped__")  # probes by inspect, copy, pickle


def test_every_namespace_of_the_course_table_is_one_of_tinytorch():
    table = importlib.import_module("tt_setup").course_table()
    assert {ns.name for ns in table.namespaces} == {"tinytorch", *NAMESPACES}
    for namespace in NAMESPACES:
        spec = table.namespace(namespace)
        assert NAMESPACES[namespace][1] == spec.primary
        assert spec.sources[0] == spec.primary


@pytest.mark.parametrize("packages, winner", [
    (("tt_networks", "tt_layers"), "tt_layers"),  # the primary module first
    (("tt_regularization", "tt_spatial", "tt_activations"), "tt_activations"),  # course order
    (("tt_transformers", "tt_embeddings"), "tt_embeddings"),
])
def test_nn_searches_primary_first_then_course_order(fresh, packages, winner):
    for package in packages:  # the same new public name in each, a different object each time
        module = importlib.import_module(package)
        fresh.setattr(module, "__all__", [*module.__all__, "probe_name"])
        fresh.setattr(module, "probe_name", object(), raising=False)
    nn = importlib.import_module("tinytorch.nn")
    assert nn.probe_name is importlib.import_module(winner).probe_name


@pytest.mark.parametrize("namespace", ["tinytorch", *NAMESPACES])
def test_every_name_the_table_promises_resolves_in_its_namespace(namespace):
    table = importlib.import_module("tt_setup").course_table()
    module = importlib.import_module(namespace)
    promised = [(m.import_name, name) for m in table.modules if m.namespace == namespace
                for name in m.names]
    assert promised
    for package, name in promised:
        assert name in importlib.import_module(package).__all__, (package, name)
        assert getattr(module, name) is not None


PROMISED = [(module, name) for module in importlib.import_module("tt_setup").COURSE_MODULES
            if module.namespace == "tinytorch.nn" and module.distribution != "tt-layers"
            for name in module.names]


@pytest.mark.parametrize("module, name", PROMISED, ids=[name for _, name in PROMISED])
def test_every_promised_nn_name_of_a_missing_package_names_it(fresh, module, name):
    uninstall(fresh, module.import_name)
    nn = importlib.import_module("tinytorch.nn")
    with pytest.raises(ImportError, match=rf"tinytorch\.nn\.{name} needs {module.distribution} "
                                          rf"\(module {module.number:02d}\).*"
                                          rf"tinytorch\[{module.extra}\]"):
        getattr(nn, name)
