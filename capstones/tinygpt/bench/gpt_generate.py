"""Benchmark `gpt-generate`: 500 new tokens from the TinyGPT model, KV cache vs recomputation.

Batch 1, the nanoGPT Shakespeare-char CPU shape (block 64), greedy so both paths do the same
work. "recompute" runs the whole (cropped) context every step, as nanoGPT's generate does;
"kv-cache" feeds one token per step (and refills the cache from half a block when full).
When `import torch` works, a second case runs the same model (the same weights, copied into
torch_equivalence.py's transcription of nanoGPT) in PyTorch with the same cache policy, and
TinyTorch's cached generation is compared with it; both must produce the same tokens (the note
says whether they did).
Run it through the runner: `python bench/run.py gpt-generate`.
"""

import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

CASE = "500 new tokens, B 1, 4L 4H 128C, block 64"
CASE_VS_TORCH = "500 new tokens with a KV cache, TinyTorch vs PyTorch"
BASELINE = "recompute"
TORCH_CACHED = "torch kv-cache"
NEW_TOKENS = 500


def _timed(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - start) * 1e3)
    return np.array(times), out


def _row(case, impl, times, **extra):
    median = float(np.median(times))
    return {"case": case, "impl": impl, "steps": len(times), "median_ms": median,
            "p10_ms": float(np.percentile(times, 10)), "p90_ms": float(np.percentile(times, 90)),
            "note": f"{NEW_TOKENS / median * 1e3:.0f} tokens/s", **extra}


def torch_cached_generate(model, prompt, new_tokens, block):
    """Greedy generation in PyTorch with a per-layer (k, v) cache, tt_generation's policy:
    one token a step; when the window would exceed `block`, refill from the last block // 2."""
    import torch
    import torch.nn.functional as F

    tokens, cache, start = prompt, None, 0
    with torch.no_grad():
        for _ in range(new_tokens):
            T = tokens.shape[1]
            if cache is None or T - start > block:
                start = max(0, T - block) if cache is None else T - block // 2
                cache = [None] * len(model.h)
                feed = tokens[:, start:]
            else:
                feed = tokens[:, -1:]
            B, n = feed.shape
            past = 0 if cache[0] is None else cache[0][0].shape[2]
            x = model.wte(feed) + model.wpe(torch.arange(past, past + n))
            for i, blk in enumerate(model.h):
                C = x.shape[-1]
                q, k, v = blk.c_attn(blk.ln_1(x)).split(C, dim=2)
                q, k, v = [z.view(B, n, blk.H, C // blk.H).transpose(1, 2) for z in (q, k, v)]
                if cache[i] is not None:
                    k, v = torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)
                cache[i] = (k, v)
                # a prefill is causal; one new token may see the whole cache
                y = F.scaled_dot_product_attention(q, k, v, is_causal=past == 0 and n > 1)
                x = x + blk.attn_proj(y.transpose(1, 2).reshape(B, n, C))
                x = x + blk.c_proj(F.gelu(blk.c_fc(blk.ln_2(x)), approximate=blk.gelu))
            logits = model.ln_f(x) @ model.wte.weight.T          # (B, n, V), as TinyGPT does
            tokens = torch.cat([tokens, logits[:, -1].argmax(-1, keepdim=True)], 1)
    return tokens


def run(steps=200, warmup=20):
    from tt_generation import generate
    from tt_transformers import GPT, GPTConfig

    np.random.seed(0)
    config = GPTConfig(block_size=64, vocab_size=65, n_layer=4, n_head=4, n_embd=128)
    model = GPT(config)
    prompt = np.zeros((1, 1), dtype=np.int64)
    repeats = max(1, min(steps // 40, 5))  # each repeat is 500 forward passes
    rows, ours = [], None
    for impl, use_cache in (("recompute", False), ("kv-cache", True)):
        times, out = _timed(lambda: generate(model, prompt, NEW_TOKENS, temperature=0,
                                             use_cache=use_cache), repeats)
        rows.append(_row(CASE, impl, times))
        if use_cache:
            rows.append(_row(CASE_VS_TORCH, "tinytorch kv-cache", times, baseline=TORCH_CACHED))
            ours = out.numpy()
    if importlib.util.find_spec("torch") is not None:
        import torch

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from torch_equivalence import TorchGPT, copy_weights

        theirs = TorchGPT(config).eval()
        copy_weights(model, theirs)
        times, out = _timed(lambda: torch_cached_generate(
            theirs, torch.from_numpy(prompt), NEW_TOKENS, config.block_size), repeats)
        same = bool(np.array_equal(out.numpy(), ours))
        row = _row(CASE_VS_TORCH, TORCH_CACHED, times, baseline=TORCH_CACHED)
        row["note"] += f"; torch {torch.__version__}; same tokens as TinyTorch: {same}"
        rows.append(row)
    return rows
