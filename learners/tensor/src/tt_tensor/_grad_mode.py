"""Grad mode: whether new ops record the graph. Per thread, on by default."""

import functools
import threading

_state = threading.local()


def is_grad_enabled():
    """True when ops on tensors that require grad record a graph node."""
    return getattr(_state, "enabled", True)


class set_grad_enabled:
    """Turn graph recording on or off; usable as a call, a context manager or a decorator."""

    def __init__(self, mode):
        self.prev = is_grad_enabled()
        self.mode = bool(mode)
        _state.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False


class no_grad:
    """Context manager (and decorator): nothing inside records a graph. Used for evaluation."""

    enabled = False

    def __enter__(self):
        self.prev = is_grad_enabled()
        _state.enabled = self.enabled
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):
    """Context manager (and decorator): turn recording back on inside a no_grad block."""

    enabled = True
