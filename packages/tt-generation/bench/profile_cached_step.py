"""Where a KV-cached token's time goes: ops per step, CPU time per token, a cProfile by own time.

    OPENBLAS_NUM_THREADS=1 python packages/tt-generation/bench/profile_cached_step.py [TOP]

The default TinyGPT shape (4 layers, 4 heads, 128 wide, block 64), untrained, seed 0; greedy
generation of 200 tokens from a one-token prompt after 20 warm-up tokens. Prints the ops of one
cached step by kind (an op hook), the CPU time per token (the least of 3 runs, so that other jobs
on the machine show less), the function calls per token (exact, from the profile: they do not
depend on the machine's load), the own time of each package and the TOP functions (default 25).
Own time under cProfile overstates functions called very often (the profiler's cost per call);
NumPy's ufunc calls (np.matmul, np.add) are not profiled apart, so their arithmetic counts in
the own time of the Python function that calls them.
"""

import collections
import cProfile
import pstats
import sys
import time

import numpy as np
import tt_tensor as tt
from tt_attention import KVCache
from tt_generation import generate
from tt_transformers import GPT, GPTConfig

TOKENS = 200


def ops_of_one_step(model):
    """{op name: count} of one cached step after 10 cached positions."""
    caches = [KVCache() for _ in range(model.config.n_layer)]
    kinds = collections.Counter()
    model.eval()
    with tt.no_grad():
        model(np.zeros((1, 10), dtype=np.int64), kv_cache=caches)
        with tt.add_op_hook(lambda event: kinds.update([event.op])):
            model(np.zeros((1, 1), dtype=np.int64), kv_cache=caches)
    return kinds


def package(file):
    if "/src/" in file:
        return file.split("/src/")[-1].split("/")[0]
    return "C functions (NumPy, builtins)" if file == "~" else "other Python"


def main(top=25):
    np.random.seed(0)
    model = GPT(GPTConfig(block_size=64, vocab_size=65, n_layer=4, n_head=4, n_embd=128))
    prompt = np.zeros((1, 1), dtype=np.int64)
    run = lambda: generate(model, prompt, TOKENS, temperature=0)  # noqa: E731
    generate(model, prompt, 20, temperature=0)  # warm-up
    kinds = ops_of_one_step(model)
    n_ops = sum(kinds.values())
    print(f"tt_tensor ops per cached step: {n_ops}", dict(kinds.most_common()))
    cpu = []
    for _ in range(3):
        start = time.process_time()
        run()
        cpu.append(time.process_time() - start)
    per_token = min(cpu) / TOKENS
    print(f"CPU time per token (least of 3 runs): {per_token * 1e6:.0f} us, "
          f"{per_token / n_ops * 1e6:.2f} us per op, {1 / per_token:.0f} tokens/s")
    profile = cProfile.Profile()
    profile.enable()
    run()
    profile.disable()
    stats = pstats.Stats(profile).stats
    total = sum(v[2] for v in stats.values())
    calls = collections.Counter()
    own = collections.Counter()
    for (file, _line, _name), (_cc, count, own_time, _cum, _callers) in stats.items():
        calls[package(file)] += count
        own[package(file)] += own_time
    print(f"function calls per token: {sum(calls.values()) / TOKENS:.0f}, by package:",
          {k: round(v / TOKENS) for k, v in calls.most_common()})
    print("own time by package, % of the profiled time:")
    for name, seconds in own.most_common():
        print(f"{seconds / total * 100:6.1f}  {name}")
    print(f"{'own %':>6} {'calls/token':>11}  function")
    rows = sorted(((v[2], v[1], k) for k, v in stats.items()), reverse=True)
    for own_time, count, (file, line, name) in rows[:top]:
        where = file.split("/src/")[-1] if "/src/" in file else file.split("/")[-1]
        print(f"{own_time / total * 100:6.1f} {count / TOKENS:11.1f}  {where}:{line}({name})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 25)
