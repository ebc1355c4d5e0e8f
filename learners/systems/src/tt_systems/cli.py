"""Entry points for `tinytorch profile | bench | serve | export` (each takes argv, returns an
exit code; `prog` is the command its messages name: `python -m tt_systems bench` passes its
own). This is command-line code: unlike the library, it prints its results. A bad
argument, a missing or unreadable file, or a folder that cannot be used is one line on stderr
and exit status 2, never a traceback.

Wiring into the tinytorch command (packages/tinytorch/src/tinytorch/cli.py): each main parses
its own arguments, so hand it the rest of argv before the top-level parser sees it (an
argparse.REMAINDER positional would reject a leading option such as `serve --port 0 DIR`):
    if argv and argv[0] in tt_systems.COMMANDS:
        return tt_systems.COMMANDS[argv[0]][0](argv[1:])
and list them in the help with commands.add_parser(name, help=help_text).
"""

import json
import logging
import os
import sys

import numpy as np
from tt_layers import Flatten, Linear, ReLU
from tt_networks import Sequential, cross_entropy, mlp
from tt_normalization import BatchNorm2d
from tt_optimizers import Adam
from tt_setup import course_table
from tt_spatial import Conv2d, MaxPool2d
from tt_tensor import tensor
from tt_training import atomic_write
from tt_transformers import GPT, GPTConfig

from . import bench
from ._cliargs import Parser, fail, folder, int_in, output_file, positive_float, readable_file
from .export import ExportError, export, load_for_serving
from .memory import attention_memory_sweep, memory_report
from .profiler import Profiler
from .quantize import quantize_dynamic
from .report import format_pairs, render
from .server import serve
from .service import ServeLimits


MAX_BATCH = 4096   # `profile --batch-size`: larger built-in workloads do not fit in memory
MAX_STEPS = 1000   # `profile --steps`


def _builtin(name, batch_size, seed=0):
    """(model, x, y, loss) of a built-in workload: 'mlp', 'cnn' (CIFAR-10 shaped) or 'gpt'."""
    np.random.seed(seed)
    rng = np.random.default_rng(seed)
    if name == "mlp":
        model = mlp([784, 256, 128, 10])
        x = rng.standard_normal((batch_size, 784)).astype(np.float32)
        return model, tensor(x), tensor(rng.integers(0, 10, batch_size)), cross_entropy
    if name == "cnn":
        model = Sequential(Conv2d(3, 32, 3), BatchNorm2d(32), ReLU(), MaxPool2d(2),
                           Conv2d(32, 64, 3), BatchNorm2d(64), ReLU(), MaxPool2d(2),
                           Flatten(), Linear(64 * 6 * 6, 256), ReLU(), Linear(256, 10))
        x = rng.standard_normal((batch_size, 3, 32, 32)).astype(np.float32)
        return model, tensor(x), tensor(rng.integers(0, 10, batch_size)), cross_entropy
    config = GPTConfig()
    model = GPT(config)
    ids = rng.integers(0, config.vocab_size, (batch_size, config.block_size + 1))

    def lm_loss(logits, targets):
        return cross_entropy(logits.reshape(-1, config.vocab_size), targets.reshape(-1))

    return model, ids[:, :-1], tensor(ids[:, 1:]), lm_loss


def profile_main(argv=None, prog="tinytorch profile"):
    """`tinytorch profile`: profile training steps of a built-in model; print the tables."""
    p = Parser(prog=prog, description=profile_main.__doc__)
    p.add_argument("--model", choices=["mlp", "cnn", "gpt"], default="mlp")
    p.add_argument("--batch-size", type=int_in(1, MAX_BATCH), default=32)
    p.add_argument("--steps", type=int_in(1, MAX_STEPS), default=3,
                   help="profiled training steps")
    p.add_argument("--sort-by", choices=["time", "flops", "bytes", "calls"], default="time")
    p.add_argument("--top", type=int_in(1), default=20, help="rows of each table")
    p.add_argument("--json", type=output_file, help="also write the records to this JSON file")
    args = p.parse_args(argv)
    model, x, y, loss_fn = _builtin(args.model, args.batch_size)
    opt = Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    step()  # warm up: the optimizer allocates its state on the first step
    with Profiler(model) as prof:
        for _ in range(args.steps):
            step()
    print(f"{args.model}, batch {args.batch_size}, {args.steps} training step(s)\n")
    print(prof.table(sort_by=args.sort_by, top=args.top))
    print()
    print(prof.table(sort_by=args.sort_by, top=args.top, by="module"))
    s = prof.summary()
    print(f"\nwall {s['wall_seconds']:.3f} s, ops {s['total']['seconds']:.3f} s, "
          f"{s['total']['flops'] / 1e9:.3f} GFLOP, {s['total']['bytes'] / 2**20:.1f} MiB "
          "allocated")
    if args.json:
        records = {"summary": s, "ops": [vars(r) for r in prof.records],
                   "modules": [vars(r) for r in prof.module_records]}
        try:
            atomic_write(args.json, lambda f: json.dump(records, f, indent=1), mode="w")
        except (OSError, ValueError) as err:
            return fail(prog, f"cannot write {args.json}: {err}")
    return 0


def _rows(rows, columns):
    return render([(c, c, "{}") for c in columns],
                  [{c: (f"{r[c]:.4g}" if isinstance(r[c], float) else r[c]) for c in columns}
                   for r in rows])


def _bench_quantize(args):
    model, (x, y) = bench.train_mlp()
    out = ["int8 quantization, MLP [32, 128, 64, 10] on overlapping blobs (2048 test points):",
           _rows(bench.quantization_benchmark(model, x, y, repeats=args.repeats),
                 ["model", "bytes", "size_ratio", "ms", "speedup", "max_abs_diff",
                  "relative_error", "accuracy"])]
    for batch in (1, 64):
        big, _ = bench.train_mlp((784, 256, 128, 10), steps=1)
        xb = np.random.default_rng(0).standard_normal((batch, 784)).astype(np.float32)
        out += [f"\nMLP [784, 256, 128, 10], batch {batch}:",
                _rows(bench.quantization_benchmark(big, xb, repeats=args.repeats),
                      ["model", "bytes", "ms", "speedup", "relative_error"])]
    if args.gpt:
        out.append(_bench_gpt_quantize(args))
    return "\n".join(out)


def _bench_gpt_quantize(args):
    model, tokenizer = load_for_serving(args.gpt)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, model.config.vocab_size, (1, model.config.block_size))
    rows = bench.quantization_benchmark(model, ids, repeats=args.repeats)
    text = f"\nGPT from {args.gpt}, one block of {model.config.block_size} tokens:\n"
    text += _rows(rows, ["model", "bytes", "size_ratio", "ms", "speedup", "relative_error"])
    speeds = bench.generation_speed(model, tokens=100, repeats=max(1, args.repeats // 10))
    text += "\n" + format_pairs("greedy generation, 100 new tokens with the KV cache "
                                "(batch 1):", [(n, f"{v:.0f} tokens/s") for n, v in speeds])
    if args.text:
        with open(args.text, encoding="utf-8", errors="replace") as f:
            corpus = f.read()
        val = corpus[int(0.9 * len(corpus)):]  # nanoGPT's split: the last 10% validate
        ids = tokenizer.encode("".join(c for c in val if c in tokenizer.stoi))
        losses = [("float32", bench.lm_loss(model, ids, batches=32))]
        losses += [(f"int8 ({c})", bench.lm_loss(quantize_dynamic(model, compute=c), ids,
                                                 batches=32)) for c in ("float", "int8")]
        text += "\n" + format_pairs("cross-entropy on 32 x 8 windows of the last 10% of the "
                                    "text (the same windows for each model):",
                                    [(n, f"{v:.4f}") for n, v in losses])
    return text


def bench_main(argv=None, prog="tinytorch bench"):
    """`tinytorch bench`: the measurements of the tt-systems README."""
    p = Parser(prog=prog, description=bench_main.__doc__)
    p.add_argument("what", nargs="?", default="all",
                   choices=["overhead", "memory", "attention", "quantize", "serve", "all"])
    p.add_argument("--repeats", type=int_in(1), default=5, help="runs timed; the fastest counts")
    p.add_argument("--gpt", type=folder,
                   help="an export folder or TinyGPT run folder (quantize, serve)")
    p.add_argument("--text", type=readable_file,
                   help="text to measure the GPT's loss on (quantize, with --gpt)")
    args = p.parse_args(argv)
    if args.text and not args.gpt:
        p.error("--text needs --gpt (the model whose loss it measures)")
    if args.gpt:  # a bad folder fails now, not after minutes of other benchmarks
        try:
            load_for_serving(args.gpt)
        except ExportError as err:
            return fail(prog, str(err))
    todo = ["overhead", "memory", "attention", "quantize", "serve"] \
        if args.what == "all" else [args.what]
    for what in todo:
        print(_BENCHES[what](args), end="\n\n", flush=True)
    return 0


def _bench_overhead(args):
    r = bench.profiler_overhead(repeats=args.repeats)
    return format_pairs(f"profiler overhead, {r['model']} training step, batch "
                        f"{r['batch_size']}:", [
                            ("step without profiler", f"{r['step_ms_off']:.3f} ms"),
                            ("step inside Profiler()", f"{r['step_ms_on']:.3f} ms"),
                            ("overhead", f"{r['overhead_percent']:+.1f} %")])


def _bench_memory(args):
    out = []
    for name, batch in (("mlp", 64), ("cnn", 16), ("gpt", 8)):
        model, x, y, loss_fn = _builtin(name, batch)
        report = memory_report(model, None, "adam", lambda out: loss_fn(out, y), input=x)
        out.append(report.table())
    return "\n\n".join(out)


def _bench_attention(args):
    rows = attention_memory_sweep([64, 128, 256, 512, 1024], batch=1, embed_dim=128,
                                  num_heads=4)
    for r in rows:
        r.update({k: f"{r[k] / 2**20:.2f}" for k in ("formula", "quadratic", "counted",
                                                      "measured")})
    return ("MultiHeadAttention(128, 4 heads, causal) forward, batch 1, MiB kept alive:\n"
            + _rows(rows, ["T", "formula", "quadratic", "counted", "measured"]))


def _bench_serve(args):
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        target = args.gpt
        if target is None:
            config = GPTConfig(n_layer=2, n_embd=64)
            target = export(GPT(config), config, [chr(32 + i) for i in range(65)], tmp)
        rows = bench.serve_benchmark(target, n_requests=20, concurrency=(1, 2, 4))
    return ("20 concurrent POST /generate (20 new tokens each) on 127.0.0.1:\n"
            + _rows(rows, ["max_concurrent", "requests", "wall_seconds", "all_ok",
                           "same_as_sequential"]))


_BENCHES = {"overhead": _bench_overhead, "memory": _bench_memory,
            "attention": _bench_attention, "quantize": _bench_quantize, "serve": _bench_serve}


def serve_main(argv=None, prog="tinytorch serve"):
    """`tinytorch serve DIR`: serve an export (or TinyGPT run) folder over HTTP."""
    p = Parser(prog=prog, description=serve_main.__doc__)
    p.add_argument("path", type=folder,
                   help="folder from `tinytorch export` (or a TinyGPT run folder)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int_in(0, 65535), default=8000, help="0 picks a free port")
    p.add_argument("--max-concurrent", type=int_in(1), default=4,
                   help="1 = one request at a time")
    p.add_argument("--max-new-tokens", type=int_in(1), default=500)
    p.add_argument("--max-prompt-chars", type=int_in(1), default=1000)
    p.add_argument("--max-connections", type=int_in(1), default=64,
                   help="connections served at once; more are answered 503 (default 64)")
    p.add_argument("--request-seconds", type=positive_float, default=10.0,
                   help="a request must arrive in full within this time, else 408 "
                        "(default 10)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="also answer requests whose Host header is NAME (repeatable; '*' "
                        "allows any host: only behind a proxy that checks it)")
    p.add_argument("--log-prompts", action="store_true",
                   help="put the prompt text in each request's log line (not by default)")
    args = p.parse_args(argv)
    limits = ServeLimits(max_prompt_chars=args.max_prompt_chars,
                         max_new_tokens=args.max_new_tokens,
                         max_concurrent=args.max_concurrent,
                         max_connections=args.max_connections,
                         request_seconds=args.request_seconds)

    def ready(server):
        print(f"serving {args.path} on {server.url}  (page at /, POST /generate, GET /health, "
              "GET /metrics; Ctrl-C stops)", flush=True)

    log = logging.getLogger("tt_systems.server")  # one JSON line per request, on stderr
    handler, level = logging.StreamHandler(sys.stderr), log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        serve(args.path, args.host, args.port, limits, ready=ready,
              allow_hosts=args.allow_host, log_prompts=args.log_prompts)
    except ExportError as err:
        return fail(prog, str(err))
    except OSError as err:  # the port is in use, the host unknown, or not ours to bind
        return fail(prog, f"cannot listen on {args.host}:{args.port}: {err.strerror or err}")
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
    return 0


def export_main(argv=None, prog="tinytorch export"):
    """`tinytorch export RUN --out DIR`: a TinyGPT run folder -> an inference export."""
    p = Parser(prog=prog, description=export_main.__doc__)
    p.add_argument("run", type=folder, help="folder with ckpt.npz, config.json and vocab.json")
    p.add_argument("--out", required=True,
                   help="export folder to write: new, empty, or an earlier export")
    args = p.parse_args(argv)
    if os.path.exists(args.out) and os.path.samefile(args.run, args.out):
        return fail(prog, f"--out {args.out} is the run folder itself; exporting there "
                          "would overwrite its config.json and vocab.json")
    try:
        model, tokenizer = load_for_serving(args.run)
        export(model, model.config, tokenizer, args.out)
    except ExportError as err:
        return fail(prog, str(err))
    except OSError as err:
        return fail(prog, f"cannot write {args.out}: {err}")
    print(f"exported to {args.out} (weights.npz, config.json, vocab.json)")
    return 0


# Each command's help text is in the course table (tt_setup's course.json), which the tinytorch
# command reads for its --help without importing this package.
_MAINS = {"profile": profile_main, "bench": bench_main, "serve": serve_main,
          "export": export_main}
COMMANDS = {name: (_MAINS[name], help_text)
            for name, help_text in course_table().module("tt-systems").commands}
