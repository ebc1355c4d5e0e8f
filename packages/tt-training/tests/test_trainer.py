"""Trainer contract: exact resume, safe checkpoints, validation, early stopping, results."""

import json
import os

import numpy as np
import pytest
from tt_dataloader import DataLoader
from tt_networks import cross_entropy
from tt_optimizers import SGD
from tt_tensor import tensor
from training_problem import make_data
from training_problem import make_trainer as shared_trainer
from tt_training import CheckpointError, TrainerConfig, load_checkpoint, save_checkpoint


def make_trainer(tmp_path=None, epochs=4, **kwargs):
    """64 training samples in batches of 16 (4 steps per epoch), the LR halved every 2 epochs."""
    return shared_trainer(tmp_path, epochs=epochs, **kwargs)


def params_of(trainer):
    return {k: v.copy() for k, v in trainer.model.state_dict().items()}


def strip_seconds(history):
    """History without its timings (the only figures that differ between two runs)."""
    return [{k: v for k, v in h.items() if not k.endswith("seconds")} for h in history]


# --- the loop: train_step, evaluate --------------------------------------------------------
def test_fit_records_history_and_learns():
    trainer = make_trainer(epochs=6)
    history = trainer.fit()
    assert [h["epoch"] for h in history] == list(range(1, 7))
    assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"} <= set(history[0])
    assert history[-1]["train_loss"] < history[0]["train_loss"]


def test_scheduler_steps_once_per_epoch_following_step_lr():
    trainer = make_trainer(epochs=5)
    trainer.fit()
    lrs = [h["lr"] for h in trainer.history]
    assert lrs == pytest.approx([0.05 * 0.5 ** (e // 2) for e in range(5)])


def test_evaluate_runs_without_graph_and_restores_train_mode():
    trainer = make_trainer()
    seen = []
    trainer.metrics = {"grad": lambda out, tgt: seen.append(out.requires_grad) or 0.0}
    trainer.model.train()
    result = trainer.evaluate(trainer.val_loader)
    assert seen and not any(seen)
    assert trainer.model.training
    x, y = make_data()
    logits = trainer.model(x[64:])
    expected = cross_entropy(logits, y[64:]).item()
    assert result["loss"] == pytest.approx(expected, rel=1e-5)


def test_validation_metrics_weight_batches_by_size():
    trainer = make_trainer()
    trainer.val_loader = DataLoader(trainer.val_loader.dataset, batch_size=20)  # 20 + 12
    x, y = make_data()
    logits = trainer.model(x[64:]).numpy()
    expected = float(np.mean(np.argmax(logits, axis=1) == y[64:]))
    assert trainer.evaluate(trainer.val_loader)["accuracy"] == pytest.approx(expected)


# --- checkpoints and exact resume: atomic_write, _flatten, _unflatten ------------------------
def test_resumed_training_equals_uninterrupted_bit_for_bit(tmp_path):
    full = make_trainer(epochs=4)
    full.fit()

    first = make_trainer(tmp_path, epochs=2)
    first.fit()
    resumed = make_trainer(epochs=4)   # fresh objects, as after a restart
    np.random.standard_normal(100)     # disturb the global RNG: the checkpoint must restore it
    resumed.resume(tmp_path / "last.npz")
    resumed.fit()

    for key, value in params_of(full).items():
        np.testing.assert_array_equal(params_of(resumed)[key], value, err_msg=key)
    assert strip_seconds(resumed.history) == strip_seconds(full.history)
    assert resumed.optimizer.param_groups[0]["lr"] == full.optimizer.param_groups[0]["lr"]


def test_checkpoint_round_trips_nested_state_without_pickle(tmp_path):
    state = {"a": np.arange(6.0).reshape(2, 3), "b": [1, 2.5, "x", None, True],
             "c": {3: np.int64(4), "d": (np.zeros(2, np.float32), 7)}}
    path = tmp_path / "ck.npz"
    save_checkpoint(path, state)
    with np.load(path, allow_pickle=False) as npz:   # readable with pickle switched off
        assert all(npz[k].dtype != object for k in npz.files)
    back = load_checkpoint(path)
    np.testing.assert_array_equal(back["a"], state["a"])
    assert back["b"] == state["b"] and back["c"][3] == 4
    assert isinstance(back["c"]["d"], tuple) and back["c"]["d"][0].dtype == np.float32


def test_truncated_checkpoint_is_rejected_and_the_previous_one_survives(tmp_path):
    trainer = make_trainer(tmp_path, epochs=1)
    trainer.fit()
    last = tmp_path / "last.npz"
    good = last.read_bytes()
    broken = tmp_path / "broken.npz"
    broken.write_bytes(good[: len(good) // 2])
    with pytest.raises(CheckpointError, match="broken.npz"):
        make_trainer().resume(broken)
    assert last.read_bytes() == good
    make_trainer().resume(last)  # still loads


def test_a_crash_while_saving_leaves_the_old_checkpoint_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "last.npz"
    save_checkpoint(path, {"step": 1, "w": np.ones(3)})
    before = path.read_bytes()

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", explode)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"step": 2, "w": np.zeros(3)})
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["last.npz"]


def test_missing_and_foreign_files_give_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.npz")
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.ones(2))
    with pytest.raises(CheckpointError, match="foreign.npz"):
        load_checkpoint(foreign)


def test_best_checkpoint_follows_the_monitored_metric(tmp_path):
    trainer = make_trainer(tmp_path, epochs=3)
    trainer.fit()
    best_epoch = 1 + int(np.argmin([h["val_loss"] for h in trainer.history]))
    best = load_checkpoint(tmp_path / "best.npz")
    assert best["trainer"]["epoch"] == best_epoch
    assert trainer.best == pytest.approx(min(h["val_loss"] for h in trainer.history))


# --- early stopping (_track) and results -----------------------------------------------------
def test_early_stopping_after_patience_epochs_without_improvement():
    trainer = make_trainer(epochs=10, lr=0.0, patience=2)  # lr 0: val loss never improves
    trainer.fit()
    assert trainer.stopped_early
    assert trainer.epoch == 3  # the first epoch sets the best, two more without improvement


def test_a_nan_metric_never_becomes_the_best(tmp_path):
    trainer = make_trainer(tmp_path, epochs=10, patience=2, monitor="val_odd")
    trainer.metrics = {"odd": lambda outputs, targets: float("nan")}  # not a loss: no divergence
    trainer.fit()
    assert trainer.best is None and not (tmp_path / "best.npz").exists()
    assert trainer.stopped_early and trainer.epoch == 2  # two records without improvement


def test_results_json_is_written_atomically(tmp_path):
    trainer = make_trainer(epochs=2)
    trainer.fit()
    path = tmp_path / "out" / "results.json"
    trainer.write_results(path, extra={"capstone": "test"})
    data = json.loads(path.read_text())
    assert data["epochs_run"] == 2 and data["capstone"] == "test"
    assert data["history"][1]["epoch"] == 2
    assert data["config"]["epochs"] == 2
    assert os.listdir(path.parent) == ["results.json"]


def test_train_step_is_one_optimizer_step_on_the_batch():
    """train_step alone (no fit, no monitoring): the loss before the step, and parameters
    moved by one SGD step along the batch's gradient."""
    trainer, twin = make_trainer(), make_trainer()
    for t in (trainer, twin):
        t.optimizer, t.scheduler = SGD(t.model.parameters(), lr=0.1), None
    x, y = make_data()
    inputs, targets = tensor(x[:16]), tensor(y[:16])
    loss = cross_entropy(twin.model(inputs), targets)
    loss.backward()
    expected = {name: p.data - 0.1 * p.grad.data for name, p in twin.model.named_parameters()}
    value, outputs = trainer.train_step(inputs, targets)
    assert value == pytest.approx(loss.item(), rel=1e-6) and isinstance(value, float)
    assert outputs.shape == (16, 3) and trainer.step == 1
    for name, p in trainer.model.named_parameters():
        np.testing.assert_allclose(p.data, expected[name], rtol=1e-5, atol=1e-7)


def test_gradient_clipping_bounds_the_update():
    trainer = make_trainer(epochs=1)
    trainer.optimizer = SGD(trainer.model.parameters(), lr=1.0)
    trainer.scheduler = None
    trainer.config.grad_clip = 1e-3
    before = params_of(trainer)
    trainer.train_loader = DataLoader(trainer.train_loader.dataset, batch_size=64)  # one step
    trainer.fit()
    after = params_of(trainer)
    step = np.sqrt(sum(np.sum((after[k] - before[k]) ** 2) for k in before))
    assert step <= 1e-3 * (1 + 1e-4)


@pytest.mark.parametrize("bad", [dict(scheduler_interval="batch"), dict(mode="up"),
                                 dict(epochs=-1), dict(checkpoint_every=0)])
def test_bad_config_values_are_rejected(bad):
    with pytest.raises(ValueError):
        TrainerConfig(**bad)
