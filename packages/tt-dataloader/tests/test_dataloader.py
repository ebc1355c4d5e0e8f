"""DataLoader: coverage of every sample, order, determinism, batching paths, checkpointed state."""

import json

import numpy as np
import pytest
from tt_dataloader import DataLoader, Dataset, TensorDataset, default_collate
from tt_tensor import Tensor, tensor


def indices_dataset(n):
    """A TensorDataset whose sample i is the number i: batches show the order directly."""
    return TensorDataset(np.arange(n))


def epoch_order(loader):
    return np.concatenate([batch.numpy() for (batch,) in loader])


class ListDataset(Dataset):
    """A plain Dataset (no get_batch) that counts __getitem__ calls."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        self.calls += 1
        return np.full((2, 3), float(index)), index


class BatchDataset(ListDataset):
    """The same samples, plus get_batch: the loader must use it and never __getitem__."""

    def __init__(self, n):
        super().__init__(n)
        self.batch_calls = 0

    def get_batch(self, indices):
        self.batch_calls += 1
        values = indices.astype(np.float64)
        return np.broadcast_to(values[:, None, None], (len(indices), 2, 3)).copy(), indices


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("n, batch_size", [(10, 4), (12, 4), (5, 8), (1, 1)])
def test_every_sample_exactly_once_per_epoch(shuffle, n, batch_size):
    loader = DataLoader(indices_dataset(n), batch_size=batch_size, shuffle=shuffle, seed=3)
    for _ in range(3):
        assert np.array_equal(np.sort(epoch_order(loader)), np.arange(n))


def test_without_shuffle_the_order_is_the_dataset_order():
    assert np.array_equal(epoch_order(DataLoader(indices_dataset(11), 3)), np.arange(11))


def test_same_seed_same_orders_and_epochs_differ():
    a = DataLoader(indices_dataset(50), 8, shuffle=True, seed=7)
    b = DataLoader(indices_dataset(50), 8, shuffle=True, seed=7)
    orders_a = [epoch_order(a) for _ in range(3)]
    orders_b = [epoch_order(b) for _ in range(3)]
    for x, y in zip(orders_a, orders_b):
        assert np.array_equal(x, y)
    assert not np.array_equal(orders_a[0], orders_a[1])
    assert not np.array_equal(orders_a[0], np.arange(50))


def test_different_seeds_give_different_orders():
    a = epoch_order(DataLoader(indices_dataset(50), 8, shuffle=True, seed=1))
    b = epoch_order(DataLoader(indices_dataset(50), 8, shuffle=True, seed=2))
    assert not np.array_equal(a, b)


def test_order_is_independent_of_the_global_rng():
    np.random.seed(0)
    a = DataLoader(indices_dataset(40), 8, shuffle=True, seed=5)
    np.random.seed(123)
    b = DataLoader(indices_dataset(40), 8, shuffle=True, seed=5)
    first = epoch_order(a)
    np.random.random(10)  # moving the global RNG between epochs changes nothing
    assert np.array_equal(first, epoch_order(b))
    _, keys, position, *_ = np.random.get_state()
    epoch_order(a)
    _, keys_after, position_after, *_ = np.random.get_state()
    assert np.array_equal(keys, keys_after) and position == position_after, \
        "iterating the loader consumed NumPy's global RNG"


def test_seed_none_follows_the_global_seed():
    np.random.seed(9)
    a = epoch_order(DataLoader(indices_dataset(30), 4, shuffle=True))
    np.random.seed(9)
    b = epoch_order(DataLoader(indices_dataset(30), 4, shuffle=True))
    assert np.array_equal(a, b)


def test_last_partial_batch_and_len():
    loader = DataLoader(indices_dataset(10), batch_size=4)
    assert [len(x) for (x,) in loader] == [4, 4, 2]
    assert len(loader) == 3 == -(-10 // 4)


def test_drop_last():
    loader = DataLoader(indices_dataset(10), batch_size=4, shuffle=True, drop_last=True, seed=0)
    sizes, seen = [], []
    for (x,) in loader:
        sizes.append(len(x))
        seen.extend(x.tolist())
    assert sizes == [4, 4] and len(loader) == 10 // 4
    assert len(set(seen)) == 8


def test_drop_last_with_fewer_samples_than_a_batch_yields_nothing():
    loader = DataLoader(indices_dataset(3), batch_size=4, drop_last=True)
    assert len(loader) == 0 and list(loader) == []


def test_batches_are_tensors_float32_and_int64():
    images = np.random.default_rng(0).random((6, 3, 4, 4))  # float64 on purpose
    labels = np.arange(6, dtype=np.int32)
    x, y = next(iter(DataLoader(TensorDataset(images, labels), batch_size=4)))
    assert isinstance(x, Tensor) and isinstance(y, Tensor)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert np.allclose(x.numpy(), images[:4].astype(np.float32))
    assert np.array_equal(y.numpy(), labels[:4])


def test_array_datasets_use_one_get_batch_call_per_batch():
    dataset = BatchDataset(10)
    loader = DataLoader(dataset, batch_size=4, shuffle=True, seed=0)
    assert loader.uses_batch_access
    for x, y in loader:
        assert np.array_equal(x.numpy()[:, 0, 0], y.numpy().astype(np.float32))
    assert dataset.batch_calls == 3 and dataset.calls == 0


def test_generic_datasets_go_through_getitem_and_default_collate():
    dataset = ListDataset(7)
    loader = DataLoader(dataset, batch_size=3, shuffle=True, seed=4)
    assert not loader.uses_batch_access
    labels = []
    for x, y in loader:
        assert x.shape == (len(y), 2, 3) and x.dtype == np.float32 and y.dtype == np.int64
        assert np.array_equal(x.numpy(), np.broadcast_to(y.numpy()[:, None, None], x.shape))
        labels.extend(y.tolist())
    assert sorted(labels) == list(range(7)) and dataset.calls == 7


def test_a_custom_collate_fn_gets_the_list_of_samples():
    received = []

    def collate(samples):
        received.append(len(samples))
        return np.stack([s[0] for s in samples]).sum()

    loader = DataLoader(BatchDataset(5), batch_size=2, collate_fn=collate)
    assert not loader.uses_batch_access
    totals = list(loader)
    assert received == [2, 2, 1]
    assert [float(t) for t in totals] == [6 * (0 + 1), 6 * (2 + 3), 6 * 4]


def test_default_collate_stacks_numbers_arrays_tensors_and_tuples():
    samples = [(np.ones(3) * i, i, tensor([float(i), 2.0 * i])) for i in range(4)]
    x, y, z = default_collate(samples)
    assert np.array_equal(x.numpy(), np.arange(4)[:, None] * np.ones((4, 3)))
    assert y.dtype == np.int64 and np.array_equal(y.numpy(), np.arange(4))
    assert np.array_equal(z.numpy(), np.stack([np.arange(4), 2 * np.arange(4)], axis=1))


def test_default_collate_names_mismatched_shapes():
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        default_collate([np.zeros(3), np.zeros(4)])


def test_the_order_is_one_permutation_call_per_epoch():
    # documented: shuffling calls generator.permutation(N) once per epoch, nothing else, so a
    # saved generator state gives the same order on every implementation
    loader = DataLoader(indices_dataset(23), 4, shuffle=True, seed=5)
    reference = np.random.default_rng(5)
    for _ in range(3):
        assert epoch_order(loader).tolist() == reference.permutation(23).tolist()


def test_state_dict_at_an_epoch_boundary_reproduces_the_next_epoch():
    a = DataLoader(indices_dataset(37), 5, shuffle=True, seed=11)
    epoch_order(a)
    state = json.loads(json.dumps(a.state_dict()))  # it must survive a JSON checkpoint
    expected = [epoch_order(a), epoch_order(a)]
    b = DataLoader(indices_dataset(37), 5, shuffle=True, seed=999)
    b.load_state_dict(state)
    assert b.epoch == 1
    for order in expected:
        assert np.array_equal(epoch_order(b), order)


def test_state_dict_mid_epoch_resumes_with_the_remaining_batches():
    a = DataLoader(indices_dataset(23), 4, shuffle=True, seed=2)
    epoch_order(a)
    iterator = iter(a)
    next(iterator), next(iterator)
    state = json.loads(json.dumps(a.state_dict()))
    rest = [x.numpy() for (x,) in iterator]
    following = epoch_order(a)
    b = DataLoader(indices_dataset(23), 4, shuffle=True, seed=0)
    b.load_state_dict(state)
    resumed = [x.numpy() for (x,) in b]
    assert len(resumed) == len(rest) == len(a) - 2
    for got, want in zip(resumed, rest):
        assert np.array_equal(got, want)
    assert np.array_equal(epoch_order(b), following)
    assert a.epoch == b.epoch == 3


def test_load_state_dict_names_missing_keys():
    loader = DataLoader(indices_dataset(4), 2, shuffle=True, seed=0)
    with pytest.raises(ValueError, match="generator"):
        loader.load_state_dict({"epoch": 1, "batch": 0})
    with pytest.raises(ValueError, match="batch 9"):
        loader.load_state_dict({**loader.state_dict(), "batch": 9})


def test_bad_batch_size_is_rejected():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(indices_dataset(4), batch_size=0)


def test_dataset_is_abstract():
    with pytest.raises(TypeError):
        Dataset()


def test_tensor_dataset_rows_and_shape_check():
    images, labels = tensor(np.arange(12.0).reshape(4, 3)), np.arange(4)
    dataset = TensorDataset(images, labels)
    assert len(dataset) == 4
    row, label = dataset[2]
    assert np.array_equal(row, images.numpy()[2]) and label == 2
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(5,\)"):
        TensorDataset(images, np.arange(5))
