"""TinyTorch module 17 (systems): profile, model memory, quantize to int8, export and serve.

`Profiler` watches every op and module through the documented hooks and counts time, FLOPs
and bytes; `memory_report` predicts the memory of a training step and measures it;
`quantize_dynamic` swaps Linear/Conv2d for int8 versions; `export` / `load_exported` write and
read a code-free inference folder; `serve` answers generation requests over HTTP.
"""

from ._version import __version__
from .bench import (
    lm_loss, make_blobs, profiler_overhead, quantization_benchmark, serve_benchmark, train_mlp,
)
from .cli import COMMANDS, bench_main, export_main, profile_main, serve_main
from .costs import (
    attention_flops, attention_flops_tolerance, attention_matmul_flops, backward_flops,
    conv2d_flops, forward_bytes, forward_flops, linear_flops, matmul_flops, register_flop_rule,
)
from .export import (
    CONFIG_MAXIMA, ExportError, export, load_exported, load_for_serving, load_training_run,
)
from .memory import (
    MemoryReport, attention_activation_bytes, attention_bytes_tolerance, attention_memory_sweep,
    count_forward_bytes, measure_peak, memory_report, optimizer_scratch_bound,
    optimizer_state_bytes, parameter_bytes, predicted_peak_bytes,
)
from .profiler import ModuleRecord, OpRecord, Profiler
from .quantize import (
    Int8Linear, QuantizedConv2d, QuantizedLinear, dequantize_per_channel, model_size_bytes,
    quantize_dynamic, quantize_per_channel, quantize_rows,
)
from .server import InferenceServer, make_server, serve
from .service import GenerationService, RequestError, ServeLimits

__all__ = [
    "__version__",
    # profiling
    "Profiler", "OpRecord", "ModuleRecord",
    "forward_flops", "backward_flops", "forward_bytes", "matmul_flops", "linear_flops",
    "conv2d_flops", "attention_flops", "attention_matmul_flops", "attention_flops_tolerance",
    "register_flop_rule",
    # memory
    "memory_report", "MemoryReport", "parameter_bytes", "optimizer_state_bytes",
    "optimizer_scratch_bound", "predicted_peak_bytes", "attention_activation_bytes",
    "attention_bytes_tolerance", "attention_memory_sweep", "count_forward_bytes", "measure_peak",
    # int8 quantization
    "quantize_dynamic", "QuantizedLinear", "QuantizedConv2d", "Int8Linear",
    "quantize_per_channel", "dequantize_per_channel", "quantize_rows", "model_size_bytes",
    # export and serving
    "export", "load_exported", "load_training_run", "load_for_serving", "ExportError",
    "CONFIG_MAXIMA",
    "serve", "make_server", "InferenceServer", "GenerationService", "ServeLimits",
    "RequestError",
    # measurements (what `tinytorch bench` runs)
    "profiler_overhead", "quantization_benchmark", "serve_benchmark", "train_mlp", "make_blobs",
    "lm_loss",
    # command-line entry points: main(argv) -> exit code
    "COMMANDS", "profile_main", "bench_main", "serve_main", "export_main",
]
