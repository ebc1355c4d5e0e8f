"""Autoregressive generation: predict, pick, append, repeat; with or without a KV cache."""

import numpy as np
from tt_attention import KVCache
from tt_tensor import Tensor, from_numpy, no_grad

from .sampling import _check_temperature, sample_next


def _as_ids(idx):
    data = idx.data if isinstance(idx, Tensor) else np.asarray(idx)
    if data.dtype.kind not in "iu" or data.ndim != 2 or data.shape[1] == 0:
        raise ValueError(f"generate: idx must be integer token ids of shape (B, T) with T >= 1,"
                         f" got dtype {data.dtype} shape {data.shape}")
    return data.astype(np.int64)


def _rng(seed):
    """A Generator from `seed`; None draws one seed from NumPy's global RNG (seed_everything)."""
    if seed is None:
        seed = int(np.random.randint(0, 2**32, dtype=np.int64))
    return np.random.default_rng(seed)


def generate(model, idx, max_new_tokens, temperature=1.0, top_k=None, top_p=None, seed=None,
             use_cache=True):
    """Extend idx (B, T) by max_new_tokens sampled tokens; returns an int64 Tensor (B, T + N).

    temperature 0 is greedy (argmax); top_k / top_p restrict the draw (see sample_next).
    model(ids, kv_cache=...) must give logits (B, T, V) and model.config must have block_size
    and n_layer (tt_transformers.GPT does). The model runs in eval mode under no_grad.

    use_cache=False recomputes every step on the last block_size tokens (nanoGPT). With the
    cache, each step feeds one token; once the window would exceed block_size, the cache is
    rebuilt from the last block_size // 2 tokens (learned positions are absolute, so a cache
    cannot slide). Both agree token for token while T + N <= block_size.
    """
    tokens = _as_ids(idx)
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, (int, np.integer)) \
            or max_new_tokens < 0:
        raise ValueError(f"generate: max_new_tokens must be a non-negative int, "
                         f"got {max_new_tokens!r}")
    _check_temperature(temperature)  # before any work: NaN/inf fail even for 0 new tokens
    rng = _rng(seed)
    next_logits = _cached_steps(model) if use_cache else _recompute_steps(model)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            ### BEGIN SOLUTION
            for _ in range(max_new_tokens):
                logits = next_logits(tokens)                          # (B, V)
                nxt = sample_next(logits, temperature, top_k, top_p, rng)  # (B,)
                tokens = np.concatenate([tokens, nxt[:, None]], axis=1)   # (B, T + 1)
            return from_numpy(tokens)                                     # (B, T + N)
            ### END SOLUTION
    finally:
        model.train(was_training)


def _recompute_steps(model):
    """next_logits(tokens): a full forward over the last block_size tokens, every step."""
    block = model.config.block_size

    def next_logits(tokens):
        return model(tokens[:, -block:]).data[:, -1, :]  # (B, V): the last position only

    return next_logits


def _cached_steps(model):
    """next_logits(tokens) that feeds only the newest token through a per-layer KV cache.

    The cached window is tokens[:, start:]. It starts at the prompt (cropped to block_size);
    when one more token would overflow block_size, the window restarts at the last
    block_size // 2 tokens, the newest one included, and the cache is refilled from them in
    one forward (a "prefill").
    """
    block, n_layer = model.config.block_size, model.config.n_layer
    state = {"cache": None, "start": 0}

    def next_logits(tokens):
        """The logits of the token that follows `tokens`: a float ndarray (B, V), the model's
        output at the last position (what model(tokens[:, -block:]).data[:, -1] gives).

        tokens (B, T) int64 is the whole sequence so far, one token longer than at the previous
        call (the first call gets the prompt). Feed the model only what the caches in
        state["cache"] (one KVCache per layer) have not seen: the newest token; or, on the first
        call and when the window tokens[:, state["start"]:] would exceed block_size, new caches
        and a window restarted at max(0, T - block) (first call) or T - block // 2 (overflow),
        fed whole. T counts the newest token, so a restarted window is the last block // 2
        tokens with the newest among them. Update state["start"] and state["cache"].
        """
        ### BEGIN SOLUTION
        T = tokens.shape[1]
        if state["cache"] is None or T - state["start"] > block:
            state["start"] = max(0, T - block) if state["cache"] is None else T - block // 2
            state["cache"] = [KVCache() for _ in range(n_layer)]
            feed = tokens[:, state["start"]:]                 # prefill the whole window
        else:
            feed = tokens[:, -1:]                             # only the newest token
        return model(feed, kv_cache=state["cache"]).data[:, -1, :]  # (B, V)
        ### END SOLUTION

    return next_logits
