"""system_info() describes the machine; seed_everything() makes random draws repeatable."""

import sys
import random

import numpy as np
import pytest

from tt_setup import seed_everything, system_info


def draws(rng):
    return random.random(), np.random.rand(3), rng.normal(size=3)


def test_seeding_reproduces_every_generator():
    first = draws(seed_everything(1234))
    second = draws(seed_everything(1234))
    assert first[0] == second[0]
    np.testing.assert_array_equal(first[1], second[1])
    np.testing.assert_array_equal(first[2], second[2])


def test_seeding_returns_a_generator_seeded_like_default_rng():
    rng = seed_everything(7)
    assert isinstance(rng, np.random.Generator)
    np.testing.assert_array_equal(rng.random(4), np.random.default_rng(7).random(4))


def test_different_seeds_give_different_numbers():
    a = draws(seed_everything(1))
    b = draws(seed_everything(2))
    assert a[0] != b[0]
    assert not np.array_equal(a[1], b[1])


@pytest.mark.parametrize("seed", [np.int64(1234), np.uint32(1234), np.int16(1234)])
def test_a_numpy_integer_seeds_like_the_same_int(seed):
    """random.seed refuses NumPy integers on Python >= 3.11: the seed goes on as an int."""
    expected = draws(seed_everything(1234))
    got = draws(seed_everything(seed))
    assert got[0] == expected[0]
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_array_equal(got[2], expected[2])


@pytest.mark.parametrize("seed", [-1, 2**32, np.int64(-5), np.uint64(2**32)])
def test_seed_out_of_range_names_the_value(seed):
    with pytest.raises(ValueError, match=str(seed)):
        seed_everything(seed)


@pytest.mark.parametrize("seed", ["42", 4.2, None, True])
def test_seed_must_be_an_int(seed):
    with pytest.raises(TypeError, match="seed must be an int"):
        seed_everything(seed)


def test_system_info_keys_and_types():
    info = system_info()
    expected = {"python_version": str, "python_implementation": str, "python_executable": str,
                "platform": str, "machine": str, "numpy_version": str, "blas": str,
                "lapack": str, "cpu_count": int, "usable_cpus": int, "threads": dict}
    assert set(info) == set(expected)
    for key, kind in expected.items():
        assert isinstance(info[key], kind), key


def test_system_info_reports_this_interpreter_and_numpy():
    info = system_info()
    assert info["numpy_version"] == np.__version__
    assert info["python_version"].startswith(f"{sys.version_info.major}.")
    assert 1 <= info["usable_cpus"] <= info["cpu_count"]


def test_system_info_reads_thread_variables(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    threads = system_info()["threads"]
    assert set(threads) == {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"}
    assert threads["OMP_NUM_THREADS"] == "3"
    assert threads["MKL_NUM_THREADS"] is None


def test_library_calls_print_nothing(capsys):
    seed_everything(0)
    system_info()
    assert capsys.readouterr() == ("", "")
