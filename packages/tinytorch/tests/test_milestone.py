"""`tinytorch milestone`: the three milestones on tiny generated data, with tiny budgets.

A broken module is simulated through the documented test seam, `Factories` (nothing installed,
nothing patched): a model that cannot learn XOR, one that crashes, an untrained CNN.
"""

import hashlib
import json
from dataclasses import replace

import pytest
from tinytorch.cli import main
from tinytorch.milestone_report import REPORT_JSON, REPORT_TEXT, run_all, source_sha256
from tinytorch.milestones import QUICK, Criteria, Factories, Settings

TINY = replace(QUICK, name="tiny", xor_steps=300, gpt_steps=30)


def settings(tmp_path, data, **changes):
    return Settings(data=data, out=tmp_path / "report", budget=changes.pop("budget", TINY),
                    progress=False, **changes)


@pytest.fixture(scope="module")
def reference_report(tmp_path_factory, tiny_data):
    out = tmp_path_factory.mktemp("reference")
    return run_all([1, 2, 3], settings(out, tiny_data)), out / "report"


def test_reference_stack_passes_all_three(reference_report):
    report, _ = reference_report
    assert [m["status"] for m in report["milestones"]] == ["passed"] * 3
    assert report["score"] == pytest.approx(0.25 + 0.35 + 0.40)
    xor, cifar, gpt = report["milestones"]
    assert xor["measured"]["accuracy"] == 1.0
    assert cifar["measured"]["test_accuracy"] > 0.5 and cifar["measured"]["test_images"] == 128
    epochs = cifar["measured"]["epochs"]  # from the Trainer's metrics.jsonl
    assert [line["epoch"] for line in epochs] == list(range(1, TINY.cifar_epochs + 1))
    assert epochs[-1]["step"] == TINY.cifar_epochs * (TINY.cifar_train_images // 32)
    assert gpt["measured"]["val_loss"] < Criteria().gpt_val_loss
    assert gpt["measured"]["kv_cache_matches"]
    assert gpt["sample"] and set(gpt["sample"]) <= set("the quick brown fox jumps over the lazy "
                                                       "dog, said ROMEO.\n")


def test_report_files_hold_criteria_weights_and_modules(reference_report):
    report, folder = reference_report
    assert json.loads((folder / REPORT_JSON).read_text()) == report
    text = (folder / REPORT_TEXT).read_text()
    for m in report["milestones"]:
        assert m["criterion"] in text and f"weight {m['weight']:.0%}" in text
    modules = {row["distribution"]: row for row in report["modules"]}
    tensor = modules["tt-tensor"]  # the installed stack may hold the learner's own tt-tensor
    assert tensor["kind"] == ("own" if tensor["version"].endswith("+own") else "reference")
    assert len(modules["tt-tensor"]["sha256"]) == 64


def test_source_hash_covers_every_file_and_its_name(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    first = source_sha256(str(tmp_path))
    expected = hashlib.sha256(b"a.py\0x = 1\n\0sub/b.py\0y = 2\n\0").hexdigest()
    assert first == expected
    (tmp_path / "sub" / "b.py").write_text("y = 3\n")
    assert source_sha256(str(tmp_path)) != first


def linear_xornet():
    """A 'broken' XORNet: no hidden layer, so it cannot separate XOR (at most 3 of 4 right)."""
    from tt_networks import mlp

    return mlp([2, 1])


def test_a_model_that_cannot_learn_fails_with_its_measure(tmp_path, tiny_data):
    report = run_all([1], settings(tmp_path, tiny_data,
                                   factories=Factories(xornet=linear_xornet)))
    (xor,) = report["milestones"]
    assert xor["status"] == "failed" and xor["measured"]["accuracy"] <= 0.75
    assert xor["message"].startswith("FAILED: XOR accuracy") and "needs >= 1.00" in xor["message"]
    assert report["score"] == 0.0


def test_a_crashing_module_is_an_error_and_the_rest_still_runs(tmp_path, tiny_data):
    def broken_gpt(vocab_size, shape):
        raise RuntimeError("tt-transformers: GPT broken on purpose")

    report = run_all([3, 1], settings(tmp_path, tiny_data, factories=Factories(gpt=broken_gpt)))
    gpt, xor = report["milestones"]
    assert gpt["status"] == "error" and "GPT broken on purpose" in gpt["message"]
    assert xor["status"] == "passed" and report["score"] == pytest.approx(0.25)


def test_an_untrained_cnn_is_below_the_cifar_bar(tmp_path, tiny_data):
    report = run_all([2], settings(tmp_path, tiny_data, budget=replace(TINY, cifar_epochs=0)))
    (cifar,) = report["milestones"]
    assert cifar["status"] == "failed" and cifar["measured"]["test_accuracy"] <= 0.5
    assert "needs > 0.50" in cifar["message"]


def test_missing_data_is_not_run_not_failed(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code = main(["milestone", "all", "--quick", "--no-progress", "--data", str(empty),
                 "--out", str(tmp_path / "out")])
    report = json.loads((tmp_path / "out" / REPORT_JSON).read_text())
    statuses = [m["status"] for m in report["milestones"]]
    assert statuses == ["passed", "not run", "not run"] and code == 3
    assert "cifar-10-batches-py" in report["milestones"][1]["message"]
    assert "tinyshakespeare/input.txt" in report["milestones"][2]["message"]
    shown = capsys.readouterr().out
    assert "NOT RUN" in shown
    assert "quick budget: a smoke test" in shown  # the quick figures are not a grade


def test_bad_arguments_exit_2(tmp_path, capsys):
    assert main(["milestone", "4", "--out", str(tmp_path)]) == 2
    assert "1, 2, 3 or all" in capsys.readouterr().err
    assert main(["milestone", "1", "--data", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err
