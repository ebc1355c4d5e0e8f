"""Export and load: a faithful round trip, and every kind of bad file refused by name."""

import json
import os

import numpy as np
import pytest
from tt_embeddings import CharTokenizer
from tt_systems import ExportError, export, load_exported, load_for_serving, load_training_run
from tt_tensor import no_grad
from tt_training import save_checkpoint
from tt_transformers import GPT, GPTConfig

CHARS = "abcdefghij .,\n"
CONFIG = GPTConfig(block_size=16, vocab_size=len(CHARS), n_layer=1, n_head=2, n_embd=16)


@pytest.fixture
def exported(tmp_path):
    np.random.seed(0)
    model = GPT(CONFIG)
    path = tmp_path / "export"
    export(model, CONFIG, CHARS, path)
    return model, path


def logits(model, ids):
    with no_grad():
        return model(ids).data


def test_round_trip_gives_the_same_model_and_vocabulary(exported):
    model, path = exported
    assert sorted(os.listdir(path)) == ["config.json", "vocab.json", "weights.npz"]
    loaded, tokenizer = load_exported(path)
    assert loaded.config == CONFIG and not loaded.training
    assert tokenizer.chars == list(CHARS)
    ids = np.random.default_rng(0).integers(0, len(CHARS), (2, 16))
    np.testing.assert_array_equal(logits(loaded, ids), logits(model, ids))
    assert tokenizer.decode(tokenizer.encode("a b.c")) == "a b.c"


def test_export_refuses_a_vocabulary_that_does_not_fit(tmp_path):
    with pytest.raises(ValueError, match="vocab_size"):
        export(GPT(CONFIG), CONFIG, "abc", tmp_path)
    with pytest.raises(ValueError, match="repeats"):
        export(GPT(CONFIG), CONFIG, "a" * len(CHARS), tmp_path)


def test_export_leaves_no_temporary_files(exported):
    _, path = exported
    assert not [n for n in os.listdir(path) if n.startswith(".")]  # no hidden temporaries


def test_export_takes_and_load_gives_tt_embeddings_tokenizer(tmp_path):
    # one tokenizer in the whole stack: module 12's, the one the TinyGPT capstone trains with
    tokenizer = CharTokenizer.from_text(CHARS * 2)
    model = GPT(CONFIG)
    export(model, CONFIG, tokenizer, tmp_path / "export")
    loaded, back = load_exported(tmp_path / "export")
    assert isinstance(back, CharTokenizer) and back.chars == tokenizer.chars
    assert back.encode("a b.") == tokenizer.encode("a b.")
    assert json.loads((tmp_path / "export" / "vocab.json").read_text())["chars"] == \
        tokenizer.chars
    with pytest.raises(ValueError, match="vocab_size"):
        export(model, CONFIG, CharTokenizer("abc"), tmp_path / "other")


def test_a_folder_exported_by_tinytorch_0_1_still_loads(exported):
    # 0.1 wrote wte / wpe as bare names and blocks as h0, h1, ...: the files stay readable
    model, path = exported
    with np.load(path / "weights.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    old = {k.replace("h.0.", "h0."): v for k, v in arrays.items()}
    old["wte"], old["wpe"] = old.pop("wte.weight"), old.pop("wpe.weight")
    np.savez(path / "weights.npz", **old)
    loaded, tokenizer = load_exported(path)
    ids = np.random.default_rng(1).integers(0, len(CHARS), (1, 16))
    np.testing.assert_array_equal(logits(loaded, ids), logits(model, ids))
    assert tokenizer.chars == list(CHARS)


def corrupt(path, name, how):
    target = path / name
    data = target.read_bytes()
    if how == "truncate":
        target.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        target.write_bytes(b"\x00not a zip or json\xff" * 10)
    elif how == "flip":  # one byte changed inside the stored weights: the CRC must catch it
        raw = bytearray(data)
        raw[len(raw) // 3] ^= 0xFF
        target.write_bytes(bytes(raw))
    elif how == "delete":
        target.unlink()


@pytest.mark.parametrize("name", ["weights.npz", "config.json", "vocab.json"])
@pytest.mark.parametrize("how", ["truncate", "garbage", "delete"])
def test_a_corrupt_file_is_refused_with_its_name(exported, name, how):
    _, path = exported
    corrupt(path, name, how)
    with pytest.raises(ExportError, match=name.replace(".", r"\.")):
        load_exported(path)


def test_a_flipped_byte_in_the_weights_is_caught(exported):
    _, path = exported
    corrupt(path, "weights.npz", "flip")
    with pytest.raises(ExportError, match=r"weights\.npz"):
        load_exported(path)


def test_pickled_arrays_are_never_loaded(exported, tmp_path):
    _, path = exported
    marker = tmp_path / "pwned"
    with np.load(path / "weights.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    # an object array is stored with pickle: loading it would run code chosen by the file
    arrays["wte.weight"] = np.array([os.system, f"touch {marker}"], dtype=object)
    np.savez(path / "weights.npz", **arrays)
    with pytest.raises(ExportError, match=r"weights\.npz"):
        load_exported(path)
    assert not marker.exists()


def edit_json(path, name, change):
    data = json.loads((path / name).read_text())
    change(data)
    (path / name).write_text(json.dumps(data))


@pytest.mark.parametrize("name, change, message", [
    ("config.json", lambda d: d.update(format="other"), "format"),
    ("config.json", lambda d: d.update(model="ResNet"), "ResNet"),
    ("config.json", lambda d: d["config"].update(n_embd=32), "shape"),
    ("config.json", lambda d: d["config"].update(n_head=3), "divisible"),
    ("config.json", lambda d: d["config"].update(colour="blue"), "colour"),
    ("vocab.json", lambda d: d.update(chars=d["chars"][:-1]), "vocab_size"),
    ("vocab.json", lambda d: d.update(chars=["ab"] * 14), "single characters"),
])
def test_inconsistent_files_are_refused(exported, name, change, message):
    _, path = exported
    edit_json(path, name, change)
    with pytest.raises(ExportError, match=message):
        load_exported(path)


def test_weights_with_a_missing_key_or_nan_are_refused(exported):
    _, path = exported
    with np.load(path / "weights.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    np.savez(path / "weights.npz", **{k: v for k, v in arrays.items() if k != "wpe.weight"})
    with pytest.raises(ExportError, match=r"(?i)missing.*wpe\.weight"):
        load_exported(path)
    arrays["wpe.weight"] = np.full_like(arrays["wpe.weight"], np.nan)
    np.savez(path / "weights.npz", **arrays)
    with pytest.raises(ExportError, match="NaN"):
        load_exported(path)


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(ExportError, match="does not exist"):
        load_exported(tmp_path / "nowhere")


def write_run(path, model):
    """A TinyGPT-style training folder: ckpt.npz, config.json, vocab.json."""
    path.mkdir()
    save_checkpoint(path / "ckpt.npz", {"model": model.state_dict(), "iteration": 3})
    (path / "config.json").write_text(json.dumps({"train": {}, "model": vars(CONFIG)}))
    (path / "vocab.json").write_text(json.dumps({"format": "x", "chars": CHARS}))


def test_a_training_run_folder_loads_and_exports(tmp_path):
    model = GPT(CONFIG)
    write_run(tmp_path / "run", model)
    loaded, tokenizer = load_training_run(tmp_path / "run")
    ids = np.zeros((1, 4), dtype=np.int64)
    np.testing.assert_array_equal(logits(loaded, ids), logits(model, ids))
    again, _ = load_for_serving(tmp_path / "run")
    np.testing.assert_array_equal(logits(again, ids), logits(model, ids))
    (tmp_path / "run" / "ckpt.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ExportError, match=r"ckpt\.npz"):
        load_training_run(tmp_path / "run")

