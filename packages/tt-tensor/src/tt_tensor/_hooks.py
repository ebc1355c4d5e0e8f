"""Op hooks: the one documented way to observe every op (used by profilers). A leaf module.

A hook is a callable taking an `OpEvent`. Hooks are registered per context (a `ContextVar`),
like grad mode is per thread: a hook added in one thread sees only the ops of that thread, and
a new thread starts with none. While no hook is registered in any context, ops pay one check of
a module-level count and nothing else; with hooks, each op is timed and reported after it runs.
The autograd engine reports backward work through `notify` with phase="backward".
"""

import contextvars
import threading
import time
from dataclasses import dataclass

# The hooks of the current context, an immutable tuple: a copied context (asyncio task, a
# thread started with copy_context().run) keeps the hooks it was made with.
_current = contextvars.ContextVar("tt_tensor_op_hooks", default=())
_anywhere = 0  # hooks registered in all contexts together; while 0, ops skip the ContextVar
_lock = threading.Lock()


@dataclass
class OpEvent:
    """One op that ran: its name, phase ("forward" or "backward"), tensors and wall time."""

    op: str
    phase: str
    inputs: tuple
    output: object
    seconds: float


def _count(change):
    global _anywhere
    with _lock:
        _anywhere += change


class HookHandle:
    """Returned by `add_op_hook`; call `remove()` (in the same context) to unregister."""

    def __init__(self, fn):
        self.fn = fn
        self.removed = False

    def remove(self):
        hooks = _current.get()
        if self.removed or self.fn not in hooks:
            return
        i = hooks.index(self.fn)
        _current.set(hooks[:i] + hooks[i + 1:])
        self.removed = True
        _count(-1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def add_op_hook(fn):
    """Call `fn(event)` after every op of this context (thread) from now on; returns a handle
    with `remove()`."""
    if not callable(fn):
        raise TypeError(f"add_op_hook: expected a callable, got {type(fn).__name__}")
    _current.set(_current.get() + (fn,))
    _count(+1)
    return HookHandle(fn)


def hooks_active():
    """True when at least one op hook is registered in the current context."""
    return bool(_anywhere) and bool(_current.get())


def notify(op, phase, inputs, output, seconds):
    """Report one op to every hook registered in the current context."""
    hooks = _current.get()
    if not hooks:
        return
    event = OpEvent(op, phase, tuple(inputs), output, seconds)
    for fn in hooks:
        fn(event)


def _tensor_args(args, tensor_type):
    """The tensors among an op's arguments; a list or tuple argument (concatenate) is opened."""
    found = []
    for arg in args:
        for item in arg if isinstance(arg, (list, tuple)) else (arg,):
            if isinstance(item, tensor_type):
                found.append(item)
    return tuple(found)


def observed(name, fn, tensor_type):
    """Wrap `fn` so that, when this context has hooks, each call is timed and reported as op
    `name` (its tensor arguments are the instances of `tensor_type`)."""

    def wrapper(*args, **kwargs):
        if not _anywhere or not _current.get():  # no hook anywhere: one int check per op
            return fn(*args, **kwargs)
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        inputs = _tensor_args(args + tuple(kwargs.values()), tensor_type)
        notify(name, "forward", inputs, out, time.perf_counter() - start)
        return out

    wrapper.__name__ = fn.__name__
    wrapper.__qualname__ = fn.__qualname__
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn
    return wrapper
