"""Runs the TinyGPT capstone end to end on a small generated corpus (seconds, no network)."""

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from tt_training import load_checkpoint, read_metrics

HERE = Path(__file__).resolve().parents[1]


def load(name):
    spec = importlib.util.spec_from_file_location(f"tinygpt_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(HERE))
    spec.loader.exec_module(module)
    return module


train, sample, data = load("train"), load("sample"), load("data")


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    """Sentences from a tiny grammar: learnable structure, ~12k characters."""
    rng = np.random.default_rng(0)
    subjects, verbs, objects = ["the cat", "a dog", "my bird"], ["sees", "likes"], \
        ["the mat.", "a ball.", "the sun."]
    lines = [f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}"
             for _ in range(600)]
    path = tmp_path_factory.mktemp("corpus") / "grammar.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(corpus_file, out, *extra):
    return train.main(["--quick", "--data", str(corpus_file), "--out", str(out),
                       "--no-progress", *extra])


def test_quick_run_learns_and_writes_everything(corpus_file, tmp_path):
    out = tmp_path / "run"
    results = run(corpus_file, out)
    val = results["history"]["val_loss"]
    assert results["history"]["iter"] == [0, 20, 40, 60]
    assert val[0] > 2.0                      # ~ln(vocab) at init
    assert val[-1] < 0.6 * val[0]            # the loss goes down
    for name in ("ckpt.npz", "best.npz", "metrics.jsonl", "config.json", "vocab.json",
                 "results.json", "sample.txt"):
        assert (out / name).is_file(), name
    saved = json.loads((out / "results.json").read_text())
    assert saved["final_val_loss"] == val[-1]
    assert saved["ms_per_iter"] > 0 and saved["tokens_per_second"] > 0
    assert saved["config"]["max_iters"] == 60 and "numpy_version" in saved["machine"]
    assert len((out / "sample.txt").read_text()) == 1 + saved["config"]["sample_tokens"]


def test_a_data_folder_means_the_corpus_inside_it(corpus_file, tmp_path):
    folder = tmp_path / "data"
    (folder / "tinyshakespeare").mkdir(parents=True)
    (folder / "tinyshakespeare" / "input.txt").write_bytes(corpus_file.read_bytes())
    from_file = run(corpus_file, tmp_path / "file", "--iters", "20")
    from_folder = run(folder, tmp_path / "folder", "--iters", "20")
    assert from_folder["history"]["val_loss"] == from_file["history"]["val_loss"]


@pytest.mark.parametrize("dropout", ["0", "0.1"])
def test_resume_continues_exactly(corpus_file, tmp_path, monkeypatch, capsys, dropout):
    straight = run(corpus_file, tmp_path / "straight", "--iters", "40", "--dropout", dropout)
    out = tmp_path / "resumed"

    class CrashAt30(data.BlockStream):
        """The batch stream of a run that is interrupted (Ctrl-C) during its 31st step."""

        def __iter__(self):
            for i, batch in enumerate(super().__iter__()):
                if i == 30:
                    raise KeyboardInterrupt  # after the checkpoint of step 20
                yield batch

    monkeypatch.setattr(train, "BlockStream", CrashAt30)
    with pytest.raises(SystemExit) as stop:
        run(corpus_file, out, "--iters", "40", "--dropout", dropout)
    assert stop.value.code == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"the last checkpoint is {out / 'ckpt.npz'} (step 20)" in err
    assert "--resume" in err.splitlines()[-1]
    monkeypatch.setattr(train, "BlockStream", data.BlockStream)
    resumed = run(corpus_file, out, "--iters", "40", "--dropout", dropout, "--resume")
    assert resumed["steps_this_run"] == 20
    assert resumed["history"] == straight["history"]       # bit for bit
    records = read_metrics(out / "metrics.jsonl")
    kinds = [(r["kind"], r["step"]) for r in records if r["kind"] != "step"]
    assert kinds == [("eval", 0), ("eval", 20), ("resume", 20), ("eval", 40)]
    assert [r["step"] for r in records if r["kind"] == "step"] == [10, 20, 30, 40]  # 30 once
    with pytest.raises(SystemExit) as refused:
        run(corpus_file, out, "--iters", "50", "--dropout", dropout, "--resume")
    assert refused.value.code == 2 and "other settings" in capsys.readouterr().err
def test_a_nan_loss_stops_the_run_and_keeps_the_last_checkpoint(corpus_file, tmp_path,
                                                                 monkeypatch, capsys):
    out = tmp_path / "run"
    calls = [0]
    real_loss = train.lm_loss

    def nan_in_step_25(logits, targets):
        loss = real_loss(logits, targets)
        if logits.requires_grad:            # a training step, not an evaluation
            calls[0] += 1
            if calls[0] == 25:
                return loss * float("nan")
        return loss

    monkeypatch.setattr(train, "lm_loss", nan_in_step_25)
    with pytest.raises(SystemExit) as stop:
        run(corpus_file, out, "--iters", "40")
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"diverged at step 25: its loss is nan; the last good checkpoint, {out / 'ckpt.npz'} " \
           "(step 20), is unchanged" in err
    state = load_checkpoint(out / "ckpt.npz")
    assert state["trainer"]["step"] == 20
    assert all(np.isfinite(w).all() for w in state["model"].values())
    assert read_metrics(out / "metrics.jsonl")[-1]["kind"] == "diverged"


def test_sample_loads_the_checkpoint(corpus_file, tmp_path, capsys):
    out = tmp_path / "run"
    run(corpus_file, out, "--iters", "20")
    text = sample.main(["--out", str(out), "--prompt", "the ", "--max-new-tokens", "30",
                        "--temperature", "0"])
    assert text.startswith("the ") and len(text) == 34
    assert text in capsys.readouterr().out
    cached = sample.main(["--out", str(out), "--prompt", "a ", "--max-new-tokens", "20",
                          "--seed", "3", "--top-p", "0.9"])
    recomputed = sample.main(["--out", str(out), "--prompt", "a ", "--max-new-tokens", "20",
                              "--seed", "3", "--top-p", "0.9", "--no-cache"])
    assert cached == recomputed
    with pytest.raises(SystemExit) as refused:
        sample.main(["--out", str(tmp_path / "nothing")])
    assert refused.value.code == 2 and "train first with" in capsys.readouterr().err


def test_offline_default_corpus_is_python_documentation():
    name, text = data.load_text(None, "pydoc")
    assert name == "pydoc_data.topics" and len(text) > 100_000
    corpus = data.make_corpus(name, text)
    assert len(corpus.train) == int(0.9 * len(text))
    assert corpus.tokenizer.decode(corpus.val[:50]) == text[len(corpus.train):][:50]


def test_named_corpus_download_is_checked(tmp_path, monkeypatch):
    source = tmp_path / "source.txt"
    source.write_text("To be, or not to be: that is the question.\n" * 10, encoding="utf-8")
    raw = source.read_bytes()
    monkeypatch.setattr(data, "SHAKESPEARE_URL", source.as_uri())
    monkeypatch.setattr(data, "SHAKESPEARE_MD5", hashlib.md5(raw).hexdigest())
    monkeypatch.setattr(data, "SHAKESPEARE_BYTES", len(raw))
    text = data.shakespeare_text(tmp_path / "cache", progress=False)
    assert text == source.read_text(encoding="utf-8")
    assert (tmp_path / "cache" / "tinyshakespeare" / "input.txt").is_file()
    monkeypatch.setattr(data, "SHAKESPEARE_MD5", "0" * 32)
    with pytest.raises(RuntimeError, match="md5"):
        data.shakespeare_text(tmp_path / "other-cache", progress=False)
    assert list((tmp_path / "other-cache" / "tinyshakespeare").iterdir()) == []


def test_the_gpt_runs_module_16s_dropout():
    # tt-transformers (module 14) cannot import tt-regularization (16): the capstone injects
    # its Dropout, so a learner's own module 16 is the dropout that runs in their GPT
    from types import SimpleNamespace

    from tt_layers import register_module_forward_hook
    from tt_regularization import Dropout
    from tt_tensor import no_grad

    cfg = SimpleNamespace(block_size=8, n_layer=2, n_head=2, n_embd=16, dropout=0.5, bias=False)
    model = train.build_model(cfg, vocab_size=7)
    assert type(model.drop) is Dropout and model.drop.p == 0.5
    ran = []
    ids = np.arange(8).reshape(1, 8) % 7
    with no_grad(), register_module_forward_hook(
            lambda module, inputs, output: ran.append(type(module))):
        dropped = model(ids).data
        kept = model.eval()(ids).data
    assert ran.count(Dropout) == 2 * (1 + 2 * cfg.n_layer)  # embeddings + 2 branches a block
    assert not np.allclose(dropped, kept)                     # it really dropped in training
    with no_grad():
        np.testing.assert_array_equal(model(ids).data, kept)  # eval: the identity
