"""Random generators owned by loaders and transforms, and their checkpointable state."""

import numpy as np


def make_generator(seed=None):
    """An np.random.Generator from an int seed, an existing Generator (used as is), or None.

    None draws the seed from NumPy's global RNG once, so `seed_everything` (tt-setup) makes
    the run reproducible; after that the generator never touches the global RNG again.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        seed = int(np.random.randint(0, 2**32, dtype=np.int64))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, a np.random.Generator or None, "
                         f"got {seed!r}")
    return np.random.default_rng(int(seed))


def _plain(value):
    """The bit-generator state with arrays turned into lists: JSON-serialisable."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.integer):
        return int(value)
    return value


def generator_state(generator):
    """A JSON-serialisable copy of the generator's state (ints, strings, lists, dicts)."""
    return _plain(generator.bit_generator.state)


def set_generator_state(generator, state, owner):
    """Restore a state made by `generator_state`; `owner` names the object in errors."""
    if not isinstance(state, dict) or "bit_generator" not in state:
        raise ValueError(f"{owner}: generator state must be a dict with a 'bit_generator' key, "
                         f"got {type(state).__name__}")
    expected = type(generator.bit_generator).__name__
    if state["bit_generator"] != expected:
        raise ValueError(f"{owner}: generator state is for {state['bit_generator']}, "
                         f"but this generator is {expected}")
    generator.bit_generator.state = state
