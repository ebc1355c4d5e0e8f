"""Module: the base class of every layer and network (my own design).

One ordered registry per module, `_slots`: name -> Slot(kind, value), where kind is one of
"parameter", "buffer", "transient" (a non-persistent buffer) or "module". Attribute
assignment decides the kind from the value; `_parameters`, `_buffers` and `_modules` are
read-only live views of the registry filtered by kind (the names PyTorch code expects).
Traversals (named_modules, named_parameters, state_dict, train, ...) are written as one
generic breadth of "walk the tree, pick a kind" instead of one method per registry.
"""

from collections import namedtuple
from collections.abc import Mapping

import numpy as np
from tt_tensor import Tensor

from . import hooks
from .parameter import Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])

PARAMETER, BUFFER, TRANSIENT, MODULE = "parameter", "buffer", "transient", "module"
EXPECTED = {PARAMETER: "a Parameter or None", BUFFER: "a Tensor or None",
            TRANSIENT: "a Tensor or None", MODULE: "a Module or None"}


class Slot:
    """One registered name: what kind of thing it holds, and the thing (may be None)."""

    __slots__ = ("kind", "value")

    def __init__(self, kind, value):
        self.kind, self.value = kind, value

    def __getstate__(self):
        return (self.kind, self.value)

    def __setstate__(self, state):
        self.kind, self.value = state


class KindView(Mapping):
    """The names of one or more kinds in a registry, in registration order (read-only)."""

    def __init__(self, slots, kinds):
        self._slots, self._kinds = slots, kinds

    def __getitem__(self, name):
        slot = self._slots.get(name)
        if slot is None or slot.kind not in self._kinds:
            raise KeyError(name)
        return slot.value

    def __iter__(self):
        return (name for name, slot in self._slots.items() if slot.kind in self._kinds)

    def __len__(self):
        return sum(1 for _ in self)

    def __repr__(self):
        return repr(dict(self.items()))


def _kind_of(value):
    """The registry kind an assigned value asks for by its type (None for a plain attribute)."""
    if isinstance(value, Parameter):
        return PARAMETER
    if isinstance(value, Module):
        return MODULE
    return None


def _accepts(kind, value):
    if value is None:
        return True
    return isinstance(value, {PARAMETER: Parameter, MODULE: Module}.get(kind, Tensor))


class Module:
    """Base class for all layers: subclass it, call super().__init__(), define forward()."""

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_slots", {})

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        if not hooks.registered:
            return self.forward(*args, **kwargs)
        return hooks.call_with_hooks(self, args, kwargs)

    # --- the registry ----------------------------------------------------------------------
    @property
    def _parameters(self):
        return KindView(self._table(), (PARAMETER,))

    @property
    def _buffers(self):
        return KindView(self._table(), (BUFFER, TRANSIENT))

    @property
    def _modules(self):
        return KindView(self._table(), (MODULE,))

    def _table(self):
        table = self.__dict__.get("_slots")
        if table is None:
            raise AttributeError(
                f"cannot assign to {type(self).__name__} before Module.__init__() ran: "
                "call super().__init__() first in your __init__")
        return table

    def _put(self, name, kind, value):
        """Register `value` under `name` as `kind`; a name changing kind moves to the end."""
        table = self._table()
        slot = table.get(name)
        if slot is not None and slot.kind == kind:
            slot.value = value
            return
        table.pop(name, None)
        self.__dict__.pop(name, None)
        table[name] = Slot(kind, value)

    def __setattr__(self, name, value):
        """Route Parameters, Modules and registered buffer names to their registries."""
        ### BEGIN SOLUTION
        kind = _kind_of(value)
        if kind is not None:
            self._put(name, kind, value)
            return
        slot = self.__dict__.get("_slots", {}).get(name)
        if slot is None:
            object.__setattr__(self, name, value)
        elif _accepts(slot.kind, value):
            slot.value = value
        else:
            what = "buffer" if slot.kind in (BUFFER, TRANSIENT) else slot.kind
            if slot.kind == MODULE:
                what = "child module"
            raise TypeError(f"cannot assign {type(value).__name__} as {what} {name!r} "
                            f"({EXPECTED[slot.kind]} is expected)")
        ### END SOLUTION

    def __getattr__(self, name):
        slot = self.__dict__.get("_slots", {}).get(name)
        if slot is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return slot.value

    def __delattr__(self, name):
        table = self.__dict__.get("_slots", {})
        if name in table:
            del table[name]
        else:
            object.__delattr__(self, name)

    def _register(self, kind, name, value):
        self._table()
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{kind} name must be a non-empty string without '.', got {name!r}")
        if hasattr(type(self), name):
            raise KeyError(f"{kind} name {name!r} clashes with an attribute of "
                           f"{type(self).__name__}")
        if not _accepts(kind, value):
            raise TypeError(f"register_{kind}: {name!r} must be {EXPECTED[kind]}, "
                            f"got {type(value).__name__}")
        self._put(name, kind, value)

    def register_parameter(self, name, param):
        """Register `param` (a Parameter, or None for an absent one like a disabled bias)."""
        self._register(PARAMETER, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Register a non-learnable tensor; persistent ones are saved in state_dict()."""
        if not _accepts(BUFFER, tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, "
                            f"got {type(tensor).__name__}")
        self._register("buffer", name, tensor)
        self._table()[name].kind = BUFFER if persistent else TRANSIENT

    def add_module(self, name, module):
        """Register `module` as a child named `name` (what attribute assignment does)."""
        self._register(MODULE, name, module)

    # --- walking the tree -------------------------------------------------------------------
    def _entries(self, *kinds):
        """(name, value) of this module's own non-None slots of the given kinds."""
        return [(name, slot.value) for name, slot in self._table().items()
                if slot.kind in kinds and slot.value is not None]

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield (dotted name, module) for this module and every descendant, depth first."""
        ### BEGIN SOLUTION
        seen = set() if memo is None else memo
        pending = [(prefix, self)]  # an explicit stack: children pushed in reverse order
        while pending:
            path, module = pending.pop()
            if remove_duplicate and id(module) in seen:
                continue
            seen.add(id(module))
            yield path, module
            children = module._entries(MODULE)
            for name, child in reversed(children):
                pending.append((f"{path}.{name}" if path else name, child))
        ### END SOLUTION

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """Yield (name, module) for the direct submodules (each object once)."""
        seen = set()
        for name, child in self._entries(MODULE):
            if id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        """Yield (dotted name, tensor) from `registry` of this module (and descendants)."""
        ### BEGIN SOLUTION
        kinds = {"_parameters": (PARAMETER,), "_buffers": (BUFFER, TRANSIENT)}[registry]
        owners = self.named_modules(prefix=prefix) if recurse else iter([(prefix, self)])
        yielded = set()
        for path, module in owners:
            for name, value in module._entries(*kinds):
                if remove_duplicate and id(value) in yielded:
                    continue
                yielded.add(id(value))
                yield ".".join(part for part in (path, name) if part), value
        ### END SOLUTION

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield (dotted name, Parameter); a shared Parameter appears once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield (dotted name, buffer Tensor)."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def num_parameters(self):
        """The number of learnable numbers (each shared Parameter counted once)."""
        return sum(p.data.size for p in self.parameters())

    def apply(self, fn):
        """Call fn(module) on every descendant and then on self (children first); return self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- modes and gradients ----------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode on this module and every descendant; return self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(mode): mode must be a bool, got {mode!r}")
        ### BEGIN SOLUTION
        for _, module in self.named_modules(remove_duplicate=False):
            object.__setattr__(module, "training", mode)
        return self
        ### END SOLUTION

    def eval(self):
        """Evaluation mode: the same as train(False)."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient: to None (PyTorch's default) or to zeros."""
        ### BEGIN SOLUTION
        with_grad = [p for p in self.parameters() if p.grad is not None]
        for param in with_grad:
            if set_to_none:
                param.grad = None
            else:
                np.copyto(param.grad.data, 0)
        ### END SOLUTION

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze (True) every parameter; return self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def to(self, dtype):
        """Convert every parameter and floating buffer to the float `dtype`; return self."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"to(dtype): only floating dtypes are supported, got {dtype}")
        for tensor in [*self.parameters(), *self.buffers()]:
            if tensor.data.dtype.kind == "f":
                tensor.data = tensor.data.astype(dtype)
                tensor.grad = None
        return self

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    # --- saving and loading -----------------------------------------------------------------
    def _state_tensors(self, prefix=""):
        """Every parameter and persistent buffer under its dotted name (shared ones under each
        of their names), in the order state_dict() lists them."""
        ### BEGIN SOLUTION
        found = {}
        stack = [(prefix, self)]  # each module's own entries, then its children's, in order
        while stack:
            path, module = stack.pop()
            for name, value in module._entries(PARAMETER) + module._entries(BUFFER):
                found[path + name] = value
            stack += [(f"{path}{name}.", child)
                      for name, child in reversed(module._entries(MODULE))]
        return found
        ### END SOLUTION

    def state_dict(self):
        """{dotted name: ndarray copy} of every parameter and persistent buffer."""
        return {name: t.data.copy() for name, t in self._state_tensors().items()}

    def load_state_dict(self, state_dict, strict=True):
        """Copy the arrays of `state_dict` into this module's tensors, in place.

        Raises RuntimeError listing missing/unexpected keys (when strict) and every shape
        mismatch (always); nothing is written unless every check passes.
        Returns IncompatibleKeys(missing_keys, unexpected_keys).
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state_dict).__name__}")
        own = self._state_tensors()
        ### BEGIN SOLUTION
        problems, staged = _check_state(own, state_dict, strict)
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(problems))
        for target, array in staged:
            np.copyto(target.data, array, casting="unsafe")  # in place: optimizers hold them
        return IncompatibleKeys([k for k in own if k not in state_dict],
                                [k for k in state_dict if k not in own])
        ### END SOLUTION

    # --- printing ---------------------------------------------------------------------------
    def extra_repr(self):
        """The text inside the parentheses of this module's repr (its settings)."""
        return ""

    def __repr__(self):
        head = self.extra_repr()
        children = [(name, child) for name, child in self._modules.items()]
        if not children:
            return f"{type(self).__name__}({head})"
        lines = head.split("\n") if head else []
        lines += [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in children]
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._table()))


def _check_state(own, state_dict, strict):
    """(error messages, [(tensor, array) to copy]) for loading `state_dict` into `own`."""
    quoted = lambda keys: ", ".join(f'"{key}"' for key in keys)  # noqa: E731
    unexpected = [key for key in state_dict if key not in own]
    missing = [key for key in own if key not in state_dict]
    problems = []
    if strict and unexpected:
        problems.append(f"Unexpected key(s) in state_dict: {quoted(unexpected)}.")
    if strict and missing:
        problems.append(f"Missing key(s) in state_dict: {quoted(missing)}.")
    staged = []
    for key in [k for k in state_dict if k in own]:
        value = state_dict[key]
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind not in "biuf":
            problems.append(f"value for {key} is not numeric (dtype {array.dtype})")
        elif array.shape != own[key].shape:
            problems.append(f"size mismatch for {key}: copying a param with shape "
                            f"{array.shape} from checkpoint, the shape in current model is "
                            f"{own[key].shape}.")
        else:
            staged.append((own[key], array))
    return problems, staged
