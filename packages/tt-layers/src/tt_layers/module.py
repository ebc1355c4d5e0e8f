"""Module: the base class of every layer and network.

A Module finds its parameters, buffers and submodules from its attributes: assigning a
Parameter, a Module, or a registered buffer name routes the value into `_parameters`,
`_modules` or `_buffers`. Everything else (parameters(), state_dict(), train(), ...) walks
those three dictionaries; no layer writes its own parameters().
"""

from collections import namedtuple

import numpy as np
from tt_tensor import Tensor

from . import hooks
from .parameter import Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _indent(text, spaces=2):
    """Indent every line of `text` but the first (for nested reprs)."""
    return text.replace("\n", "\n" + " " * spaces)


def _quoted(keys):
    return ", ".join(f'"{key}"' for key in keys)


class Module:
    """Base class for all layers: subclass it, call super().__init__(), define forward()."""

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", {})

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        if not (hooks.pre_hooks.registered or hooks.post_hooks.registered):  # the free path
            return self.forward(*args, **kwargs)
        return hooks.call_with_hooks(self, args, kwargs)

    # --- registration ------------------------------------------------------------------------
    def _registry(self, name):
        registry = self.__dict__.get(name)
        if registry is None:
            raise AttributeError(
                f"cannot assign to {type(self).__name__} before Module.__init__() ran: "
                "call super().__init__() first in your __init__"
            )
        return registry

    def _forget(self, name):
        """Remove `name` from every registry and from the plain attributes."""
        for registry in ("_parameters", "_buffers", "_modules"):
            self.__dict__.get(registry, {}).pop(name, None)
        self.__dict__.get("_non_persistent", set()).discard(name)
        self.__dict__.pop(name, None)

    def __setattr__(self, name, value):
        """Route Parameters, Modules and registered buffer names to their registries."""
        ### BEGIN SOLUTION
        if isinstance(value, Parameter):
            self._registry("_parameters")
            self._forget(name)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._registry("_modules")
            self._forget(name)
            self._modules[name] = value
        elif name in self.__dict__.get("_parameters", {}):
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                                "(a Parameter or None is expected)")
            self._parameters[name] = None
        elif name in self.__dict__.get("_modules", {}):
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module "
                                f"{name!r} (a Module or None is expected)")
            self._modules[name] = None
        elif name in self.__dict__.get("_buffers", {}):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} "
                                "(a Tensor or None is expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)
        ### END SOLUTION

    def __getattr__(self, name):
        # only called when normal lookup fails: look in the registries
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        if name in self.__dict__ or any(name in self.__dict__.get(r, {})
                                        for r in ("_parameters", "_buffers", "_modules")):
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def _check_new_name(self, kind, name):
        self._registry("_parameters")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{kind} name must be a non-empty string without '.', got {name!r}")
        if hasattr(type(self), name):
            raise KeyError(f"{kind} name {name!r} clashes with an attribute of "
                           f"{type(self).__name__}")

    def _register(self, caller, kind, name, value, expected, registry):
        """Check `name` and that `value` is an `expected` (or None), then file it in
        `registry` under `name`, replacing whatever the name held before."""
        self._check_new_name(kind, name)
        if value is not None and not isinstance(value, expected):
            raise TypeError(f"{caller}: {name!r} must be a {expected.__name__} or None, "
                            f"got {type(value).__name__}")
        self._forget(name)
        self.__dict__[registry][name] = value

    def register_parameter(self, name, param):
        """Register `param` (a Parameter, or None for an absent one like a disabled bias)."""
        self._register("register_parameter", "parameter", name, param, Parameter,
                       "_parameters")

    def register_buffer(self, name, tensor, persistent=True):
        """Register a non-learnable tensor (running statistics, masks) that moves with the
        module and, when persistent, is saved in state_dict()."""
        self._register("register_buffer", "buffer", name, tensor, Tensor, "_buffers")
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        """Register `module` as a child named `name` (what attribute assignment does)."""
        self._register("add_module", "module", name, module, Module, "_modules")

    # --- walking the tree ------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield (dotted name, module) for this module and every descendant, depth first."""
        ### BEGIN SOLUTION
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                child_prefix = f"{prefix}.{name}" if prefix else name
                yield from child.named_modules(memo, child_prefix, remove_duplicate)
        ### END SOLUTION

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """Yield (name, module) for the direct submodules (each object once)."""
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        """Yield (dotted name, tensor) from `registry` of this module (and descendants)."""
        ### BEGIN SOLUTION
        seen = set()
        tree = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in tree:
            for name, value in module.__dict__[registry].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value
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

    # --- modes and gradients -----------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode on this module and every descendant; return self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(mode): mode must be a bool, got {mode!r}")
        ### BEGIN SOLUTION
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self
        ### END SOLUTION

    def eval(self):
        """Evaluation mode: the same as train(False)."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient: to None (PyTorch's default) or to zeros."""
        ### BEGIN SOLUTION
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad.data[...] = 0
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

    # --- saving and loading ------------------------------------------------------------------
    def _state_tensors(self, prefix=""):
        """Every parameter and persistent buffer under its dotted name (shared ones under each
        of their names), in the order state_dict() lists them."""
        ### BEGIN SOLUTION
        entries = {}
        for name, param in self._parameters.items():
            if param is not None:
                entries[prefix + name] = param
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent:
                entries[prefix + name] = buf
        for name, child in self._modules.items():
            if child is not None:
                entries.update(child._state_tensors(f"{prefix}{name}."))
        return entries
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
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        errors, values = [], {}
        if strict and unexpected:
            errors.append(f"Unexpected key(s) in state_dict: {_quoted(unexpected)}.")
        if strict and missing:
            errors.append(f"Missing key(s) in state_dict: {_quoted(missing)}.")
        for key, value in state_dict.items():
            if key not in own:
                continue
            array = np.asarray(value.data if isinstance(value, Tensor) else value)
            if array.dtype.kind not in "biuf":
                errors.append(f"value for {key} is not numeric (dtype {array.dtype})")
            elif array.shape != own[key].shape:
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{array.shape} from checkpoint, the shape in current model "
                              f"is {own[key].shape}.")
            values[key] = array
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        for key, array in values.items():
            own[key].data[...] = array  # in place: optimizers keep references to these arrays
        return IncompatibleKeys(missing, unexpected)
        ### END SOLUTION

    # --- printing ----------------------------------------------------------------------------
    def extra_repr(self):
        """The text inside the parentheses of this module's repr (its settings)."""
        return ""

    def __repr__(self):
        lines = self.extra_repr().split("\n") if self.extra_repr() else []
        for name, child in self._modules.items():
            lines.append(f"({name}): {_indent(repr(child))}")
        if not self._modules:
            return f"{type(self).__name__}({''.join(lines)})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        registered = [*self._parameters, *self._buffers, *self._modules]
        return sorted(set(super().__dir__()) | set(registered))
