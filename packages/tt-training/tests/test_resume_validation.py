"""Trainer.resume checks the whole checkpoint before it changes anything, and loads only the
fields it knows."""

import numpy as np
import pytest
from tt_dataloader import DataLoader, TensorDataset
from tt_layers import Linear, ReLU
from tt_networks import Sequential, cross_entropy
from tt_optimizers import SGD, Adam
from tt_setup import seed_everything
from tt_training import CheckpointError, Trainer, TrainerConfig, load_checkpoint, save_checkpoint


def make_trainer(optimizer=lambda params: Adam(params, lr=0.01), hidden=16, batch_size=16,
                 **config):
    seed_everything(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 6)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    model = Sequential(Linear(6, hidden), ReLU(), Linear(hidden, 3))
    train = DataLoader(TensorDataset(x[:48], y[:48]), batch_size=batch_size, shuffle=True,
                       seed=1)
    val = DataLoader(TensorDataset(x[48:], y[48:]), batch_size=16)
    return Trainer(model, optimizer(model.parameters()), cross_entropy, train, val,
                   config=TrainerConfig(progress=False, **config))


def snapshot(trainer):
    """What a failed resume must leave untouched."""
    return (trainer.model.state_dict(), trainer.optimizer.state_dict()["state"], trainer.epoch,
            trainer.step, list(trainer.history), np.random.get_state()[1].copy())


def assert_unchanged(trainer, before):
    model, opt_state, epoch, step, history, rng = before
    for key, value in trainer.model.state_dict().items():
        np.testing.assert_array_equal(value, model[key], err_msg=key)
    assert trainer.optimizer.state_dict()["state"].keys() == opt_state.keys()
    assert (trainer.epoch, trainer.step, trainer.history) == (epoch, step, history)
    np.testing.assert_array_equal(np.random.get_state()[1], rng)


@pytest.fixture
def saved(tmp_path):
    """A checkpoint of an Adam run after one epoch, and a function writing edited copies."""
    trainer = make_trainer(epochs=1, checkpoint_dir=str(tmp_path))
    trainer.fit()
    path = tmp_path / "last.npz"

    def edited(change, name="edited.npz"):
        state = load_checkpoint(path)
        change(state)
        save_checkpoint(tmp_path / name, state)
        return tmp_path / name
    return path, edited


def resume_fails(trainer, path, *fragments):
    before = snapshot(trainer)
    with pytest.raises(CheckpointError) as err:
        trainer.resume(path)
    message = str(err.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    assert_unchanged(trainer, before)


@pytest.mark.parametrize("entry", ["optimizer", "trainer", "model", "numpy_rng"])
def test_a_missing_entry_is_named_and_nothing_changes(saved, entry):
    _, edited = saved
    path = edited(lambda state: state.pop(entry))
    resume_fails(make_trainer(), path, entry, "not written by Trainer.save")


def test_adam_state_into_sgd_is_refused_by_type(saved):
    path, _ = saved
    trainer = make_trainer(lambda params: SGD(params, lr=0.1, momentum=0.9))
    resume_fails(trainer, path, "Adam", "SGD")


def test_adam_state_into_sgd_is_refused_by_options_without_a_type_record(saved):
    _, edited = saved
    path = edited(lambda state: state.pop("types"))   # as an older checkpoint
    trainer = make_trainer(lambda params: SGD(params, lr=0.1, momentum=0.9))
    resume_fails(trainer, path, "options", "betas", "momentum")


def test_a_model_of_another_shape_is_refused(saved):
    path, _ = saved
    resume_fails(make_trainer(hidden=8), path, "0.weight", "(16, 6)", "(8, 6)")


@pytest.mark.parametrize("field, value, fragment", [
    ("epoch", "3", "'epoch' is '3'"), ("step", -1, "below 0"), ("history", {}, "'history'"),
    ("stopped_early", 1, "'stopped_early'"), ("best", "low", "'best'"),
])
def test_a_trainer_field_of_the_wrong_type_is_refused(saved, field, value, fragment):
    _, edited = saved
    path = edited(lambda state: state["trainer"].__setitem__(field, value))
    resume_fails(make_trainer(), path, fragment)


def test_only_known_fields_are_loaded(saved):
    _, edited = saved

    def add_strangers(state):
        state["trainer"].update(config="not a config", model=None, loss_fn="x", _log=3)
    trainer = make_trainer()
    config, model, loss_fn = trainer.config, trainer.model, trainer.loss_fn
    trainer.resume(edited(add_strangers))
    assert trainer.config is config and trainer.model is model and trainer.loss_fn is loss_fn
    assert trainer.epoch == 1 and trainer.step == 3


def test_a_component_that_refuses_its_state_rolls_everything_back(tmp_path):
    # a checkpoint taken mid-epoch, at batch 2 of 3, into a loader with 1 batch per epoch:
    # every structural check passes, then the DataLoader itself refuses the position
    first = make_trainer(max_steps=2, eval_every=2, scheduler_interval="step",
                         checkpoint_dir=str(tmp_path))
    first.fit()
    trainer = make_trainer(batch_size=48)
    resume_fails(trainer, tmp_path / "last.npz", "batch 2 is outside [0, 1]")


def test_a_scheduler_state_without_a_scheduler_is_refused(saved):
    _, edited = saved
    path = edited(lambda state: state.__setitem__("scheduler", {"last_epoch": 3}))
    resume_fails(make_trainer(), path, "scheduler")
