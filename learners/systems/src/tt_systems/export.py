"""A self-contained inference export: weights.npz + config.json + vocab.json in one folder.

Loading never executes code from the files: the weights are read with
np.load(allow_pickle=False) and everything else is JSON. Every file is checked (format tag,
keys, shapes, dtypes, vocabulary) and a bad one fails with an ExportError naming it. Files are
written under a temporary name and renamed, so a crash never leaves a half-written file.
"""

import json
import math
import os
import re
import zipfile
from dataclasses import asdict, fields, is_dataclass

import numpy as np
from tt_embeddings import CharTokenizer
from tt_training import CheckpointError, atomic_write, load_checkpoint, npz_headers
from tt_transformers import GPT, GPTConfig

FORMAT = "tinytorch-export-v1"
WEIGHTS, CONFIG, VOCAB = "weights.npz", "config.json", "vocab.json"
RUN_CHECKPOINT = "ckpt.npz"  # what the TinyGPT capstone writes next to config/vocab.json

# The largest config a loader accepts, checked before anything is allocated. Far above any
# model TinyTorch trains; vocab_size: Unicode has 1,114,112 code points, so no more characters.
CONFIG_MAXIMA = {"n_layer": 1024, "n_head": 1024, "n_embd": 65536, "block_size": 1 << 20,
                 "vocab_size": 0x110000}


class ExportError(ValueError):
    """An export folder or one of its files is missing, corrupt, or does not fit the model;
    or an output folder that must not be written (a training run, a folder of other files)."""


def _config_dict(config):
    if is_dataclass(config):
        return asdict(config)
    if isinstance(config, dict):
        return dict(config)
    raise TypeError(f"export: config must be a GPTConfig or a dict, got {type(config).__name__}")


def export(model, config, vocab, path_dir):
    """Write model's weights, its config and its vocabulary to the folder `path_dir`.

    vocab: a tt_embeddings.CharTokenizer, or the list (or string) of characters, id order.
    """
    chars = list(vocab.chars if isinstance(vocab, CharTokenizer) else CharTokenizer(vocab).chars)
    config = _config_dict(config)
    if len(chars) != config.get("vocab_size"):
        raise ValueError(f"export: the vocabulary has {len(chars)} characters but the config "
                         f"says vocab_size={config.get('vocab_size')}")
    state = model.state_dict()
    _check_output_folder(path_dir)
    os.makedirs(path_dir, exist_ok=True)
    meta = {"format": FORMAT, "model": type(model).__name__, "config": config,
            "parameters": {k: list(v.shape) for k, v in state.items()}}
    atomic_write(os.path.join(path_dir, WEIGHTS), lambda f: np.savez(f, **state))
    atomic_write(os.path.join(path_dir, VOCAB), lambda f: f.write(
        json.dumps({"format": FORMAT, "chars": chars}).encode("utf-8")))
    atomic_write(os.path.join(path_dir, CONFIG), lambda f: f.write(
        json.dumps(meta, indent=2).encode("utf-8")))
    return path_dir


def _check_output_folder(path_dir):
    """Refuse to write into a file, a training run or a folder of other files."""
    if not os.path.exists(path_dir):
        return
    if not os.path.isdir(path_dir):
        raise ExportError(f"{path_dir}: exists and is not a folder; give a new folder")
    if os.path.exists(os.path.join(path_dir, RUN_CHECKPOINT)):
        raise ExportError(f"{path_dir}: is a training run ({RUN_CHECKPOINT}); exporting into "
                          "it would overwrite its config.json and vocab.json: give another "
                          "folder")
    if os.listdir(path_dir) and not _is_export(path_dir):
        raise ExportError(f"{path_dir}: exists, is not empty and is not an export; give a new "
                          "or empty folder (or an earlier export to replace)")


def _is_export(path_dir):
    try:
        return _plain_json(os.path.join(path_dir, CONFIG)).get("format") == FORMAT
    except ExportError:
        return False


def _check_bounds(path, config):
    """The config's sizes: positive ints at most CONFIG_MAXIMA, before any model is built."""
    for name, limit in CONFIG_MAXIMA.items():
        value = config.get(name)
        if name not in config:
            continue  # GPTConfig's default applies
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
            raise ExportError(f"{path}: {name} must be an int in [1, {limit}], got {value!r:.40}")
    if not isinstance(config.get("bias", False), bool):
        raise ExportError(f"{path}: bias must be true or false, got {config['bias']!r:.40}")


def _read_json(path):
    """A JSON object from an export file, checked for the export's format tag."""
    data = _plain_json(path)
    if data.get("format") != FORMAT:
        raise ExportError(f"{path}: not a {FORMAT} file (format tag missing or different)")
    return data


def _read_config(path):
    meta = _read_json(path)
    if meta.get("model") != "GPT":
        raise ExportError(f"{path}: model {meta.get('model')!r} is not supported (only GPT)")
    config = meta.get("config")
    known = {f.name for f in fields(GPTConfig)}
    if not isinstance(config, dict) or set(config) - known:
        extra = sorted(set(config) - known) if isinstance(config, dict) else config
        raise ExportError(f"{path}: 'config' must be a dict of GPTConfig fields; "
                          f"unknown: {extra!r:.80}")
    _check_bounds(path, config)
    try:
        return GPTConfig(**config), meta
    except (TypeError, ValueError) as err:
        raise ExportError(f"{path}: invalid GPT config: {err}") from None


def _read_vocab(path, vocab_size):
    tokenizer = _tokenizer(path, _read_json(path).get("chars"))
    if tokenizer.vocab_size != vocab_size:
        raise ExportError(f"{path}: {tokenizer.vocab_size} characters, but the config says "
                          f"vocab_size={vocab_size}")
    return tokenizer


def _tokenizer(path, chars):
    """tt_embeddings' CharTokenizer over `chars` (a string or a list), or an ExportError."""
    if not isinstance(chars, (str, list)) or not chars:
        raise ExportError(f"{path}: 'chars' must be a non-empty string or list of characters")
    try:
        return CharTokenizer(chars)
    except ValueError as err:
        raise ExportError(f"{path}: {err}") from None


def _read_weights(path, config):
    """The arrays of weights.npz, once their .npy headers fit `config` (nothing read before)."""
    if not os.path.isfile(path):
        raise ExportError(f"{path}: file is missing")
    try:
        headers = npz_headers(path)
    except CheckpointError as err:
        raise ExportError(str(err)) from None
    _check_shapes(path, headers, config)
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}  # reading checks each member's CRC
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as err:
        raise ExportError(f"{path}: truncated or corrupt ({type(err).__name__}: {err})") from None


def _check_shapes(path, shapes, config):
    """shapes {name: (shape, dtype)} against the config, before a GPT of it is allocated:
    float arrays, wte (V, C), wpe (block_size, C), blocks h.0..h.{n_layer-1}, and at least the
    V*C + block_size*C + 12*n_layer*C^2 numbers such a GPT holds (so building it costs no more
    memory than the file's own weights)."""
    C, L = config.n_embd, config.n_layer
    for key, (shape, dtype) in shapes.items():
        if np.dtype(dtype).kind != "f":
            raise ExportError(f"{path}: {key} has dtype {dtype}, expected a float array")
    for key, shape in (("wte", (config.vocab_size, C)), ("wpe", (config.block_size, C))):
        key = key if key in shapes else f"{key}.weight"  # 0.1 saved the bare Parameter
        got = tuple(shapes[key][0]) if key in shapes else "no such array"
        if got != shape:
            raise ExportError(f"{path}: {key} should have shape {shape} for the config, "
                              f"has {got}")
    # blocks are h.0., h.1., ... (h0., h1., ... in files written by 0.1)
    blocks = sorted({int(m.group(1)) for k in shapes if (m := re.match(r"h\.?(\d+)\.", k))})
    if blocks != list(range(len(blocks))) or len(blocks) != L:
        raise ExportError(f"{path}: the config says n_layer={L}, the weights hold "
                          f"{len(blocks)} blocks (h.0 ... h.{L - 1} expected)")
    need = config.vocab_size * C + config.block_size * C + 12 * L * C * C
    have = sum(math.prod(shape) for shape, _ in shapes.values())
    if have < need:
        raise ExportError(f"{path}: holds {have} numbers, fewer than the {need} of a GPT with "
                          "this config")


def _load_weights(path, arrays, model):
    """Load `arrays` into `model`, or raise an ExportError naming `path` and the problem.

    Names, the set of keys and every shape are checked by model.load_state_dict (which writes
    nothing unless all fit, and also reads the names of 0.1 GPTs: `wte`, `h0.`...)."""
    for key, array in arrays.items():
        if array.dtype.kind != "f":
            raise ExportError(f"{path}: {key} has dtype {array.dtype}, expected a float array")
        if not np.isfinite(array).all():
            raise ExportError(f"{path}: {key} holds NaN or inf values")
    try:
        model.load_state_dict(arrays)
    except RuntimeError as err:
        raise ExportError(f"{path}: weights do not match the config: {err}") from None


def load_exported(path_dir):
    """(model in eval mode, CharTokenizer) from a folder written by `export`."""
    if not os.path.isdir(path_dir):
        what = "is a file" if os.path.exists(path_dir) else "does not exist"
        raise ExportError(f"{path_dir}: not an export folder (it {what})")
    config, _ = _read_config(os.path.join(path_dir, CONFIG))
    tokenizer = _read_vocab(os.path.join(path_dir, VOCAB), config.vocab_size)
    weights_path = os.path.join(path_dir, WEIGHTS)
    arrays = _read_weights(weights_path, config)
    if config.dropout > 0:  # inference never drops: the exported model runs without dropout
        config = GPTConfig(**{**asdict(config), "dropout": 0.0})
    model = GPT(config)
    _load_weights(weights_path, arrays, model)
    return model.eval(), tokenizer


def _plain_json(path):
    """A JSON object from `path`, without the export's format tag (training-run files)."""
    if not os.path.isfile(path):
        raise ExportError(f"{path}: file is missing")
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read().decode("utf-8"))
    except ValueError as err:  # not UTF-8, or not JSON
        raise ExportError(f"{path}: not valid JSON ({err})") from None
    except RecursionError:
        raise ExportError(f"{path}: JSON nested too deeply") from None
    except OSError as err:
        raise ExportError(f"{path}: cannot be read ({err.strerror})") from None
    if not isinstance(data, dict):
        raise ExportError(f"{path}: expected a JSON object, got a JSON {type(data).__name__}")
    return data


def load_training_run(run_dir):
    """(model in eval mode, CharTokenizer) from a TinyGPT training folder: ckpt.npz (a
    tt_training checkpoint whose state has 'model'), config.json ('model': GPTConfig fields)
    and vocab.json ('chars'). Nothing is unpickled either."""
    config_path = os.path.join(run_dir, CONFIG)
    raw = _plain_json(config_path)
    raw = raw.get("model", raw)
    if not isinstance(raw, dict):
        raise ExportError(f"{config_path}: 'model' must be a JSON object of GPTConfig fields")
    _check_bounds(config_path, raw)
    try:
        config = GPTConfig(**{**raw, "dropout": 0.0})
    except (TypeError, ValueError) as err:
        raise ExportError(f"{config_path}: invalid GPT config: {err}") from None
    vocab_path = os.path.join(run_dir, VOCAB)
    tokenizer = _tokenizer(vocab_path, _plain_json(vocab_path).get("chars"))
    ckpt_path = os.path.join(run_dir, RUN_CHECKPOINT)
    try:
        state = load_checkpoint(ckpt_path)
    except CheckpointError as err:
        raise ExportError(str(err)) from None
    weights = state.get("model") if isinstance(state, dict) else None
    if not isinstance(weights, dict) or \
            not all(isinstance(v, np.ndarray) for v in weights.values()):
        raise ExportError(f"{ckpt_path}: no 'model' state dict of arrays in the checkpoint")
    _check_shapes(ckpt_path, {k: (v.shape, v.dtype) for k, v in weights.items()}, config)
    model = GPT(config)
    _load_weights(ckpt_path, weights, model)
    if tokenizer.vocab_size != config.vocab_size:
        raise ExportError(f"{vocab_path}: {tokenizer.vocab_size} characters, but the config "
                          f"says vocab_size={config.vocab_size}")
    return model.eval(), tokenizer


def load_for_serving(path_dir):
    """An export folder (weights.npz) or a training-run folder (ckpt.npz), whichever it is."""
    if os.path.isfile(os.path.join(path_dir, WEIGHTS)) or \
            not os.path.isfile(os.path.join(path_dir, RUN_CHECKPOINT)):
        return load_exported(path_dir)
    return load_training_run(path_dir)
