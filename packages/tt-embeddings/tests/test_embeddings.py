"""Contract tests for tt_embeddings: Embedding, positional encodings, CharTokenizer."""

import json

import numpy as np
import pytest
from tt_layers import Module
from tt_tensor import float64, tensor

from tt_embeddings import (
    CharTokenizer, Embedding, LearnedPositionalEncoding, SinusoidalPositionalEncoding, embedding,
    sinusoidal_positional_encoding,
)


# --- Embedding ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 4)])
def test_embedding_forward_is_a_row_lookup(shape):
    emb = Embedding(10, 6)
    ids = np.random.default_rng(0).integers(0, 10, size=shape)
    out = emb(ids)
    assert out.shape == shape + (6,)
    np.testing.assert_array_equal(out.data, emb.weight.data[ids])
    # and equal to one_hot(ids) @ W, the definition it avoids building
    one_hot = np.eye(10, dtype=np.float32)[ids]
    np.testing.assert_allclose(out.data, one_hot @ emb.weight.data, rtol=1e-6)


def test_embedding_lookup_is_the_getitem_primitive_on_the_weight():
    # Its gradient is then getitem's rule (scatter-add, repeats summed): test_gradients.py
    emb = Embedding(7, 3)
    ids = np.array([[1, 1, 4], [6, 1, 0]])
    out = emb(ids)
    assert out.grad_fn.op == "getitem"
    assert out.grad_fn.inputs[0] is emb.weight
    np.testing.assert_array_equal(out.grad_fn.attrs["index"], ids)


def test_embedding_init_is_standard_normal_and_registered():
    emb = Embedding(400, 250)
    w = emb.weight.data
    assert w.dtype == np.float32 and w.shape == (400, 250)
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1.0) < 0.01  # 100k samples: se ~ 0.003
    assert [name for name, _ in emb.named_parameters()] == ["weight"]
    assert isinstance(emb, Module)


def test_embedding_accepts_tensor_ids_and_dtype():
    emb = Embedding(4, 2, dtype=float64)
    out = emb(tensor([3, 0]))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.data, emb.weight.data[[3, 0]])


def test_embedding_errors_name_the_problem():
    emb = Embedding(5, 2)
    with pytest.raises(IndexError, match="index 5 .* 5 embeddings"):
        emb(np.array([0, 5]))
    with pytest.raises(IndexError, match="index -1"):
        emb(np.array([-1]))
    with pytest.raises(TypeError, match="integers.*float"):
        emb(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="num_embeddings"):
        Embedding(0, 3)
    with pytest.raises(ValueError, match="2-D"):
        embedding(np.array([0]), np.zeros(3))


# --- sinusoidal positional encoding -------------------------------------------------------
@pytest.mark.parametrize("T,C", [(1, 2), (9, 8), (50, 16), (7, 5)])
def test_sinusoidal_table_matches_the_formula(T, C):
    table = sinusoidal_positional_encoding(T, C).data
    assert table.shape == (T, C) and table.dtype == np.float32
    expected = np.zeros((T, C))
    for p in range(T):
        for j in range(C):
            angle = p / 10000 ** ((j - j % 2) / C)
            expected[p, j] = np.sin(angle) if j % 2 == 0 else np.cos(angle)
    np.testing.assert_allclose(table, expected, atol=1e-6)


def test_sinusoidal_shift_is_a_rotation_of_each_pair():
    # PE[p + k] = R(k w_i) PE[p] for every (sin, cos) pair: relative positions are linear
    C, k = 8, 3
    table = sinusoidal_positional_encoding(20, C, dtype=np.float64).data
    for i in range(C // 2):
        w = 10000 ** (-2 * i / C)
        c, s = np.cos(k * w), np.sin(k * w)
        sin_p, cos_p = table[:-k, 2 * i], table[:-k, 2 * i + 1]
        np.testing.assert_allclose(table[k:, 2 * i], sin_p * c + cos_p * s, atol=1e-12)
        np.testing.assert_allclose(table[k:, 2 * i + 1], cos_p * c - sin_p * s, atol=1e-12)


def test_sinusoidal_module_adds_the_table_at_an_offset():
    pe = SinusoidalPositionalEncoding(6, max_len=12)
    x = np.random.default_rng(1).standard_normal((2, 4, 6)).astype(np.float32)
    table = sinusoidal_positional_encoding(12, 6).data
    np.testing.assert_allclose(pe(x).data, x + table[:4], rtol=1e-6)
    np.testing.assert_allclose(pe(x, offset=5).data, x + table[5:9], rtol=1e-6)
    assert pe.state_dict() == {}            # recomputed from the sizes, not saved
    assert list(pe.parameters()) == []      # nothing to learn
    with pytest.raises(ValueError, match="positions 10..13 do not fit max_len 12"):
        pe(x, offset=10)
    with pytest.raises(ValueError, match=r"\(\*, T, 6\)"):
        pe(np.zeros((2, 4, 5), dtype=np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sinusoidal_module_output_has_the_dtype_of_its_input(dtype):
    pe = SinusoidalPositionalEncoding(4, max_len=6)
    assert pe.pe.dtype == np.float32                     # the buffer, until .double()
    x = np.random.default_rng(4).standard_normal((3, 5, 4)).astype(dtype)
    out = pe(tensor(x, dtype=dtype), offset=1)
    assert out.dtype == dtype
    table = sinusoidal_positional_encoding(6, 4).data    # float32, as the buffer
    np.testing.assert_array_equal(out.data, x + table[1:6].astype(dtype))


# --- learned positional encoding ----------------------------------------------------------
def test_learned_positional_encoding_adds_its_rows():
    lpe = LearnedPositionalEncoding(10, 4)
    assert [name for name, _ in lpe.named_parameters()] == ["weight"]
    assert lpe.weight.shape == (10, 4)
    x = np.ones((3, 5, 4), dtype=np.float32)
    np.testing.assert_allclose(lpe(x).data, x + lpe.weight.data[:5])
    np.testing.assert_allclose(lpe(x, offset=2).data, x + lpe.weight.data[2:7])
    with pytest.raises(ValueError, match="max_len 10"):
        lpe(np.ones((1, 11, 4), dtype=np.float32))


def test_learned_positional_init_is_small():
    w = LearnedPositionalEncoding(500, 200).weight.data
    assert abs(w.std() - 0.02) < 0.001 and abs(w.mean()) < 0.001


# --- CharTokenizer ------------------------------------------------------------------------
TEXTS = ["hello world", "First Citizen:\nBefore we proceed any further, hear me speak.",
         "unicode: café — naïve ∑ 😀", "a"]


@pytest.mark.parametrize("text", TEXTS)
def test_tokenizer_round_trip(text):
    tok = CharTokenizer.from_text(text)
    ids = tok.encode(text)
    assert len(ids) == len(text)
    assert all(0 <= i < tok.vocab_size for i in ids)
    assert tok.decode(ids) == text
    assert tok.decode(np.array(ids)) == text          # ndarrays and tensors decode too
    assert tok.decode(tensor(ids)) == text


def test_tokenizer_vocabulary_is_sorted_distinct_characters():
    tok = CharTokenizer.from_text("banana!")  # from_text alone: no encode or decode
    assert tok.chars == sorted(set("banana!"))
    assert tok.vocab_size == len(tok) == 4


def test_encode_gives_each_characters_index_in_the_vocabulary():
    tok = CharTokenizer("!abn")
    assert tok.encode("banana!") == [2, 1, 3, 1, 3, 1, 0]


def test_unknown_character_names_it_and_its_position():
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match=r"character 'z' at position 3"):
        tok.encode("abcz")
    with pytest.raises(ValueError, match="id 3 at position 1"):
        tok.decode([0, 3])


def test_decode_accepts_numpy_integers_and_returns_what_encode_read():
    tok = CharTokenizer.from_text("abc")
    ids = tok.encode("cab")
    assert all(type(i) is int for i in ids)             # Python ints, not NumPy scalars
    assert tok.decode([np.int64(2), np.int32(0), np.uint8(1)]) == "cab"
    assert tok.decode(tuple(ids)) == "cab"
    for dtype in (np.int8, np.int32, np.uint16):
        assert tok.decode(np.array(ids, dtype=dtype)) == "cab"
    assert tok.decode([]) == ""


@pytest.mark.parametrize("ids", [np.array([0.9, 2.7]), np.array([0.0, 2.0]), [0, 1.0],
                                 [np.float64(1.0)], [True, 0], np.array([True, False])])
def test_decode_refuses_ids_that_are_not_integers(ids):
    # int() would truncate 0.9 to 0 and 2.7 to 2 and decode text that nobody wrote
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(TypeError, match="CharTokenizer.decode: ids must be integers"):
        tok.decode(ids)
    if isinstance(ids, np.ndarray):                      # and the same ids as a Tensor
        with pytest.raises(TypeError, match="ids must be integers"):
            tok.decode(tensor(ids))


def test_decode_refuses_an_array_that_is_not_1d():
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match=r"1-D sequence of ids, got shape \(2, 1\)"):
        tok.decode(np.array([[0], [1]]))


def test_tokenizer_rejects_bad_vocabularies():
    with pytest.raises(ValueError, match="repeats"):
        CharTokenizer("aba")
    with pytest.raises(ValueError, match="single characters"):
        CharTokenizer(["ab", "c"])
    with pytest.raises(ValueError, match="empty"):
        CharTokenizer.from_text("")


def test_tokenizer_save_load_round_trip(tmp_path):
    tok = CharTokenizer.from_text(TEXTS[2] + TEXTS[1])
    path = tmp_path / "run" / "vocab.json"
    tok.save(path)
    assert [p.name for p in path.parent.iterdir()] == ["vocab.json"]  # no temp file left
    loaded = CharTokenizer.load(path)
    assert loaded.chars == tok.chars
    assert loaded.decode(tok.encode(TEXTS[2])) == TEXTS[2]
    assert json.loads(path.read_text())["chars"] == "".join(tok.chars)


def test_tokenizer_load_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        CharTokenizer.load(bad)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="other.json"):
        CharTokenizer.load(other)
    with pytest.raises(FileNotFoundError, match="missing.json"):
        CharTokenizer.load(tmp_path / "missing.json")
