"""The command-line entry points (what `tinytorch profile | bench | serve | export` run)."""

import json

import numpy as np
import pytest
from tt_systems import (
    COMMANDS, export_main, load_exported, profile_main, profiler_overhead, serve_main,
)
from tt_training import save_checkpoint
from tt_transformers import GPT, GPTConfig


def test_every_command_has_a_main_and_a_help_line():
    assert set(COMMANDS) == {"profile", "bench", "serve", "export"}
    assert all(callable(main) and help_text for main, help_text in COMMANDS.values())


def test_profile_prints_both_tables_and_writes_json(capsys, tmp_path):
    out_json = tmp_path / "profile.json"
    assert profile_main(["--model", "mlp", "--batch-size", "4", "--steps", "1", "--top", "5",
                         "--json", str(out_json)]) == 0
    text = capsys.readouterr().out
    assert "matmul" in text and "total" in text and "(inclusive" in text
    data = json.loads(out_json.read_text())
    assert data["summary"]["total"]["calls"] == sum(r["calls"] for r in data["ops"])


def test_export_turns_a_run_folder_into_an_export(tmp_path, capsys):
    config = GPTConfig(block_size=8, vocab_size=5, n_layer=1, n_head=1, n_embd=8)
    model = GPT(config)
    run = tmp_path / "run"
    run.mkdir()
    save_checkpoint(run / "ckpt.npz", {"model": model.state_dict()})
    (run / "config.json").write_text(json.dumps({"model": vars(config)}))
    (run / "vocab.json").write_text(json.dumps({"chars": "abcde"}))
    assert export_main([str(run), "--out", str(tmp_path / "export")]) == 0
    loaded, tokenizer = load_exported(tmp_path / "export")
    np.testing.assert_array_equal(loaded.wte.weight.data, model.wte.weight.data)
    assert tokenizer.chars == list("abcde")


@pytest.mark.parametrize("main", [serve_main, lambda argv: export_main(argv + ["--out", "x"])])
def test_a_missing_folder_exits_2_with_the_reason(main, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main([str(tmp_path / "missing")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("tinytorch ") and "missing: no such folder" in err


@pytest.mark.parametrize("main", [serve_main, lambda argv: export_main(argv + ["--out", "x"])])
def test_a_folder_that_is_no_model_exits_2_with_the_reason(main, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not a model")
    assert main([str(tmp_path)]) == 2
    assert "file is missing" in capsys.readouterr().err


def test_profiler_overhead_measures_both_ways():
    result = profiler_overhead(sizes=(16, 8, 4), batch_size=4, steps=2, repeats=1)
    assert result["step_ms_off"] > 0 and result["step_ms_on"] > 0
    expected = 100 * (result["step_ms_on"] - result["step_ms_off"]) / result["step_ms_off"]
    assert result["overhead_percent"] == pytest.approx(expected)
