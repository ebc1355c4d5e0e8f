"""A character-level tokenizer: one id per distinct character of a corpus.

The vocabulary is part of the model: a checkpoint is useless without the exact mapping it was
trained with, so it is saved as JSON next to the weights (`save` / `load`).
"""

import json
from pathlib import Path

import numpy as np
from tt_setup import write_atomically

_FORMAT = "tinytorch-char-tokenizer"


class CharTokenizer:
    """Maps each character of `chars` to its index: encode("hi") -> [id('h'), id('i')].

    chars: the vocabulary, an iterable of distinct single characters, in id order.
    """

    def __init__(self, chars):
        chars = list(chars)
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise ValueError(f"CharTokenizer: vocabulary entries must be single characters, "
                             f"got {bad[:5]!r}")
        if len(set(chars)) != len(chars):
            repeated = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(f"CharTokenizer: vocabulary repeats {repeated!r}")
        self.chars = chars
        self.stoi = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text):
        """The tokenizer of a corpus: its distinct characters, sorted by code point."""
        if not text:
            raise ValueError("CharTokenizer.from_text: the text is empty, so is its vocabulary")
        ### BEGIN SOLUTION
        return cls(sorted(set(text)))
        ### END SOLUTION

    @property
    def vocab_size(self):
        return len(self.chars)

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        """The ids of the characters of `text`, as a list of Python ints (one per character).

        An unknown character raises ValueError naming it and its position: silently mapping it
        to some other id would feed the model text it never saw without anyone noticing.
        """
        ### BEGIN SOLUTION
        try:
            return [self.stoi[c] for c in text]
        except KeyError:  # find the first unknown character only on the error path
            position, char = next((i, c) for i, c in enumerate(text) if c not in self.stoi)
            raise ValueError(f"CharTokenizer.encode: character {char!r} at position "
                             f"{position} is not in the vocabulary of {self.vocab_size} "
                             "characters") from None
        ### END SOLUTION

    def decode(self, ids):
        """The text of a 1-D sequence of integer ids: one character per id, in order.

        ids: a list or tuple of ints (NumPy integers too), or a 1-D integer ndarray or Tensor.
        The code before the region has already made `ids` a list of Python ints in
        [0, vocab_size): a float or bool id raises TypeError (even 2.0: truncating 2.7 to 2
        would decode text nobody wrote), an id outside the vocabulary ValueError naming it and
        its position, and an array that is not 1-D ValueError naming its shape.
        """
        ids = _as_int_list(ids)
        bad = [(pos, i) for pos, i in enumerate(ids) if not 0 <= i < self.vocab_size]
        if bad:
            pos, i = bad[0]
            raise ValueError(f"CharTokenizer.decode: id {i} at position {pos} is outside the "
                             f"vocabulary [0, {self.vocab_size})")
        ### BEGIN SOLUTION
        return "".join(self.chars[i] for i in ids)
        ### END SOLUTION

    # --- saved with the model ------------------------------------------------------------
    def to_dict(self):
        """A JSON-serialisable description of the vocabulary."""
        return {"format": _FORMAT, "chars": "".join(self.chars)}

    @classmethod
    def from_dict(cls, data, source="dict"):
        """The tokenizer described by `to_dict`'s output; `source` names it in errors."""
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ValueError(f"CharTokenizer: {source} is not a saved character vocabulary "
                             f"(expected format {_FORMAT!r})")
        if not isinstance(data.get("chars"), str):
            raise ValueError(f"CharTokenizer: {source} has no 'chars' string")
        return cls(data["chars"])

    def save(self, path):
        """Write the vocabulary as JSON, atomically (a temporary file renamed into place)."""
        path = Path(path)
        text = json.dumps(self.to_dict(), ensure_ascii=True, indent=1)
        write_atomically(path, text)

    @classmethod
    def load(cls, path):
        """Read a vocabulary written by `save`."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"CharTokenizer.load: no vocabulary file at {path}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"CharTokenizer.load: {path} is not valid JSON: {err}") from None
        return cls.from_dict(data, source=str(path))

    def __repr__(self):
        return f"CharTokenizer(vocab_size={self.vocab_size})"


def _as_int_list(ids):
    """ids as a list of Python ints; Tensors and ndarrays are unwrapped. Anything that is not
    an integer (a float, even 2.0, or a bool) is a TypeError rather than silently truncated."""
    data = ids if isinstance(ids, np.ndarray) else getattr(ids, "data", None)
    if isinstance(data, np.ndarray):  # an ndarray, or a Tensor's
        if data.ndim != 1:
            raise ValueError(f"CharTokenizer.decode: expected a 1-D sequence of ids, "
                             f"got shape {data.shape}")
        if data.dtype.kind not in "iu":
            raise TypeError(f"CharTokenizer.decode: ids must be integers, got dtype "
                            f"{data.dtype}")
        return data.tolist()
    ids = list(ids)
    for position, i in enumerate(ids):
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"CharTokenizer.decode: ids must be integers, got {i!r} "
                            f"({type(i).__name__}) at position {position}")
    return [int(i) for i in ids]
