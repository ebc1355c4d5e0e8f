"""What a loader checks before it builds a model, and which folders an export may write:
every bad file is an ExportError naming it, and no model is allocated from a config the
weights do not back."""

import io
import json
import os
import zipfile

import numpy as np
import pytest
from tt_systems import (
    CONFIG_MAXIMA, ExportError, export, export_main, load_exported, load_training_run,
)
from tt_training import save_checkpoint
from tt_transformers import GPT, GPTConfig

CHARS = "abcdefgh"
CONFIG = GPTConfig(block_size=8, vocab_size=len(CHARS), n_layer=2, n_head=2, n_embd=8)


@pytest.fixture
def model():
    np.random.seed(0)
    return GPT(CONFIG)


@pytest.fixture
def exported(tmp_path, model):
    path = tmp_path / "export"
    export(model, CONFIG, CHARS, path)
    return path


def edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def rewrite_weights(path, change):
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    np.savez(path, **arrays)


# --- config.json: bounds before anything is built -----------------------------------------
@pytest.mark.parametrize("name,value", [
    ("n_layer", 10**9), ("n_embd", 10**9), ("block_size", 10**9), ("n_head", 10**6),
    ("vocab_size", 0x110001), ("n_layer", 0), ("n_embd", -8), ("block_size", 2.0),
    ("n_layer", True), ("n_head", "2"), ("vocab_size", None),
])
def test_config_sizes_outside_the_documented_bounds_are_refused(exported, name, value):
    edit_json(exported / "config.json", lambda d: d["config"].update({name: value}))
    with pytest.raises(ExportError, match=rf"config\.json: {name} must be an int in \[1, "
                                          rf"{CONFIG_MAXIMA[name]}\]"):
        load_exported(exported)


def test_bias_must_be_a_boolean(exported):
    edit_json(exported / "config.json", lambda d: d["config"].update({"bias": "yes"}))
    with pytest.raises(ExportError, match=r"config\.json: bias"):
        load_exported(exported)


@pytest.mark.parametrize("name,value,message", [
    ("n_layer", 1024, "the config says n_layer=1024, the weights hold 2 blocks"),
    ("block_size", CONFIG_MAXIMA["block_size"], r"wpe\.weight should have shape \(1048576, 8\)"),
    ("vocab_size", 200_000, r"wte\.weight should have shape \(200000, 8\)"),
])
def test_an_in_bounds_config_the_weights_do_not_back_fails_on_the_headers(
        exported, name, value, message):
    # each of these would allocate a far larger model than the file holds if built first
    edit_json(exported / "config.json", lambda d: d["config"].update({name: value}))
    if name == "vocab_size":
        edit_json(exported / "vocab.json",
                  lambda d: d.update(chars=[chr(0x10000 + i) for i in range(value)]))
    with pytest.raises(ExportError, match=rf"weights\.npz: {message}"):
        load_exported(exported)


def test_weights_with_too_few_numbers_for_the_config_are_refused(exported):
    def keep_one_array_per_block(arrays):
        for key in [k for k in arrays if k.startswith("h") and not k.endswith("ln_1.weight")]:
            del arrays[key]
    rewrite_weights(exported / "weights.npz", keep_one_array_per_block)
    need = CONFIG.vocab_size * 8 + CONFIG.block_size * 8 + 12 * 2 * 8 * 8
    with pytest.raises(ExportError, match=rf"weights\.npz: holds \d+ numbers, fewer than the "
                                          rf"{need}"):
        load_exported(exported)


def test_integer_weights_are_refused(exported):
    rewrite_weights(exported / "weights.npz",
                    lambda a: a.update({"wpe.weight": a["wpe.weight"].astype(np.int32)}))
    with pytest.raises(ExportError, match=r"weights\.npz: wpe\.weight has dtype int32"):
        load_exported(exported)


def npy_member(shape, payload):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return buf.getvalue() + payload


def test_a_header_claiming_a_huge_array_is_refused_before_reading(exported):
    with zipfile.ZipFile(exported / "weights.npz", "a") as zf:
        zf.writestr("h9.huge.npy", npy_member((10**6, 10**6), b"\0" * 16))
    with pytest.raises(ExportError, match=r"weights\.npz.*h9\.huge\.npy.*\(1000000, 1000000\)"):
        load_exported(exported)


# --- JSON files: every shape of bad metadata is an ExportError naming the file ---------------
@pytest.mark.parametrize("name", ["config.json", "vocab.json"])
@pytest.mark.parametrize("text,message", [
    ("[1, 2]", "expected a JSON object, got a JSON list"),
    ("[" * 5000 + "]" * 5000, "nested too deeply|JSON list"),
    ('{"a": ' * 5000 + "1" + "}" * 5000, "nested too deeply"),
    ("\xff\xfe not utf-8", "not valid JSON"),
])
def test_bad_json_names_the_file(exported, name, text, message):
    (exported / name).write_bytes(text.encode("latin1"))
    with pytest.raises(ExportError, match=rf"{name}: .*({message})"):
        load_exported(exported)


def test_a_file_where_the_export_folder_is_expected_is_named(tmp_path):
    (tmp_path / "weights.npz").write_bytes(b"x")
    with pytest.raises(ExportError, match=r"weights\.npz: not an export folder \(it is a file"):
        load_exported(tmp_path / "weights.npz")


def test_a_folder_where_a_file_is_expected_is_named(exported):
    os.remove(exported / "config.json")
    os.mkdir(exported / "config.json")
    with pytest.raises(ExportError, match=r"config\.json: file is missing"):
        load_exported(exported)


# --- training runs: the checkpoint's metadata ------------------------------------------------
def write_run(path, model):
    path.mkdir()
    save_checkpoint(path / "ckpt.npz", {"model": model.state_dict(), "iteration": 3})
    (path / "config.json").write_text(json.dumps({"train": {}, "model": vars(CONFIG)}))
    (path / "vocab.json").write_text(json.dumps({"chars": CHARS}))
    return path


def write_meta(path, meta_text, **arrays):
    arrays["__meta__"] = np.frombuffer(meta_text.encode(), dtype=np.uint8)
    np.savez(path, **arrays)


@pytest.mark.parametrize("meta,message", [
    ("[1]", "JSON list"),
    ('{"format": "tinytorch-checkpoint-v1"}', "no 'state'"),
    ('{"format": "tinytorch-checkpoint-v1", "state": {"__array__": "a5"}}', "'a5'"),
    ('{"format": "tinytorch-checkpoint-v1", "state": ' + "[" * 5000 + "]" * 5000 + "}",
     "nested too deeply"),
    ('{"format": "tinytorch-checkpoint-v1", "state": {"__dict__": [["model", 3]]}}',
     "no 'model' state dict"),
])
def test_bad_checkpoint_metadata_of_a_run_is_an_export_error(tmp_path, model, meta, message):
    run = write_run(tmp_path / "run", model)
    write_meta(run / "ckpt.npz", meta, a0=np.ones(3))
    with pytest.raises(ExportError, match=rf"ckpt\.npz.*{message}"):
        load_training_run(run)


def test_a_run_config_out_of_bounds_is_refused_before_building(tmp_path, model):
    run = write_run(tmp_path / "run", model)
    edit_json(run / "config.json", lambda d: d["model"].update(n_layer=10**9))
    with pytest.raises(ExportError, match=r"config\.json: n_layer must be an int"):
        load_training_run(run)
    edit_json(run / "config.json", lambda d: d.update(model=[1, 2]))
    with pytest.raises(ExportError, match=r"config\.json: 'model' must be a JSON object"):
        load_training_run(run)


def test_a_run_whose_weights_do_not_fit_its_config_is_refused_before_building(tmp_path, model):
    run = write_run(tmp_path / "run", model)
    edit_json(run / "config.json", lambda d: d["model"].update(n_layer=1000))
    with pytest.raises(ExportError, match=r"ckpt\.npz: the config says n_layer=1000"):
        load_training_run(run)


# --- where an export may be written ---------------------------------------------------------
def snapshot(folder):
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))}


def test_exporting_into_a_training_run_is_refused_and_the_run_is_untouched(tmp_path, model):
    run = write_run(tmp_path / "run", model)
    before = snapshot(run)
    with pytest.raises(ExportError, match="is a training run"):
        export(model, CONFIG, CHARS, run)
    assert snapshot(run) == before
    load_training_run(run)  # still a working run


def test_the_cli_refuses_out_equal_to_the_run(tmp_path, model, capsys):
    run = write_run(tmp_path / "run", model)
    before = snapshot(run)
    assert export_main([str(run), "--out", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run folder itself" in err
    assert export_main([str(run), "--out", str(tmp_path / "run" / ".." / "run")]) == 2
    assert snapshot(run) == before


def test_a_folder_of_other_files_or_a_file_is_refused(tmp_path, model):
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(ExportError, match="not empty and is not an export"):
        export(model, CONFIG, CHARS, other)
    assert snapshot(other) == {"cat.jpg": b"\xff\xd8"}
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="is not a folder"):
        export(model, CONFIG, CHARS, tmp_path / "file")
    assert (tmp_path / "file").read_text() == "x"


def test_an_empty_folder_and_an_earlier_export_may_be_written(tmp_path, exported, model):
    (tmp_path / "empty").mkdir()
    export(model, CONFIG, CHARS, tmp_path / "empty")
    np.random.seed(1)
    newer = GPT(CONFIG)
    export(newer, CONFIG, CHARS, exported)  # replaces the earlier export
    loaded, _ = load_exported(exported)
    np.testing.assert_array_equal(loaded.wte.weight.data, newer.wte.weight.data)
