"""Benchmark `gpt-generate`: 500 new tokens from the TinyGPT model, KV cache vs recomputation.

Batch 1, the nanoGPT Shakespeare-char CPU shape (block 64), greedy so both paths do the same
work. "recompute" runs the whole (cropped) context every step, as nanoGPT's generate does;
"kv-cache" feeds one token per step (and refills the cache from half a block when full).
Run it through the runner: `python bench/run.py gpt-generate`.
"""

import time

import numpy as np

CASE = "500 new tokens, B 1, 4L 4H 128C, block 64"
BASELINE = "recompute"
NEW_TOKENS = 500


def run(steps=200, warmup=20):
    from tt_generation import generate
    from tt_transformers import GPT, GPTConfig

    np.random.seed(0)
    model = GPT(GPTConfig(block_size=64, vocab_size=65, n_layer=4, n_head=4, n_embd=128))
    prompt = np.zeros((1, 1), dtype=np.int64)
    repeats = max(1, min(steps // 40, 5))  # each repeat is 500 forward passes
    rows = []
    for impl, use_cache in (("recompute", False), ("kv-cache", True)):
        generate(model, prompt, 20, temperature=0, use_cache=use_cache)  # warm up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            generate(model, prompt, NEW_TOKENS, temperature=0, use_cache=use_cache)
            times.append((time.perf_counter() - start) * 1e3)
        median = float(np.median(times))
        rows.append({"case": CASE, "impl": impl, "steps": repeats, "median_ms": median,
                     "p10_ms": float(np.percentile(times, 10)),
                     "p90_ms": float(np.percentile(times, 90)),
                     "note": f"{NEW_TOKENS / median * 1e3:.0f} tokens/s"})
    return rows
