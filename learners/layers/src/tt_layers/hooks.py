"""Global module-call hooks: the observation point a profiler uses to time every Module.

PyTorch's names: `register_module_forward_pre_hook(fn)` calls fn(module, inputs) before each
forward, `register_module_forward_hook(fn)` calls fn(module, inputs, output) after it. While
none is registered, `Module.__call__` pays a single truthiness check.
"""

import itertools

_forward_pre_hooks = {}
_forward_hooks = {}
_ids = itertools.count()


class RemovableHandle:
    """Returned by the register functions; `remove()` unregisters (also usable with `with`)."""

    def __init__(self, hooks, hook):
        self.id = next(_ids)
        self._hooks = hooks
        hooks[self.id] = hook

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def _check(name, hook):
    if not callable(hook):
        raise TypeError(f"{name}: expected a callable, got {type(hook).__name__}")


def register_module_forward_pre_hook(hook):
    """Call hook(module, inputs) before every Module's forward; a non-None result (a tuple,
    or one value) replaces the positional inputs. Returns a RemovableHandle."""
    _check("register_module_forward_pre_hook", hook)
    return RemovableHandle(_forward_pre_hooks, hook)


def register_module_forward_hook(hook):
    """Call hook(module, inputs, output) after every Module's forward; a non-None result
    replaces the output. Returns a RemovableHandle."""
    _check("register_module_forward_hook", hook)
    return RemovableHandle(_forward_hooks, hook)


def hooks_active():
    """True while at least one module hook is registered."""
    return bool(_forward_pre_hooks or _forward_hooks)


def call_with_hooks(module, args, kwargs):
    """Run module.forward between the registered pre- and post-hooks."""
    for hook in tuple(_forward_pre_hooks.values()):
        result = hook(module, args)
        if result is not None:
            args = result if isinstance(result, tuple) else (result,)
    output = module.forward(*args, **kwargs)
    for hook in tuple(_forward_hooks.values()):
        result = hook(module, args, output)
        if result is not None:
            output = result
    return output
