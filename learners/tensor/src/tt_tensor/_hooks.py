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


@dataclass
class OpEvent:
    """One op that ran: its name, phase ("forward" or "backward"), tensors and wall time."""

    op: str
    phase: str
    inputs: tuple
    output: object
    seconds: float


class ContextHooks:
    """Hooks registered per context (a `ContextVar`): the one registry behind op hooks and
    tt-layers' module hooks. `add(fn)` returns a `HookHandle`; `get()` is the current context's
    hooks in the order added; `registered` counts the hooks of all contexts together, so a hot
    path can skip the ContextVar while it is 0."""

    def __init__(self, name):
        # an immutable tuple of handles: a copied context (asyncio task, a thread started with
        # copy_context().run) keeps the hooks it was made with
        self._current = contextvars.ContextVar(name, default=())
        self._lock = threading.Lock()
        self.registered = 0

    def _count(self, change):
        with self._lock:
            self.registered += change

    def add(self, fn):
        """Register fn in this context (thread) from now on; returns its HookHandle."""
        handle = HookHandle(self, fn)
        self._current.set(self._current.get() + (handle,))
        self._count(+1)
        return handle

    def get(self):
        """The hooks of the current context, in the order they were added."""
        return tuple(handle.fn for handle in self._current.get())

    def _remove(self, handle):
        current = self._current.get()
        kept = tuple(h for h in current if h is not handle)
        if len(kept) == len(current):
            return False  # removed already, or registered in another context
        self._current.set(kept)
        self._count(-1)
        return True


class HookHandle:
    """Returned by `add_op_hook` (and tt-layers' module hook registration); call `remove()` (in
    the same context) to unregister, or use it as a context manager."""

    def __init__(self, hooks, fn):
        self.fn = fn
        self.removed = False
        self._hooks = hooks

    def remove(self):
        if not self.removed and self._hooks._remove(self):
            self.removed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


_OPS = ContextHooks("tt_tensor_op_hooks")


def add_op_hook(fn):
    """Call `fn(event)` after every op of this context (thread) from now on; returns a handle
    with `remove()`."""
    if not callable(fn):
        raise TypeError(f"add_op_hook: expected a callable, got {type(fn).__name__}")
    return _OPS.add(fn)


def hooks_active():
    """True when at least one op hook is registered in the current context."""
    return bool(_OPS.registered) and bool(_OPS.get())


def notify(op, phase, inputs, output, seconds):
    """Report one op to every hook registered in the current context."""
    hooks = _OPS.get()
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
        if not _OPS.registered or not _OPS.get():  # no hook anywhere: one int check per op
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
