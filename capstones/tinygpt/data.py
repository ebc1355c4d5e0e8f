"""The text TinyGPT learns from: a corpus, its character vocabulary, a 90/10 split.

Three sources: any UTF-8 file (--data PATH); tiny Shakespeare (--corpus shakespeare, downloaded
once with its md5 checked); and, by default, the English documentation that ships inside
CPython (pydoc_data.topics), so a machine with no network can still train.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tt_dataloader import download_url, random_blocks, read_text
from tt_embeddings import CharTokenizer

SHAKESPEARE_URL = ("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
                   "tinyshakespeare/input.txt")
SHAKESPEARE_MD5 = "6fb458f1232090904fb40fe944165e91"
SHAKESPEARE_BYTES = 1_115_394
CORPORA = ("pydoc", "shakespeare")


@dataclass
class Corpus:
    name: str               # where the text came from
    text: str
    tokenizer: CharTokenizer
    train: np.ndarray       # (N_train,) int64 token ids: the first 90%
    val: np.ndarray         # (N_val,) int64 token ids: the last 10%


def default_cache_dir():
    """$TINYTORCH_DATA, else ~/.cache/tinytorch."""
    return Path(os.environ.get("TINYTORCH_DATA") or Path.home() / ".cache" / "tinytorch")


def pydoc_text():
    """The English text of Python's own documentation topics (ships with CPython)."""
    from pydoc_data import topics  # part of the standard library

    return "\n\n".join(topics.topics[key] for key in sorted(topics.topics))


def shakespeare_text(cache_dir=None, progress=True):
    """Tiny Shakespeare (40,000 lines), downloaded to cache_dir once and md5-checked."""
    root = Path(cache_dir or default_cache_dir()) / "tinyshakespeare"
    path = download_url(SHAKESPEARE_URL, root, "input.txt", md5=SHAKESPEARE_MD5,
                        progress=progress)
    size = path.stat().st_size
    if size != SHAKESPEARE_BYTES:
        raise ValueError(f"{path}: {size} bytes, expected {SHAKESPEARE_BYTES}; delete it and "
                         "download again")
    return read_text(path)


def load_text(data=None, corpus="pydoc", cache_dir=None):
    """(name, text): the file `data` when given, else the named corpus."""
    if data is not None:
        text = read_text(data)
        name = str(data)
    elif corpus == "pydoc":
        text, name = pydoc_text(), "pydoc_data.topics"
    elif corpus == "shakespeare":
        text, name = shakespeare_text(cache_dir), "tinyshakespeare"
    else:
        raise ValueError(f"unknown corpus {corpus!r}; choose one of {CORPORA} or pass --data")
    if len(text) < 100:
        raise ValueError(f"corpus {name} has only {len(text)} characters; need at least 100")
    return name, text


def make_corpus(name, text, tokenizer=None, val_fraction=0.1):
    """Encode `text` and split it: first (1 - val_fraction) train, the rest validation."""
    tokenizer = tokenizer or CharTokenizer.from_text(text)
    ids = np.array(tokenizer.encode(text), dtype=np.int64)
    n = int(len(ids) * (1 - val_fraction))
    return Corpus(name, text, tokenizer, ids[:n], ids[n:])


class BlockStream:
    """Endless random (x, y) batches of a token stream (nanoGPT's get_batch), each (B, T).

    Its generator is its whole state, so the Trainer's checkpoint resumes the same batches.
    """

    def __init__(self, ids, block_size, batch_size, seed):
        self.ids, self.block_size, self.batch_size = ids, block_size, batch_size
        self.generator = np.random.default_rng(seed)

    def __iter__(self):
        while True:
            yield random_blocks(self.ids, self.block_size, self.batch_size, self.generator)

    def state_dict(self):
        return {"generator": self.generator.bit_generator.state}

    def load_state_dict(self, state):
        self.generator.bit_generator.state = state["generator"]


class LossEstimate:
    """`batches` random batches of one split, for a loss estimate at a training step.

    The Trainer calls set_step(step) before evaluating; the batches come from a generator
    seeded by (seed, step, split), so one step always sees the same batches and evaluating
    never moves the training stream.
    """

    def __init__(self, ids, block_size, batch_size, batches, seed, is_val):
        self.ids, self.block_size, self.batch_size = ids, block_size, batch_size
        self.batches, self.seed, self.is_val, self.step = batches, seed, is_val, 0

    def set_step(self, step):
        self.step = step

    def __iter__(self):
        generator = np.random.default_rng([self.seed, self.step, self.is_val])
        for _ in range(self.batches):
            yield random_blocks(self.ids, self.block_size, self.batch_size, generator)
