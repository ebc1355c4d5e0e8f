"""Sequential containers and the MLP builder."""

import numpy as np
from tt_layers import Linear, Module, ReLU


class Sequential(Module):
    """Modules applied in order: Sequential(a, b, c)(x) = c(b(a(x))).

    Children are named "0", "1", ... (or by the keys of a single dict argument), so
    parameters read as "0.weight", "2.bias" as in PyTorch.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            named = list(modules[0].items())
        else:
            named = [(str(i), m) for i, m in enumerate(modules)]
        for name, module in named:
            self.add_module(name, _check_module(module, name))

    def forward(self, x):
        ### BEGIN SOLUTION
        for module in self:
            x = module(x)
        return x
        ### END SOLUTION

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(dict(items[index]))
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"Sequential indices must be ints or slices, got "
                            f"{type(index).__name__}")
        if not -len(items) <= index < len(items):
            raise IndexError(f"Sequential index {index} is out of range for {len(items)} "
                             "modules")
        return items[index][1]

    def append(self, module):
        """Add `module` at the end; return self."""
        name = str(len(self))
        self.add_module(name, _check_module(module, name))
        return self

    def extend(self, modules):
        """Append every module of `modules`; return self."""
        for module in modules:
            self.append(module)
        return self


def _check_module(module, name):
    if not isinstance(module, Module):
        raise TypeError(
            f"Sequential: entry {name} is a {type(module).__module__}.{type(module).__name__}, "
            "not a tt_layers Module (activations go in as tt_layers.ReLU() etc.)"
        )
    return module


def _make(factory, what):
    """A fresh Module from a class or zero-argument factory."""
    if isinstance(factory, Module):
        raise TypeError(f"mlp: pass {what} as a class such as ReLU, not an instance "
                        f"({type(factory).__name__}())")
    return factory()


def mlp(sizes, activation=ReLU, final_activation=None, bias=True):
    """A multilayer perceptron as a Sequential: Linear(sizes[0], sizes[1]), activation(), ...,
    Linear(sizes[-2], sizes[-1]) [, final_activation()].

    mlp([2, 8, 1], activation=Tanh) -> Sequential(Linear(2, 8), Tanh(), Linear(8, 1)).
    activation and final_activation are classes (or zero-argument factories) called once per
    use, so no two layers share a module; an instance raises TypeError when mlp would call it
    (refusing it up front as well is allowed).
    """
    sizes = list(sizes)
    if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer))
                             or s < 1 for s in sizes):
        raise ValueError(f"mlp: sizes must be at least two positive ints, got {sizes}")
    ### BEGIN SOLUTION
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(n_in, n_out, bias=bias))
        if i < len(sizes) - 2:
            layers.append(_make(activation, "activation"))
    if final_activation is not None:
        layers.append(_make(final_activation, "final_activation"))
    return Sequential(*layers)
    ### END SOLUTION
