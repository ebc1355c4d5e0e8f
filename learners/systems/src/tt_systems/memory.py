"""The memory model of training: parameters, gradients, optimizer state and activations.

Predicted by formula and checked against a measurement: `tracemalloc` sees every NumPy
buffer, so its peak during one forward + backward is what training really needed on top of
the model's own parameters.
"""

import copy
import gc
import tracemalloc
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import tt_attention
from tt_attention import MultiHeadAttention
from tt_optimizers import SGD, Adam, AdamW
from tt_tensor import Tensor, add_op_hook, randn

from .costs import forward_bytes
from .report import format_pairs

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw", None)


def _check_optimizer(optimizer):
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"memory_report: optimizer must be one of {OPTIMIZERS}, "
                         f"got {optimizer!r}")


def parameter_bytes(model):
    """Bytes of every Parameter, a shared (tied) one counted once."""
    return sum(p.data.nbytes for p in model.parameters())


def optimizer_state_bytes(param_bytes, optimizer):
    """Optimizer state: plain SGD keeps none, SGD with momentum one buffer per parameter
    (1x), Adam and AdamW the two moments m and v (2x)."""
    _check_optimizer(optimizer)
    ### BEGIN SOLUTION
    copies = {"sgd": 0, None: 0, "momentum": 1, "adam": 2, "adamw": 2}[optimizer]
    return copies * param_bytes
    ### END SOLUTION


def attention_activation_bytes(batch, T, embed_dim, num_heads, bias=True, causal=True,
                               itemsize=4):
    """Bytes a forward of tt_attention.MultiHeadAttention keeps alive for (B, T, E) inputs,
    H heads, N = B T; m = 1 when a causal mask is applied (causal and T > 1), else 0; c = 1
    when merging the heads copies (T > 1; one position's heads are already side by side):

        linear terms    N E (4 (1 + bias) + 1 + c)   projections (+ bias adds), P V, and the
                                                     copy that merges the heads
        quadratic terms B H T^2 * 2 + m T^2          the scores Q K^T, the softmax's output
                                                     (kept for backward), the (T, T) mask bias

    The T^2 terms are tt-attention's documented contract (its README: scores and weights,
    B H T^2 each, with the fused softmax); the linear terms are the reference's way and an
    implementation may differ there (see attention_bytes_tolerance).
    """
    B, E, H = batch, embed_dim, num_heads
    m = 1 if causal and T > 1 else 0
    c = 1 if T > 1 else 0
    ### BEGIN SOLUTION
    N, b = B * T, 1 if bias else 0
    linear = N * E * (4 * (1 + b) + 1 + c)
    quadratic = 2 * B * H * T * T + m * T * T
    return itemsize * (linear + quadratic)
    ### END SOLUTION


def attention_bytes_tolerance(batch, T, embed_dim, itemsize=4):
    """How far a MultiHeadAttention that meets tt-attention's contract may keep more or fewer
    bytes than attention_activation_bytes: two (B, T, E) arrays (where the 1/sqrt(D) scale is
    applied, whether merging the heads copies) and one (T, T) mask, in bytes."""
    return itemsize * (2 * batch * T * embed_dim + T * T)


def optimizer_scratch_bound(largest_parameter):
    """At most 2 x the largest parameter's bytes: the scratch tt-optimizers documents (two flat
    buffers of the largest parameter's size, its README's Memory table); an optimizer may use
    less (the reference's SGD and Adam keep one)."""
    return 2 * largest_parameter


def predicted_peak_bytes(activations, gradients, largest_parameter, largest_activation):
    """The peak of one forward + backward above the parameters.

    Every activation is alive when backward starts (the graph keeps them until it is freed),
    every parameter gets a gradient, a parameter's gradient may exist twice for a moment (the
    op's result and the copy stored in .grad: Linear's arrives transposed, as a view), and
    about one activation-sized gradient is in flight.
    """
    ### BEGIN SOLUTION
    return activations + gradients + largest_parameter + largest_activation
    ### END SOLUTION


@dataclass
class MemoryReport:
    """Predicted and measured bytes of one training step (see memory_report)."""

    input_shape: tuple
    optimizer: str
    parameters: int            # the model's Parameters
    gradients: int             # one gradient per Parameter: the same bytes
    optimizer_state: int       # formula: 0x, 1x or 2x the parameters
    optimizer_scratch: int     # at most: tt-optimizers documents <= 2 x the largest parameter
    activations: int           # bytes the forward's ops allocate (the op-hook count)
    largest_activation: int    # the largest single op output of the forward
    predicted_peak: int        # predicted_peak_bytes(...): forward + backward, above params
    measured_peak: int         # tracemalloc peak during forward + backward, above params
    measured_optimizer: int    # tracemalloc: bytes the first optimizer.step() kept

    @property
    def predicted_total(self):
        """Parameters + optimizer state and scratch (its bound) + the forward/backward peak."""
        return self.parameters + self.optimizer_state + self.optimizer_scratch \
            + self.predicted_peak

    @property
    def relative_error(self):
        """(predicted - measured) / measured for the forward + backward peak."""
        return (self.predicted_peak - self.measured_peak) / max(self.measured_peak, 1)

    def optimizer_within(self, tolerance):
        """Whether the measured optimizer memory lies between its state and state + scratch
        bound, each widened by the relative `tolerance` (allocator bookkeeping)."""
        low = self.optimizer_state * (1 - tolerance)
        high = (self.optimizer_state + self.optimizer_scratch) * (1 + tolerance)
        return low <= self.measured_optimizer <= high

    def table(self):
        """The report as text (the caller prints it)."""
        def mib(n):
            return f"{n / 2**20:9.3f} MiB"

        return format_pairs(
            f"memory of one training step: input {self.input_shape}, optimizer {self.optimizer}",
            [("parameters", mib(self.parameters)),
             ("gradients", mib(self.gradients)),
             ("optimizer state (formula)", mib(self.optimizer_state)),
             ("  + scratch, at most", mib(self.optimizer_scratch)),
             ("optimizer, measured", mib(self.measured_optimizer)),
             ("activations (counted)", mib(self.activations)),
             ("forward+backward peak, predicted", mib(self.predicted_peak)),
             ("forward+backward peak, measured", mib(self.measured_peak)),
             ("peak relative error", f"{100 * self.relative_error:+.1f} %"),
             ("predicted total", mib(self.predicted_total))])


def example_input(model, input_shape, seed=0):
    """Random float32 inputs, or token ids when the model has config.vocab_size (a GPT)."""
    vocab = getattr(getattr(model, "config", None), "vocab_size", None)
    if vocab is not None:
        rng = np.random.default_rng(seed)
        return Tensor(rng.integers(0, vocab, size=input_shape))
    return randn(*input_shape)


def _sum_loss(output):
    return output.sum()


@contextmanager
def _tracing():
    """tracemalloc running inside the block (after a gc), left as it was found afterwards."""
    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        yield
    finally:
        if not was_tracing:
            tracemalloc.stop()


def measure_peak(fn):
    """(result, peak bytes above the start) of fn() under tracemalloc."""
    with _tracing():
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - start
    return result, peak


def _measure_kept(fn):
    """Bytes that fn() allocated and still holds when it returns (tracemalloc)."""
    with _tracing():
        before = tracemalloc.get_traced_memory()[0]
        fn()
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    return kept


def _make_optimizer(name, params):
    if name == "momentum":
        return SGD(params, lr=1e-3, momentum=0.9)
    return {"sgd": SGD, "adam": Adam, "adamw": AdamW}[name](params, lr=1e-3)


def count_forward_bytes(model, x, loss_fn=None):
    """(total, largest): bytes the ops of one forward (and loss) allocate, counted through
    the op hook with the profiler's rule (views allocate nothing)."""
    loss_fn = _sum_loss if loss_fn is None else loss_fn
    sizes = []

    def watch(event):
        if event.phase == "forward":
            sizes.append(forward_bytes(event.inputs, event.output))

    with add_op_hook(watch):
        loss_fn(model(x))
    return sum(sizes), max(sizes, default=0)


def memory_report(model, input_shape, optimizer="adam", loss_fn=None, input=None,
                  make_optimizer=None):
    """Predict and measure the memory of one training step of `model` on `input_shape`.

    loss_fn(output) -> scalar Tensor (default: output.sum()); input overrides the random
    example (floats, or token ids for a model with config.vocab_size). The model is copied:
    the measurement's optimizer step does not touch yours. make_optimizer(params) builds the
    optimizer to measure (default: tt_optimizers' class named by `optimizer`); `optimizer`
    names the kind whose state the formula predicts.
    """
    _check_optimizer(optimizer)
    model = copy.deepcopy(model)
    model.train()
    model.zero_grad()
    x = example_input(model, tuple(input_shape)) if input is None else input
    loss_fn = _sum_loss if loss_fn is None else loss_fn
    activations, largest = count_forward_bytes(model, x, loss_fn)
    params = parameter_bytes(model)
    largest_param = max((p.data.nbytes for p in model.parameters()), default=0)
    loss_fn(model(x)).backward()  # warm up: first-call imports and caches are not the model's
    model.zero_grad()
    _, peak = measure_peak(lambda: loss_fn(model(x)).backward())
    measured_opt = 0
    if optimizer is not None:
        build = _make_optimizer if make_optimizer is None else (lambda _, ps: make_optimizer(ps))
        opt = build(optimizer, list(model.parameters()))
        measured_opt = _measure_kept(opt.step)
    return MemoryReport(
        input_shape=tuple(np.shape(getattr(x, "data", x))), optimizer=optimizer,
        parameters=params, gradients=params,
        optimizer_state=optimizer_state_bytes(params, optimizer),
        optimizer_scratch=optimizer_scratch_bound(largest_param) if optimizer is not None else 0,
        activations=activations, largest_activation=largest,
        predicted_peak=predicted_peak_bytes(activations, params, largest_param, largest),
        measured_peak=peak, measured_optimizer=measured_opt)


def attention_memory_sweep(T_values, batch=1, embed_dim=128, num_heads=4, bias=True):
    """For each T, a dict: the formula's bytes and its T^2 part, the op-hook count, and what a
    forward of MultiHeadAttention(causal=True) really keeps alive (tracemalloc).

    Measured on the composition the formula describes: tt-attention's fast paths are off
    meanwhile (its fused attention keeps only the weights, B H T^2 fewer bytes, in one op
    whose inner arrays no op hook sees), and back as they were afterwards."""
    switch = getattr(tt_attention, "use_fast_paths", None)  # a module may have none
    before = switch(False) if switch is not None else None
    try:
        return _attention_rows(T_values, batch, embed_dim, num_heads, bias)
    finally:
        if switch is not None:
            switch(before)


def _attention_rows(T_values, batch, embed_dim, num_heads, bias):
    mha = MultiHeadAttention(embed_dim, num_heads, bias=bias, causal=True)
    rows = []
    for T in T_values:
        x = randn(batch, T, embed_dim, requires_grad=True)
        counted, _ = count_forward_bytes(mha, x, loss_fn=lambda y: y)
        outputs = []
        kept = _measure_kept(lambda: outputs.append(mha(x)))
        m = 1 if T > 1 else 0  # the quadratic terms of attention_activation_bytes
        rows.append({"T": T,
                     "formula": attention_activation_bytes(batch, T, embed_dim, num_heads, bias),
                     "quadratic": 4 * (batch * num_heads * 2 + m) * T * T,
                     "counted": counted, "measured": kept})
        outputs.clear()
    return rows
