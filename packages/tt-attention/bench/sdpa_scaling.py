"""How scaled_dot_product_attention scales with the sequence length T (the README's table).

    OPENBLAS_NUM_THREADS=1 python packages/tt-attention/bench/sdpa_scaling.py

For B = 1, H = 4, D = 32 (TinyGPT's head shape), causal: the median time of forward and of
forward + backward, and the size of the (B, H, T, T) attention-weight matrix, which forward
keeps alive for backward. Doubling T should roughly quadruple both once T^2 dominates.
"""

import time

import numpy as np
from tt_tensor import no_grad, tensor

from tt_attention import scaled_dot_product_attention

B, H, D = 1, 4, 32


def median_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return float(np.median(times))


def main():
    rng = np.random.default_rng(0)
    print("| T | forward ms | forward + backward ms | weights (B,H,T,T) float32 |")
    print("|---:|---:|---:|---:|")
    for T in (64, 128, 256, 512, 1024):
        q, k, v = (tensor(rng.standard_normal((B, H, T, D)), requires_grad=True)
                   for _ in range(3))
        repeats = max(3, 2000 // T)

        def forward():
            with no_grad():
                scaled_dot_product_attention(q, k, v, is_causal=True)

        def both():
            out = scaled_dot_product_attention(q, k, v, is_causal=True)
            out.backward(np.ones(out.shape, dtype=np.float32))

        mib = B * H * T * T * 4 / 2**20
        print(f"| {T} | {median_ms(forward, repeats):.2f} | {median_ms(both, repeats):.2f} | "
              f"{mib:.2f} MiB |")


if __name__ == "__main__":
    main()
