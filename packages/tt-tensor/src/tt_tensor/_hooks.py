"""Op hooks: the one documented way to observe every op (used by profilers).

A hook is a callable taking an `OpEvent`. While no hook is registered, ops pay a single
truthiness check and nothing else; with hooks, each op is timed and reported after it runs.
The autograd engine reports backward work through `notify` with phase="backward".
"""

import time
from dataclasses import dataclass

_hooks = []


@dataclass
class OpEvent:
    """One op that ran: its name, phase ("forward" or "backward"), tensors and wall time."""

    op: str
    phase: str
    inputs: tuple
    output: object
    seconds: float


class HookHandle:
    """Returned by `add_op_hook`; call `remove()` to unregister."""

    def __init__(self, fn):
        self.fn = fn

    def remove(self):
        if self.fn in _hooks:
            _hooks.remove(self.fn)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def add_op_hook(fn):
    """Call `fn(event)` after every op from now on. Returns a handle with `remove()`."""
    if not callable(fn):
        raise TypeError(f"add_op_hook: expected a callable, got {type(fn).__name__}")
    _hooks.append(fn)
    return HookHandle(fn)


def hooks_active():
    """True when at least one op hook is registered."""
    return bool(_hooks)


def notify(op, phase, inputs, output, seconds):
    """Report one op to every registered hook."""
    event = OpEvent(op, phase, tuple(inputs), output, seconds)
    for fn in tuple(_hooks):
        fn(event)


def _tensor_args(args):
    """The tensors among an op's arguments; a list or tuple argument (concatenate) is opened."""
    from .tensor import Tensor

    found = []
    for arg in args:
        for item in arg if isinstance(arg, (list, tuple)) else (arg,):
            if isinstance(item, Tensor):
                found.append(item)
    return tuple(found)


def observed(name, fn):
    """Wrap `fn` so that, when hooks are active, each call is timed and reported as op `name`."""

    def wrapper(*args, **kwargs):
        if not _hooks:
            return fn(*args, **kwargs)
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        inputs = _tensor_args(args + tuple(kwargs.values()))
        notify(name, "forward", inputs, out, time.perf_counter() - start)
        return out

    wrapper.__name__ = fn.__name__
    wrapper.__qualname__ = fn.__qualname__
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn
    return wrapper
