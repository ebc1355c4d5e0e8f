"""Profiler: per op and per module, how often, how long, how many FLOPs and bytes.

It observes through the two documented hooks only: `tt_tensor.add_op_hook` (every primitive
op, forward and backward, with its wall time) and tt_layers' module forward hooks. Both are
registered on `__enter__` and removed on `__exit__`, so outside a `with Profiler()` block the
ops pay nothing beyond tt_tensor's own "is any hook registered?" check. Both kinds of hook are
per context (thread), so a profiler sees the work of the thread that entered it and nothing
of any other thread's.
"""

import time
import weakref
from dataclasses import asdict, dataclass

import numpy as np
from tt_layers import register_module_forward_hook, register_module_forward_pre_hook
from tt_tensor import Tensor, add_op_hook

from .costs import backward_flops, forward_bytes, forward_flops
from .report import format_table

SORT_KEYS = {"time": "seconds", "flops": "flops", "bytes": "bytes", "calls": "calls"}


@dataclass
class OpRecord:
    """Totals for one (op, phase) pair: 'matmul' in 'forward', 'matmul' in 'backward', ..."""

    name: str
    phase: str
    calls: int = 0
    seconds: float = 0.0
    flops: int = 0
    bytes: int = 0


@dataclass
class ModuleRecord:
    """Totals for one module (its dotted name in the profiled model, else its class name).

    Inclusive: a module's numbers contain those of its submodules. `seconds` is the wall time
    of its forward calls; the backward numbers are those of the ops its forward recorded.
    """

    name: str
    type: str
    calls: int = 0
    seconds: float = 0.0
    flops: int = 0
    bytes: int = 0
    backward_seconds: float = 0.0
    backward_flops: int = 0
    backward_bytes: int = 0


def _root(array):
    """The array that owns the memory `array` views (itself when it owns its data)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


class Profiler:
    """`with Profiler(model) as prof: ...` then `prof.table()`, `prof.summary()`, `prof.records`.

    model (optional): names modules by their dotted path in it; others go by class name.
    Only the thread that entered the block is recorded: its hooks are registered in that
    thread's context, so other threads never call them (two threads may profile at once).
    """

    def __init__(self, model=None, record_modules=True):
        self.model = model
        self.record_modules = record_modules
        self._ops, self._modules = {}, {}
        self.wall_seconds = 0.0
        self._handles = []

    # --- entering and leaving --------------------------------------------------------------
    def __enter__(self):
        if self._handles:
            raise RuntimeError("Profiler: this profiler is already running")
        self._ops, self._modules = {}, {}
        self._names = self._module_names()
        self._stack, self._owners, self._owners_now = [], {}, ()
        self._seen = weakref.WeakValueDictionary()  # gradient buffers counted already
        self._handles = [add_op_hook(self._on_op)]
        if self.record_modules:
            self._handles += [register_module_forward_pre_hook(self._before_module),
                              register_module_forward_hook(self._after_module)]
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall_seconds = time.perf_counter() - self._start
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._stack, self._owners, self._seen = [], {}, None
        return False

    def _module_names(self):
        if self.model is None:
            return {}
        return {id(m): name or type(m).__name__ for name, m in self.model.named_modules()}

    # --- the hooks -------------------------------------------------------------------------
    def _on_op(self, event):
        if event.phase == "backward":
            self._on_backward(event)
            return
        flops = forward_flops(event.op, event.inputs, event.output)
        nbytes = forward_bytes(event.inputs, event.output)
        self._add_op(event.op, "forward", event.seconds, flops, nbytes)
        owners = self._owners_now
        if not owners:
            return
        for key in owners:
            record = self._modules[key]
            record.flops += flops
            record.bytes += nbytes
        node = event.output.grad_fn if isinstance(event.output, Tensor) else None
        if node is not None:  # remember who recorded it, for the backward numbers
            self._owners[(event.op, *map(id, node.inputs))] = owners

    def _on_backward(self, event):
        flops = backward_flops(event.op, event.inputs, event.output)
        nbytes = self._gradient_bytes(event.output)
        self._add_op(event.op, "backward", event.seconds, flops, nbytes)
        for key in self._owners.pop((event.op, *map(id, event.inputs)), ()):
            record = self._modules[key]
            record.backward_seconds += event.seconds
            record.backward_flops += flops
            record.backward_bytes += nbytes

    def _gradient_bytes(self, grads):
        """Bytes of the gradient buffers this backward op created. A gradient that views a
        buffer seen before (the incoming gradient reshaped, passed through by add, or
        broadcast by sum) allocated nothing."""
        total = 0
        for grad in grads:
            if not isinstance(grad, np.ndarray):
                continue
            root = _root(grad)
            if self._seen.get(id(root)) is root:
                continue
            self._seen[id(root)] = root
            total += root.nbytes
        return total

    def _add_op(self, op, phase, seconds, flops, nbytes):
        record = self._ops.get((op, phase))
        if record is None:
            record = self._ops[(op, phase)] = OpRecord(op, phase)
        record.calls += 1
        record.seconds += seconds
        record.flops += flops
        record.bytes += nbytes

    def _before_module(self, module, inputs):
        key = self._names.get(id(module)) or type(module).__name__
        if key not in self._modules:
            self._modules[key] = ModuleRecord(key, type(module).__name__)
        self._stack.append((key, id(module), time.perf_counter()))
        self._owners_now += (key,)  # the modules whose forward is running, outermost first
        return None

    def _after_module(self, module, inputs, output):
        while self._stack:  # a forward that raised never reached its post-hook: skip it
            key, ident, start = self._stack.pop()
            if ident == id(module):
                record = self._modules[key]
                record.calls += 1
                record.seconds += time.perf_counter() - start
                break
        self._owners_now = tuple(frame[0] for frame in self._stack)
        return None

    # --- the results -----------------------------------------------------------------------
    @property
    def records(self):
        """Every OpRecord, the most time-consuming first."""
        return sorted(self._ops.values(), key=lambda r: r.seconds, reverse=True)

    @property
    def module_records(self):
        """Every ModuleRecord, in the order their forwards were first entered."""
        return list(self._modules.values())

    def summary(self):
        """{'forward'|'backward'|'total': {calls, seconds, flops, bytes}, 'wall_seconds': s}."""
        out = {}
        for phase in ("forward", "backward", "total"):
            rows = [r for r in self._ops.values() if phase in ("total", r.phase)]
            out[phase] = {"calls": sum(r.calls for r in rows),
                          "seconds": sum(r.seconds for r in rows),
                          "flops": sum(r.flops for r in rows),
                          "bytes": sum(r.bytes for r in rows)}
        out["wall_seconds"] = self.wall_seconds
        return out

    def table(self, sort_by="time", top=20, by="op", phase=None):
        """The profile as text: one row per (op, phase) (by="op") or per module (by="module"),
        sorted by "time", "flops", "bytes" or "calls", at most `top` rows (None: all). Rows past
        `top` are folded into one "(N more)" row, so the op table always adds up to its total."""
        if sort_by not in SORT_KEYS:
            raise ValueError(f"table: sort_by must be one of {sorted(SORT_KEYS)}, "
                             f"got {sort_by!r}")
        if by not in ("op", "module"):
            raise ValueError(f"table: by must be 'op' or 'module', got {by!r}")
        if phase not in (None, "forward", "backward"):
            raise ValueError(f"table: phase must be None, 'forward' or 'backward', got {phase!r}")
        if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
            raise ValueError(f"table: top must be a positive int or None, got {top!r}")
        if by == "module":
            rows = sorted(self._modules.values(), key=lambda r: getattr(r, SORT_KEYS[sort_by]),
                          reverse=True)
            return format_table([asdict(r) for r in rows], top, kind="module")
        rows = [r for r in self._ops.values() if phase in (None, r.phase)]
        rows.sort(key=lambda r: getattr(r, SORT_KEYS[sort_by]), reverse=True)
        return format_table([asdict(r) for r in rows], top, kind="op")
