"""Contract tests for tt_generation: sampling filters, greedy, KV cache == recomputation."""

import warnings

import numpy as np
import pytest
from tt_tensor import is_grad_enabled
from tt_transformers import GPT, GPTConfig

from tt_generation import generate, sample_next, top_k_filter, top_p_filter

TINY = dict(block_size=12, vocab_size=9, n_layer=2, n_head=2, n_embd=16)


def np_softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.fixture(scope="module")
def model():
    np.random.seed(0)
    return GPT(GPTConfig(**TINY))


# --- filters and sampling ------------------------------------------------------------------
def test_top_k_filter_keeps_the_k_largest():
    logits = np.random.default_rng(0).standard_normal((4, 10))
    out = top_k_filter(logits, 3)
    for row, orig in zip(out, logits):
        kept = np.isfinite(row)
        assert kept.sum() == 3
        np.testing.assert_array_equal(np.sort(orig)[-3:], np.sort(row[kept]))
    np.testing.assert_array_equal(top_k_filter(logits, 10), logits)
    with pytest.raises(ValueError, match="top_k"):
        top_k_filter(logits, 0)


def test_top_p_filter_keeps_the_smallest_nucleus():
    logits = np.log(np.array([[0.5, 0.05, 0.3, 0.15]]))
    kept = lambda p: np.isfinite(top_p_filter(logits, p))[0].tolist()  # noqa: E731
    assert kept(0.5) == [True, False, False, False]        # 0.5 alone reaches 0.5
    assert kept(0.6) == [True, False, True, False]         # 0.5 + 0.3
    assert kept(0.85) == [True, False, True, True]         # 0.5 + 0.3 + 0.15 >= 0.85
    assert kept(1.0) == [True, True, True, True]
    assert kept(1e-9) == [True, False, False, False]       # the top token always survives
    with pytest.raises(ValueError, match="top_p"):
        top_p_filter(logits, 0.0)


def test_top_p_keeps_every_token_tied_with_the_least_likely_of_the_nucleus():
    kept = lambda probs, p: np.isfinite(top_p_filter(np.log([probs]), p))[0].tolist()  # noqa
    # each 0.2 has only 0.4 ahead of it, < 0.5: all kept, whatever their order
    assert kept([0.4, 0.2, 0.2, 0.2], 0.5) == [True, True, True, True]
    assert kept([0.2, 0.2, 0.4, 0.2], 0.5) == [True, True, True, True]
    assert kept([0.4, 0.2, 0.2, 0.2], 0.3) == [True, False, False, False]
    assert kept([0.3, 0.2, 0.3, 0.2], 0.1) == [True, False, True, False]  # a tie at the top


def test_top_p_filter_keeps_a_token_when_the_mass_strictly_ahead_of_it_is_below_p():
    rng = np.random.default_rng(8)
    logits = rng.integers(-2, 3, size=(6, 9)).astype(np.float64)   # many exact ties
    probs = np_softmax(logits)
    for p in rng.uniform(0.05, 0.95, size=8):
        ahead = np.array([[row[row > x].sum() for x in row] for row in probs])  # (B, V)
        out = top_p_filter(logits, p)
        np.testing.assert_array_equal(np.isfinite(out), ahead < p)
        np.testing.assert_array_equal(out[ahead < p], logits[ahead < p])  # kept unchanged
        perm = rng.permutation(9)                                   # order plays no part
        np.testing.assert_array_equal(top_p_filter(logits[:, perm], p), out[:, perm])


def test_top_p_of_one_keeps_every_token():
    # softmax([0, -50]) rounds to [1.0, 2e-22]: a running sum reaches 1 before the last token
    logits = np.array([[0.0, -50.0, 3.0, -60.0]])
    np.testing.assert_array_equal(top_p_filter(logits, 1.0), logits)
    np.testing.assert_array_equal(top_p_filter(logits, 1), logits)


@pytest.mark.parametrize("temperature,top_k,top_p", [(1.0, None, None), (0.7, 4, None),
                                                     (1.5, None, 0.8), (0.9, np.int64(5), 0.7)])
def test_sample_next_draws_by_inverse_cdf_with_one_uniform_per_row(temperature, top_k, top_p):
    logits = np.random.default_rng(9).standard_normal((50, 8)) * 2
    z = (logits - logits.max(-1, keepdims=True)) / temperature
    if top_k is not None:                          # the filters, in the documented order
        z = top_k_filter(z, top_k)
    if top_p is not None:
        z = top_p_filter(z, top_p)
    cdf = np.cumsum(np_softmax(z), axis=-1)
    u = np.random.default_rng(10).random(50) * cdf[:, -1]   # (B,): one uniform per row
    expected = np.array([np.searchsorted(row, x, side="right") for row, x in zip(cdf, u)])
    rng = np.random.default_rng(10)
    picks = sample_next(logits, temperature, top_k, top_p, rng)
    assert picks.dtype == np.int64 and picks.shape == (50,)
    np.testing.assert_array_equal(picks, expected)
    after = np.random.default_rng(10)
    after.random(50)
    assert rng.random() == after.random()          # exactly one rng.random(B) was used
    sample_next(logits, 0, rng=rng)                # greedy draws nothing
    assert rng.random() == after.random()


def test_greedy_is_argmax():
    logits = np.random.default_rng(1).standard_normal((5, 7))
    np.testing.assert_array_equal(sample_next(logits, temperature=0), logits.argmax(-1))


@pytest.mark.parametrize("top_k,top_p", [(1, None), (3, None), (None, 0.3), (None, 0.8),
                                         (4, 0.6)])
def test_sampling_never_picks_an_excluded_token(top_k, top_p):
    logits = np.random.default_rng(2).standard_normal((8, 20)) * 2
    allowed = np.ones_like(logits, dtype=bool)
    if top_k is not None:
        allowed &= np.isfinite(top_k_filter(logits, top_k))
    if top_p is not None:
        allowed &= np.isfinite(top_p_filter(np.where(allowed, logits, -np.inf), top_p))
    rows = np.arange(8)
    for seed in range(300):
        picks = sample_next(logits, 1.0, top_k, top_p, np.random.default_rng(seed))
        assert allowed[rows, picks].all(), f"seed {seed} picked an excluded token"


def test_sampling_frequencies_follow_softmax_over_temperature():
    logits = np.array([[1.0, 0.0, -1.0, 0.5]])
    rng = np.random.default_rng(3)
    n = 20000
    for temperature in (0.5, 1.0, 2.0):
        picks = np.concatenate([sample_next(np.repeat(logits, 100, 0), temperature, rng=rng)
                                for _ in range(n // 100)])
        freq = np.bincount(picks, minlength=4) / n
        expected = np_softmax(logits[0] / temperature)
        # 5 standard errors of a binomial proportion
        assert np.all(np.abs(freq - expected) < 5 * np.sqrt(expected * (1 - expected) / n))


def test_sample_next_errors():
    with pytest.raises(ValueError, match="temperature"):
        sample_next(np.zeros((1, 3)), temperature=-1)
    with pytest.raises(ValueError, match=r"\(B, V\)"):
        sample_next(np.zeros(3))


@pytest.mark.parametrize("temperature", [np.nan, np.inf, -np.inf, "0.5", None, True])
def test_temperature_must_be_a_finite_number(temperature, model):
    with pytest.raises(ValueError, match="temperature must be a finite number"):
        sample_next(np.zeros((1, 3)), temperature=temperature)
    with pytest.raises(ValueError, match="temperature must be a finite number"):
        generate(model, np.array([[1]]), 0, temperature=temperature)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_plus_inf_logits_are_errors_naming_the_position(bad):
    logits = np.zeros((2, 4))
    logits[1, 2] = bad
    with pytest.raises(ValueError, match=r"logits\[1, 2\] = (nan|inf)"):
        sample_next(logits, temperature=1.0)
    with pytest.raises(ValueError, match="NaN or \\+inf"):
        sample_next(logits, temperature=0)


def test_minus_inf_logits_are_never_picked_and_an_all_minus_inf_row_is_an_error():
    logits = np.random.default_rng(4).standard_normal((6, 5))
    logits[:, [0, 3]] = -np.inf
    for seed in range(50):
        picks = sample_next(logits, 1.0, rng=np.random.default_rng(seed))
        assert not np.isin(picks, [0, 3]).any()
    logits[2] = -np.inf
    with pytest.raises(ValueError, match="all -inf"):
        sample_next(logits, 1.0)


@pytest.mark.parametrize("temperature", [1e-320, 5e-324, 1e-300, 1e-30])
def test_a_temperature_that_underflows_is_greedy(temperature):
    # logits / 1e-320 overflows float64; the draw must still be the argmax of every row,
    # never token 0 by default.
    logits = np.random.default_rng(5).standard_normal((16, 11)) * 3
    logits[:, 0] = logits.min() - 1.0  # token 0 is the least likely everywhere
    for seed in range(5):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # and no overflow warning on the way
            picks = sample_next(logits, temperature, rng=np.random.default_rng(seed))
            np.testing.assert_array_equal(picks, logits.argmax(-1))
            picks = sample_next(logits, temperature, top_k=3, top_p=0.9,
                                rng=np.random.default_rng(seed))
            np.testing.assert_array_equal(picks, logits.argmax(-1))


def test_generate_with_an_underflowing_temperature_equals_greedy(model):
    prompt = np.array([[1, 2, 3]])
    np.testing.assert_array_equal(generate(model, prompt, 6, temperature=1e-320, seed=1).data,
                                  generate(model, prompt, 6, temperature=0).data)


# --- generate ------------------------------------------------------------------------------
def test_generate_extends_the_prompt(model):
    prompt = np.array([[1, 2, 3], [4, 5, 6]])
    out = generate(model, prompt, 5, seed=0)
    assert out.shape == (2, 8) and out.dtype == np.int64
    np.testing.assert_array_equal(out.data[:, :3], prompt)
    assert out.data.min() >= 0 and out.data.max() < TINY["vocab_size"]
    np.testing.assert_array_equal(generate(model, prompt, 5, seed=0).data, out.data)


@pytest.mark.parametrize("kwargs", [dict(temperature=0), dict(temperature=1.0, seed=5),
                                    dict(temperature=0.7, top_k=3, seed=6),
                                    dict(temperature=1.3, top_p=0.9, seed=7)])
def test_kv_cache_equals_recomputation_token_for_token(model, kwargs):
    prompt = np.array([[1, 7], [3, 0]])
    n = TINY["block_size"] - 2   # fills the context exactly
    cached = generate(model, prompt, n, use_cache=True, **kwargs).data
    recomputed = generate(model, prompt, n, use_cache=False, **kwargs).data
    np.testing.assert_array_equal(cached, recomputed)


def test_greedy_matches_a_hand_written_argmax_loop(model):
    tokens = np.array([[2, 4, 6]])
    out = generate(model, tokens, 6, temperature=0).data
    for _ in range(6):
        nxt = model(tokens).data[:, -1].argmax(-1)
        tokens = np.concatenate([tokens, nxt[:, None]], axis=1)
    np.testing.assert_array_equal(out, tokens)


def test_past_the_block_size_the_cache_restarts_at_half_a_block(model):
    # the documented window: when full, keep the last block_size // 2 tokens and refill
    block, n = TINY["block_size"], 20
    prompt = np.array([[1, 2, 3]])
    out = generate(model, prompt, n, temperature=0, use_cache=True).data
    tokens, start = prompt, 0
    for _ in range(n):
        if tokens.shape[1] - start > block:
            start = tokens.shape[1] - block // 2
        nxt = model(tokens[:, start:]).data[:, -1].argmax(-1)
        tokens = np.concatenate([tokens, nxt[:, None]], axis=1)
    np.testing.assert_array_equal(out, tokens)
    # without the cache: nanoGPT's sliding crop to the last block_size tokens
    slid = generate(model, prompt, n, temperature=0, use_cache=False).data
    tokens = prompt
    for _ in range(n):
        nxt = model(tokens[:, -block:]).data[:, -1].argmax(-1)
        tokens = np.concatenate([tokens, nxt[:, None]], axis=1)
    np.testing.assert_array_equal(slid, tokens)


def test_long_prompt_is_cropped_and_mode_is_restored(model):
    prompt = np.arange(30).reshape(1, 30) % TINY["vocab_size"]
    model.train()
    out = generate(model, prompt, 3, temperature=0)
    assert out.shape == (1, 33) and model.training and is_grad_enabled()
    assert out.grad_fn is None
    model.eval()
    generate(model, prompt, 1, temperature=0)
    assert not model.training
    model.train()


def test_generate_errors(model):
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        generate(model, np.array([1, 2]), 3)
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate(model, np.array([[1]]), -1)
    assert generate(model, np.array([[1]]), 0).shape == (1, 1)
