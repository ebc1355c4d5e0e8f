"""Choosing the next token from logits: temperature, top-k, top-p (nucleus), greedy.

Plain NumPy on (B, V) arrays: sampling happens outside the graph, under no_grad.
"""

import numpy as np


def top_k_filter(logits, k):
    """Set every logit below the k-th largest of its row to -inf. (B, V) -> (B, V).

    Ties with the k-th largest are kept, so a row may keep more than k tokens (as nanoGPT).
    """
    V = logits.shape[-1]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"top_k must be a positive int, got {k!r}")
    if k >= V:
        return logits
    ### BEGIN SOLUTION
    logits = np.asarray(logits)
    kth = np.sort(logits, axis=-1)[..., V - k, None]     # the k-th largest of each row
    return np.where(logits < kth, -np.inf, logits)       # ties with it stay
    ### END SOLUTION


def top_p_filter(logits, p):
    """Keep the smallest set of most likely tokens whose probability adds up to >= p.

    Holtzman et al. 2020 (nucleus sampling): a token is kept when the probability of the
    tokens more likely than it is < p, so the most likely token always survives.
    """
    if not 0.0 < p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {p!r}")
    ### BEGIN SOLUTION
    logits = np.asarray(logits, dtype=np.float64)
    if p >= 1.0:
        return logits        # every token: no rounding of the running sum may drop one
    probs = _softmax(logits)
    order = np.argsort(-probs, axis=-1, kind="stable")             # most likely first
    ranked = np.take_along_axis(probs, order, axis=-1)
    before = np.cumsum(ranked, axis=-1) - ranked                    # mass ranked before each
    # the mass strictly more likely than a token: a tie shares the mass before its group
    cols = np.arange(ranked.shape[-1])
    group_start = np.ones_like(ranked, dtype=bool)
    group_start[..., 1:] = ranked[..., 1:] != ranked[..., :-1]
    first = np.maximum.accumulate(np.where(group_start, cols, 0), axis=-1)
    more_likely = np.take_along_axis(before, first, axis=-1)
    keep_ranked = more_likely < p
    keep = np.empty_like(keep_ranked)
    np.put_along_axis(keep, order, keep_ranked, axis=-1)
    return np.where(keep, logits, -np.inf)
    ### END SOLUTION


def _softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _check_temperature(temperature):
    """`temperature` as a float, or ValueError unless it is a finite number >= 0."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.number)) \
            or not np.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
    return float(temperature)


def _check_logits(logits):
    """(B, V) float64 logits; NaN and +inf are errors, -inf marks a token that is never picked."""
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 2 or logits.shape[-1] == 0:
        raise ValueError(f"sample_next: expected logits of shape (B, V), got {logits.shape}")
    bad = np.isnan(logits) | (logits == np.inf)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"sample_next: logits must not be NaN or +inf: logits[{row}, {col}] "
                         f"= {logits[row, col]} ({int(bad.sum())} such values); check the model")
    if (logits == -np.inf).all(axis=-1).any():
        raise ValueError("sample_next: a row of logits is all -inf: no token can be picked")
    return logits


def sample_next(logits, temperature=1.0, top_k=None, top_p=None, rng=None):
    """One token id per row of logits (B, V): argmax when temperature == 0, else a draw from
    softmax(logits / temperature) restricted by top_k and top_p. Returns (B,) int64.

    A temperature so small that logits / temperature overflows is greedy too."""
    logits = _check_logits(logits)
    temperature = _check_temperature(temperature)
    if temperature == 0:
        return logits.argmax(axis=-1)  # greedy: the single most likely token
    rng = np.random.default_rng() if rng is None else rng
    ### BEGIN SOLUTION
    # shift first: the best token of each row is 0, every other <= 0, so dividing by a tiny
    # temperature can only push the others to -inf (probability 0), never overflow to +inf
    shifted = logits - logits.max(axis=-1, keepdims=True)
    with np.errstate(over="ignore"):
        scaled = shifted / temperature
    if top_k is not None:
        scaled = top_k_filter(scaled, top_k)
    if top_p is not None:
        scaled = top_p_filter(scaled, top_p)
    probs = _softmax(scaled)                       # excluded tokens: exactly 0
    cdf = np.cumsum(probs, axis=-1)
    u = rng.random(probs.shape[0]) * cdf[:, -1]    # in [0, total): the row's own total
    # inverse CDF: the first token whose cdf exceeds u; a zero-width token is never it
    picks = (cdf <= u[:, None]).sum(axis=-1)
    last = probs.shape[-1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=-1)   # last token with p > 0
    return np.minimum(picks, last).astype(np.int64)
    ### END SOLUTION
