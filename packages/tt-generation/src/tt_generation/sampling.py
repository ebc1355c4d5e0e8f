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
    kth = np.partition(logits, V - k, axis=-1)[..., V - k:V - k + 1]  # (B, 1): k-th largest
    return np.where(logits < kth, -np.inf, logits)
    ### END SOLUTION


def top_p_filter(logits, p):
    """Keep each token whose strictly more likely tokens add up to < p, the others -> -inf.

    Nucleus sampling (Holtzman et al. 2020), (B, V) -> (B, V), probabilities softmax(logits)
    per row: the smallest set of most likely tokens whose probability reaches p, plus every
    token tied with the least likely of them (ties kept, as by top_k_filter). The most
    likely token always survives.

    [0.4, 0.2, 0.2, 0.2] with p = 0.5 keeps all four: each 0.2 has only 0.4 ahead of it.
    p = 1 keeps every token (the code before the region returns the logits unchanged: a
    rounded running sum must not decide it).
    """
    if not 0.0 < p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {p!r}")
    if p == 1.0:
        return logits
    ### BEGIN SOLUTION
    probs = _softmax(logits)                                        # (B, V)
    ranked = -np.sort(-probs, axis=-1)                              # (B, V) most likely first
    mass = np.cumsum(ranked, axis=-1)                               # of the first j + 1
    # the nucleus: the first token, then each next one while the tokens before it are < p
    size = 1 + (mass[..., :-1] < p).sum(axis=-1, keepdims=True)     # (B, 1)
    cutoff = np.take_along_axis(ranked, size - 1, axis=-1)          # (B, 1): its least likely
    return np.where(probs < cutoff, -np.inf, logits)                # ties with it are kept
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
    if np.isfinite(logits).all():  # the usual case, one pass: no NaN, no inf of either sign
        return logits
    bad = np.isnan(logits) | (logits == np.inf)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"sample_next: logits must not be NaN or +inf: logits[{row}, {col}] "
                         f"= {logits[row, col]} ({int(bad.sum())} such values); check the model")
    if (logits == -np.inf).all(axis=-1).any():
        raise ValueError("sample_next: a row of logits is all -inf: no token can be picked")
    return logits


def sample_next(logits, temperature=1.0, top_k=None, top_p=None, rng=None):
    """One token id per row of logits (B, V), as (B,) int64: argmax when temperature == 0,
    else a draw from softmax(logits / temperature) restricted by top_k, then top_p.

    The draw (a seed gives the same text everywhere): u = rng.random(B), one call; a row's
    token is the first whose cumulative probability exceeds u times the row's total.

    The filters see logits / temperature (top_p measures the tempered, top-k-filtered
    probabilities). Divide after shifting each row by its max, so a temperature so small
    that the division overflows (1e-320) sends every other logit to -inf and the draw is
    the argmax; silence NumPy's overflow warning there (np.errstate(over="ignore")): the
    tests turn warnings into errors. The draw never picks a token of probability 0, even
    when u rounds to the total. The code before the region checked logits and temperature
    and made rng (a NumPy Generator); greedy draws nothing from it."""
    logits = _check_logits(logits)
    temperature = _check_temperature(temperature)
    if temperature == 0:
        return logits.argmax(axis=-1)  # greedy: the single most likely token
    rng = np.random.default_rng() if rng is None else rng
    ### BEGIN SOLUTION
    # Shift by the row max before dividing: the same distribution, but a tiny temperature
    # drives every other logit to -inf (probability 0) instead of overflowing to inf - inf.
    shifted = logits - logits.max(axis=-1, keepdims=True)              # (B, V), max is 0
    with np.errstate(over="ignore"):
        logits = shifted / temperature  # < 1 sharpens the distribution, > 1 flattens it
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    probs = _softmax(logits)           # excluded tokens have probability exactly 0
    # inverse CDF: the first token whose cumulative probability exceeds u ~ U(0, total)
    cdf = np.cumsum(probs, axis=-1)                                  # (B, V)
    u = rng.random(len(cdf))[:, None] * cdf[:, -1:]                   # (B, 1)
    choice = (cdf <= u).sum(axis=-1)                                  # (B,)
    last_allowed = probs.shape[-1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=-1)
    return np.minimum(choice, last_allowed).astype(np.int64)  # guard against rounding at 1
    ### END SOLUTION
