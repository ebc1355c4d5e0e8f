"""Text helpers for language modelling: reading UTF-8, windows shifted by one token."""

import numpy as np
import pytest
from tt_dataloader import DataLoader, TokenDataset, random_blocks, read_text


def test_read_text_reads_utf8(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_bytes("héllo wörld\n".encode("utf-8"))
    assert read_text(path) == "héllo wörld\n"


def test_read_text_names_the_file_on_bad_bytes(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("abc é".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1.txt.*byte 4"):
        read_text(path)


def test_random_blocks_are_windows_shifted_by_one():
    data = np.arange(100) * 3  # token at position i is 3i: positions are easy to recover
    x, y = random_blocks(data, block_size=8, batch_size=16, generator=np.random.default_rng(0))
    assert x.shape == y.shape == (16, 8) and x.dtype == y.dtype == np.int64
    starts = x.numpy()[:, 0] // 3
    positions = starts[:, None] + np.arange(8)
    assert np.array_equal(x.numpy(), data[positions])
    assert np.array_equal(y.numpy(), data[positions + 1])


def test_random_blocks_cover_every_start_and_stay_in_bounds():
    data, T = np.arange(11), 8  # valid starts: 0, 1, 2 (y must end at index <= 10)
    x, y = random_blocks(data, T, 300, generator=np.random.default_rng(1))
    assert set(x.numpy()[:, 0].tolist()) == {0, 1, 2}
    assert y.numpy().max() == 10


def test_random_blocks_are_deterministic_given_the_generator():
    data = np.arange(50)
    a = random_blocks(data, 4, 5, generator=np.random.default_rng(3))[0].numpy()
    b = random_blocks(data, 4, 5, generator=np.random.default_rng(3))[0].numpy()
    c = random_blocks(data, 4, 5, generator=np.random.default_rng(4))[0].numpy()
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_random_blocks_reject_short_data_and_int_seeds():
    with pytest.raises(ValueError, match="at least block_size \\+ 1 = 9 tokens, got 8"):
        random_blocks(np.arange(8), 8, 2)
    with pytest.raises(TypeError, match="Generator"):
        random_blocks(np.arange(20), 8, 2, generator=0)
    with pytest.raises(ValueError, match="1-D integer"):
        random_blocks(np.zeros((4, 5), np.int64), 2, 2)


def test_token_dataset_items_and_loader():
    data = np.arange(20) + 100
    dataset = TokenDataset(data, block_size=5)
    assert len(dataset) == 15
    x, y = dataset[3]
    assert np.array_equal(x, data[3:8]) and np.array_equal(y, data[4:9])
    firsts = []
    for xb, yb in DataLoader(dataset, batch_size=4, shuffle=True, seed=0):
        assert xb.shape[1] == 5 and np.array_equal(xb.numpy()[:, 1:], yb.numpy()[:, :-1])
        firsts.extend(xb.numpy()[:, 0].tolist())
    assert sorted(firsts) == (np.arange(15) + 100).tolist()  # every window once per epoch


def test_get_batch_refuses_starts_outside_the_stream():
    # documented: a start outside [0, N - T - 1] is an IndexError, never a wrap-around
    dataset = TokenDataset(np.arange(10), block_size=4)  # valid starts 0..5
    x, _ = dataset.get_batch(np.array([5]))
    assert x.tolist() == [[5, 6, 7, 8]]
    for bad in ([-1], [6], [0, 9]):
        with pytest.raises(IndexError, match=r"\[0, 5\]"):
            dataset.get_batch(np.array(bad))
