"""Module-call hooks: the observation point a profiler uses to time every Module.

PyTorch's names: `register_module_forward_pre_hook(fn)` calls fn(module, inputs) before each
forward, `register_module_forward_hook(fn)` calls fn(module, inputs, output) after it. Like
tt_tensor's op hooks, they are registered per context (a `ContextVar`): a hook registered in
one thread sees the modules called in that thread only, and a new thread starts with none.
While no hook is registered in any context, `Module.__call__` pays one check of a count.
"""

import contextvars
import itertools
import threading

# (id, hook) pairs of the current context, immutable tuples: a copied context keeps its own.
_pre = contextvars.ContextVar("tt_layers_forward_pre_hooks", default=())
_post = contextvars.ContextVar("tt_layers_forward_hooks", default=())
_ids = itertools.count()
_lock = threading.Lock()
registered = 0  # hooks registered in all contexts together; Module.__call__ reads it


def _count(change):
    global registered
    with _lock:
        registered += change


class RemovableHandle:
    """Returned by the register functions; `remove()` (in the same context) unregisters; also
    usable with `with`."""

    def __init__(self, hooks, hook):
        self.id = next(_ids)
        self._hooks = hooks
        hooks.set(hooks.get() + ((self.id, hook),))
        _count(+1)

    def remove(self):
        current = self._hooks.get()
        kept = tuple(pair for pair in current if pair[0] != self.id)
        if len(kept) != len(current):
            self._hooks.set(kept)
            _count(-1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def _check(name, hook):
    if not callable(hook):
        raise TypeError(f"{name}: expected a callable, got {type(hook).__name__}")


def register_module_forward_pre_hook(hook):
    """Call hook(module, inputs) before every Module's forward in this context (thread); a
    non-None result (a tuple, or one value) replaces the positional inputs. Returns a
    RemovableHandle."""
    _check("register_module_forward_pre_hook", hook)
    return RemovableHandle(_pre, hook)


def register_module_forward_hook(hook):
    """Call hook(module, inputs, output) after every Module's forward in this context
    (thread); a non-None result replaces the output. Returns a RemovableHandle."""
    _check("register_module_forward_hook", hook)
    return RemovableHandle(_post, hook)


def call_with_hooks(module, args, kwargs):
    """Run module.forward between the pre- and post-hooks registered in this context."""
    for _, hook in _pre.get():
        result = hook(module, args)
        if result is not None:
            args = result if isinstance(result, tuple) else (result,)
    output = module.forward(*args, **kwargs)
    for _, hook in _post.get():
        result = hook(module, args, output)
        if result is not None:
            output = result
    return output
