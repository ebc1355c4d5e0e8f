"""Trainer contract, part 2: step budgets, the metrics file, the divergence rule, progress."""

import math
import re

import numpy as np
import pytest
from tt_networks import cross_entropy
from tt_optimizers import SGD
from training_problem import make_trainer as shared_trainer
from tt_training import (
    METRICS_FILE, DivergenceError, TrainerConfig, load_checkpoint, read_metrics,
)


def make_trainer(tmp_path=None, **kwargs):
    """48 training samples in batches of 16: 3 steps per epoch."""
    return shared_trainer(tmp_path, n_train=48, step_size=3, **kwargs)


def stepwise(tmp_path=None, max_steps=10, eval_every=4, **kwargs):
    return make_trainer(tmp_path, max_steps=max_steps, eval_every=eval_every,
                        scheduler_interval="step", **kwargs)


def params_of(trainer):
    return {k: v.copy() for k, v in trainer.model.state_dict().items()}


def without_times(records):
    return [{k: v for k, v in r.items() if not k.endswith("seconds") and k != "time"}
            for r in records]


class Interrupt:
    """Wraps a loader; raises KeyboardInterrupt when asked for batch number `at` (0-based)."""

    def __init__(self, loader, at):
        self.loader, self.at, self.served = loader, at, 0

    def __iter__(self):
        for batch in self.loader:
            if self.served == self.at:
                raise KeyboardInterrupt
            self.served += 1
            yield batch

    def __len__(self):
        return len(self.loader)

    def state_dict(self):
        return self.loader.state_dict()


# --- step budgets --------------------------------------------------------------------------
def test_step_budget_takes_exactly_max_steps_and_evaluates_every_n():
    trainer = stepwise(max_steps=10, eval_every=4)
    trainer.fit()
    assert trainer.step == 10
    assert [h["step"] for h in trainer.history] == [0, 4, 8, 10]   # baseline, every 4, the end
    assert trainer.epoch == 10 // 3                                  # 3 batches per pass
    assert "train_loss" not in trainer.history[0]                    # nothing trained yet
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.05 * 0.5 ** (10 // 3))
    assert [h["lr"] for h in trainer.history[1:]] == pytest.approx(
        [0.05 * 0.5 ** (s // 3) for s in (0, 4, 8)])                # rate at each period start


def test_step_mode_needs_a_per_step_scheduler():
    with pytest.raises(ValueError, match="scheduler_interval='step'"):
        TrainerConfig(max_steps=10)


def test_step_resume_mid_epoch_equals_the_uninterrupted_run(tmp_path):
    full = stepwise(max_steps=10, eval_every=4)
    full.fit()
    cut = stepwise(tmp_path, max_steps=10, eval_every=4)
    cut.train_loader = Interrupt(cut.train_loader, at=6)      # dies in step 7, mid-epoch
    with pytest.raises(KeyboardInterrupt):
        cut.fit()
    assert load_checkpoint(tmp_path / "last.npz")["trainer"]["step"] == 4   # 4 = 3 + 1
    resumed = stepwise(tmp_path, max_steps=10, eval_every=4)
    np.random.standard_normal(10)                              # the checkpoint restores it
    resumed.resume(tmp_path / "last.npz")
    resumed.fit()
    for key, value in params_of(full).items():
        np.testing.assert_array_equal(params_of(resumed)[key], value, err_msg=key)
    assert without_times(resumed.history) == without_times(full.history)


# --- the metrics file ----------------------------------------------------------------------
def test_metrics_file_has_one_line_per_epoch_matching_history(tmp_path):
    trainer = make_trainer(tmp_path, epochs=3, log_every=2)
    trainer.fit()
    records = read_metrics(tmp_path / METRICS_FILE)
    epochs = [r for r in records if r["kind"] == "epoch"]
    steps = [r for r in records if r["kind"] == "step"]
    assert without_times(epochs) == [{"kind": "epoch", **h} for h in
                                      without_times(trainer.history)]
    assert {"step", "epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
            "wall_seconds", "time", "seconds"} <= set(epochs[0])
    assert [r["step"] for r in steps] == [2, 4, 6, 8]         # 9 steps, every 2nd
    assert all(math.isfinite(r["loss"]) and r["lr"] > 0 for r in steps)
    walls = [r["wall_seconds"] for r in records]
    assert walls == sorted(walls) and walls[-1] <= trainer.wall_seconds


def test_resume_drops_metrics_after_the_checkpoint_and_says_so(tmp_path):
    cut = stepwise(tmp_path, max_steps=10, eval_every=4, log_every=1)
    cut.train_loader = Interrupt(cut.train_loader, at=6)
    with pytest.raises(KeyboardInterrupt):
        cut.fit()
    assert max(r["step"] for r in read_metrics(tmp_path / METRICS_FILE)) == 6
    resumed = stepwise(tmp_path, max_steps=10, eval_every=4, log_every=1)
    resumed.resume(tmp_path / "last.npz")
    resumed.fit()
    records = read_metrics(tmp_path / METRICS_FILE)
    assert [r["step"] for r in records if r["kind"] == "step"] == list(range(1, 11))
    (resume,) = [r for r in records if r["kind"] == "resume"]
    assert resume["step"] == 4 and resume["dropped_records"] == 2   # steps 5 and 6
    assert resume["checkpoint"] == str(tmp_path / "last.npz")


def test_a_line_torn_by_a_crash_is_removed_before_a_resumed_run_appends(tmp_path):
    cut = stepwise(tmp_path, max_steps=10, eval_every=4)
    cut.train_loader = Interrupt(cut.train_loader, at=6)
    with pytest.raises(KeyboardInterrupt):
        cut.fit()
    with open(tmp_path / METRICS_FILE, "a") as f:
        f.write('{"kind": "step", "st')                      # killed in mid-write
    resumed = stepwise(tmp_path, max_steps=10, eval_every=4)
    resumed.resume(tmp_path / "last.npz")
    resumed.fit()
    records = read_metrics(tmp_path / METRICS_FILE)       # every line parses
    assert [r["step"] for r in records if r["kind"] == "eval"] == [0, 4, 8, 10]


def test_a_torn_last_line_is_skipped_but_a_torn_middle_line_is_an_error(tmp_path):
    path = tmp_path / METRICS_FILE
    path.write_text('{"kind": "epoch", "step": 1}\n{"kind": "ep')
    assert read_metrics(path) == [{"kind": "epoch", "step": 1}]
    path.write_text('{"kind": "ep\n{"kind": "epoch", "step": 1}\n')
    with pytest.raises(ValueError, match="line 1"):
        read_metrics(path)


# --- divergence ----------------------------------------------------------------------------
def nan_at_training_call(k):
    """cross_entropy, except that the k-th training call (1-based) returns NaN."""
    calls = [0]

    def loss_fn(outputs, targets):
        loss = cross_entropy(outputs, targets)
        if outputs.requires_grad:
            calls[0] += 1
            if calls[0] == k:
                return loss * float("nan")
        return loss
    return loss_fn


def test_injected_nan_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    trainer = stepwise(tmp_path, max_steps=10, eval_every=4, loss_fn=nan_at_training_call(7))
    with pytest.raises(DivergenceError, match=r"step 7.*nan.*last\.npz \(step 4\)") as err:
        trainer.fit()
    assert err.value.step == 7 and math.isnan(err.value.loss)
    assert err.value.checkpoint == str(tmp_path / "last.npz")
    assert trainer.step == 6                                   # step 7 was never taken
    assert all(np.isfinite(v).all() for v in params_of(trainer).values())
    saved = load_checkpoint(tmp_path / "last.npz")
    reference = stepwise(max_steps=4, eval_every=4)   # the same run, stopped after step 4
    reference.fit()
    assert saved["trainer"]["step"] == 4
    for key, value in params_of(reference).items():
        np.testing.assert_array_equal(saved["model"][key], value, err_msg=key)
    last = read_metrics(tmp_path / METRICS_FILE)[-1]
    assert last["kind"] == "diverged" and last["step"] == 7 and last["loss"] is None


def test_a_loss_exploding_past_the_factor_stops_the_run(tmp_path):
    scale = {"factor": 1.0}

    def loss_fn(outputs, targets):   # from epoch 3 on the loss is 1000x larger
        return cross_entropy(outputs, targets) * scale["factor"]

    trainer = make_trainer(tmp_path, loss_fn=loss_fn, optimizer=SGD, lr=1e-4, epochs=4)
    trainer.config.epochs = 2
    trainer.fit()
    before = (tmp_path / "last.npz").read_bytes()
    trainer.config.epochs, scale["factor"] = 4, 1000.0
    with pytest.raises(DivergenceError, match=r"train_loss .* more than 10 x its best"):
        trainer.fit()
    assert (tmp_path / "last.npz").read_bytes() == before
    assert len(trainer.history) == 2


def test_divergence_factor_none_keeps_only_the_finite_rule(tmp_path):
    scale = {"factor": 1.0}

    def loss_fn(outputs, targets):
        return cross_entropy(outputs, targets) * scale["factor"]

    trainer = make_trainer(loss_fn=loss_fn, optimizer=SGD, lr=1e-4, epochs=1,
                           divergence_factor=None)
    trainer.fit()
    trainer.config.epochs, scale["factor"] = 2, 1000.0
    trainer.fit()
    assert trainer.history[1]["train_loss"] > 100 * trainer.history[0]["train_loss"]
    with pytest.raises(ValueError, match="divergence_factor"):
        TrainerConfig(divergence_factor=0.5)


# --- progress ------------------------------------------------------------------------------
def test_progress_lines_say_epoch_of_n_and_what_was_resumed(tmp_path, capsys):
    trainer = make_trainer(tmp_path, epochs=2)
    trainer.config.progress = True
    trainer.config.epochs = 1
    trainer.fit()
    out = capsys.readouterr().out
    assert "epoch 1/1: train loss" in out and "val accuracy" in out
    again = make_trainer(tmp_path, epochs=2)
    again.config.progress = True
    again.resume(tmp_path / "last.npz")
    again.fit()
    out = capsys.readouterr().out
    assert f"resumed from {tmp_path / 'last.npz'}: 1/2 epochs done (step 3); epoch 2 starts " \
           "again from its first batch" in out
    assert "epoch 2/2: train loss" in out and "epoch 1/" not in out


def test_step_progress_lines_count_to_the_budget(capsys):
    trainer = stepwise(max_steps=10, eval_every=5)
    trainer.config.progress = True
    trainer.fit()
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("step")]
    assert [line.split(":")[0] for line in lines] == ["step 0/10", "step 5/10", "step 10/10"]


def summary_rates(out, prefix):
    """{where: (last-step rate, first-step rate)} of the summary lines starting with `prefix`;
    a line with one rate (it did not change) gives it twice."""
    found = {}
    for line in out.splitlines():
        if line.startswith(prefix):
            both = re.search(r"lr (\S+) at the last step \((\S+) at the first\)", line)
            one = re.search(r"lr ([0-9.e+-]+),", line)
            found[line.split(":")[0]] = tuple(map(float, both.groups())) if both else \
                (float(one[1]), float(one[1]))
    return found


def test_summary_lines_give_the_rate_of_the_periods_last_step(capsys):
    """A per-step StepLR(step_size=3, gamma=0.5) from 0.05: step k (0-based) trains at
    0.05 * 0.5 ** (k // 3). The period of steps 0-4 ends at step 4's rate, that of 5-9 at
    step 9's, each labelled beside the rate it began with (the record's `lr`)."""
    trainer = stepwise(max_steps=10, eval_every=5)
    trainer.config.progress = True
    trainer.fit()
    rate = lambda k: 0.05 * 0.5 ** (k // 3)  # noqa: E731  (the closed form of StepLR)
    found = summary_rates(capsys.readouterr().out, "step")
    expected = {"step 0/10": (rate(0), rate(0)), "step 5/10": (rate(4), rate(0)),
                "step 10/10": (rate(9), rate(5))}
    assert found.keys() == expected.keys()
    for where, (last, first) in expected.items():
        assert found[where] == pytest.approx((last, first), rel=5e-3), where
    assert [h["lr"] for h in trainer.history] == pytest.approx([rate(0), rate(0), rate(5)])


def test_an_epoch_scheduler_leaves_one_rate_per_epoch_line(capsys):
    """StepLR(step_size=3, gamma=0.5) stepped per epoch: epoch e (1-based) trains at
    0.05 * 0.5 ** ((e - 1) // 3) throughout, and its line gives that one rate."""
    trainer = make_trainer(epochs=4)
    trainer.config.progress = True
    trainer.fit()
    out = capsys.readouterr().out
    assert "at the last step" not in out
    found = summary_rates(out, "epoch")
    for e in range(1, 5):
        assert found[f"epoch {e}/4"][0] == pytest.approx(0.05 * 0.5 ** ((e - 1) // 3), rel=5e-3)


def bar_frames(err):
    """The frames tqdm drew on stderr (split at carriage returns and newlines, ANSI codes out)."""
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", err)
    return [frame.strip() for frame in re.split(r"[\r\n]", text) if frame.strip()]


def test_one_bar_for_the_run_counts_the_validation_batches_in_its_postfix(capsys):
    """Epochs of 3 steps, 2 epochs: every frame is the run's bar (`epoch k/2`, n/6 steps, k
    the epoch step n is in), the validation batches are counted after the step's postfix,
    and no second bar is drawn."""
    trainer = make_trainer(epochs=2)
    trainer.val_loader.batch_size = 16  # 32 validation samples: 2 batches
    trainer.config.progress = True
    trainer.fit()
    frames = bar_frames(capsys.readouterr().err)
    assert frames and all(re.match(r"epoch [12]/2: +\d+%\|", f) for f in frames), frames
    for frame in frames:
        epoch, done = int(frame[6]), int(re.search(r"\| (\d+)/6 \[", frame)[1])
        assert 3 * (epoch - 1) <= done <= 3 * epoch, frame
    assert any(re.search(r"loss=\S+, lr=\S+, val 2/2\]", f) for f in frames)
    assert frames[-1].startswith("epoch 2/2: 100%") and "val" not in frames[-1]
