"""ModuleList: a list of submodules that Module registers, as torch.nn.ModuleList.

A plain Python list of layers is invisible to `parameters()` and `state_dict()`: Module only
looks at its attributes. ModuleList is a Module whose children are named "0", "1", ..., so the
parameters of a stack of blocks read as "h.0.attn.q_proj.weight", as in PyTorch.
"""

import numpy as np

from .module import Module


class ModuleList(Module):
    """Holds submodules in a list: index, slice, len, iterate, append, extend, insert.

    It has no forward: the owner decides how its entries are called (e.g. one after another
    with a cache each, which Sequential cannot express).
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _position(self, index):
        """`index` (an int, negative from the end) as a position in 0..len-1, or an error."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"ModuleList indices must be ints or slices, got "
                            f"{type(index).__name__}")
        size = len(self)
        if index < -size or index >= size:
            raise IndexError(f"ModuleList index {index} is out of range for {size} modules")
        return int(index) % size

    def __getitem__(self, index):
        entries = list(self)
        if isinstance(index, slice):
            return ModuleList(entries[index])
        return entries[self._position(index)]

    def __setitem__(self, index, module):
        entries = list(self)
        entries[self._position(index)] = _checked(module)
        self._reset(entries)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add `module` at the end; return self."""
        self.add_module(str(len(self)), _checked(module))
        return self

    def extend(self, modules):
        """Append every module of the iterable `modules`; return self."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Put `module` before position `index` (PyTorch's list.insert semantics)."""
        entries = list(self)
        entries.insert(index, _checked(module))
        self._reset(entries)

    def _reset(self, entries):
        """Register `entries` again as "0", "1", ... (add_module appends, so order needs this)."""
        for name in list(self._modules):
            delattr(self, name)
        for position, entry in enumerate(entries):
            self.add_module(str(position), entry)


def _checked(module):
    if not isinstance(module, Module):
        raise TypeError(f"ModuleList entries must be Modules, got {type(module).__name__}")
    return module
