"""Trainer: the training loop every vision and language capstone shares.

fit() runs epochs of (forward, loss, backward, optimizer step), a validation pass under
no_grad, LR scheduling, metrics history, checkpoints and early stopping. A checkpoint holds
everything the next epoch depends on (model, optimizer, scheduler, data order, RNG), so a run
resumed from it continues exactly as the uninterrupted run would have.
"""

import json
import os
import time
from dataclasses import asdict, dataclass

import numpy as np
from tqdm.auto import tqdm
from tt_networks import accuracy
from tt_optimizers import clip_grad_norm_
from tt_tensor import no_grad

from .checkpoint import atomic_write, load_checkpoint, save_checkpoint


@dataclass
class TrainerConfig:
    epochs: int = 10                    # passes over the training set
    scheduler_interval: str = "epoch"   # step the LR scheduler every "epoch" or every "step"
    checkpoint_dir: str | None = None   # where last.npz / best.npz go (None: no checkpoints)
    checkpoint_every: int = 1           # epochs between checkpoints
    monitor: str = "val_loss"           # metric watched for best checkpoint and early stopping
    mode: str = "min"                   # "min" for losses, "max" for accuracies
    patience: int | None = None         # stop after this many epochs without improvement
    grad_clip: float | None = None      # clip the global gradient norm to this (None: off)
    progress: bool = True               # show tqdm bars

    def __post_init__(self):
        if self.scheduler_interval not in ("epoch", "step"):
            raise ValueError(
                f"scheduler_interval must be 'epoch' or 'step', got {self.scheduler_interval!r}"
            )
        if self.mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {self.mode!r}")
        if self.epochs < 0 or self.checkpoint_every < 1:
            raise ValueError(
                f"epochs must be >= 0 and checkpoint_every >= 1, got epochs={self.epochs}, "
                f"checkpoint_every={self.checkpoint_every}"
            )


def _state_of(obj):
    return obj.state_dict() if obj is not None and hasattr(obj, "state_dict") else None


class Trainer:
    """Train `model` with `optimizer` on `train_loader`, scoring `val_loader` each epoch."""

    def __init__(self, model, optimizer, loss_fn, train_loader, val_loader=None, scheduler=None,
                 metrics=None, config=None):
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.train_loader, self.val_loader, self.scheduler = train_loader, val_loader, scheduler
        self.metrics = {"accuracy": accuracy} if metrics is None else dict(metrics)
        self.config = config or TrainerConfig()
        self.epoch = 0              # epochs completed
        self.history = []           # one dict of metrics per epoch
        self.best = None            # best value of config.monitor so far
        self.bad_epochs = 0         # epochs since it last improved
        self.stopped_early = False
        self.wall_seconds = 0.0

    # --- one pass ---------------------------------------------------------------------
    def train_epoch(self):
        """One pass over train_loader; returns the sample-weighted mean loss and metrics."""
        self.model.train()
        totals, count = {}, 0
        bar = tqdm(self.train_loader, desc=f"epoch {self.epoch + 1}", leave=False,
                   disable=not self.config.progress)
        for inputs, targets in bar:
            ### BEGIN SOLUTION
            outputs = self.model(inputs)
            loss = self.loss_fn(outputs, targets)
            self.optimizer.zero_grad()
            loss.backward()
            if self.config.grad_clip is not None:
                clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
            self.optimizer.step()
            if self.scheduler is not None and self.config.scheduler_interval == "step":
                self.scheduler.step()
            ### END SOLUTION
            n = len(targets)
            count += n
            self._add(totals, "loss", loss.item(), n)
            with no_grad():
                for name, fn in self.metrics.items():
                    self._add(totals, name, float(fn(outputs, targets)), n)
            bar.set_postfix(loss=f"{totals['loss'] / count:.4f}")
        return {k: v / max(count, 1) for k, v in totals.items()}

    @staticmethod
    def _add(totals, name, value, n):
        totals[name] = totals.get(name, 0.0) + value * n

    def evaluate(self, loader):
        """Mean loss and metrics over `loader` in eval mode, without recording a graph."""
        was_training = self.model.training
        self.model.eval()
        totals, count = {}, 0
        with no_grad():
            for inputs, targets in tqdm(loader, desc="eval", leave=False,
                                        disable=not self.config.progress):
                outputs = self.model(inputs)
                n = len(targets)
                count += n
                self._add(totals, "loss", self.loss_fn(outputs, targets).item(), n)
                for name, fn in self.metrics.items():
                    self._add(totals, name, float(fn(outputs, targets)), n)
        self.model.train(was_training)
        return {k: v / max(count, 1) for k, v in totals.items()}

    # --- the loop ---------------------------------------------------------------------
    def fit(self):
        """Train until config.epochs are done or early stopping triggers; returns history."""
        cfg = self.config
        while self.epoch < cfg.epochs and not self.stopped_early:
            start = time.perf_counter()
            record = {"epoch": self.epoch + 1, "lr": self._lr()}
            record.update({f"train_{k}": v for k, v in self.train_epoch().items()})
            if self.val_loader is not None:
                record.update({f"val_{k}": v for k, v in self.evaluate(self.val_loader).items()})
            if self.scheduler is not None and cfg.scheduler_interval == "epoch":
                self.scheduler.step()
            record["seconds"] = time.perf_counter() - start
            self.wall_seconds += record["seconds"]
            self.history.append(record)
            self.epoch += 1
            improved = self._track(record)
            self._checkpoint(improved)
        return self.history

    def _lr(self):
        return float(self.optimizer.param_groups[0]["lr"])

    def _track(self, record):
        """Update best / bad_epochs / stopped_early from this epoch's monitored metric."""
        cfg = self.config
        if cfg.monitor not in record:
            return False
        ### BEGIN SOLUTION
        value = record[cfg.monitor]
        if self.best is None:
            better = True
        else:
            better = value < self.best if cfg.mode == "min" else value > self.best
        if better:
            self.best, self.bad_epochs = value, 0
        else:
            self.bad_epochs += 1
            if cfg.patience is not None and self.bad_epochs >= cfg.patience:
                self.stopped_early = True
        return better
        ### END SOLUTION

    def _checkpoint(self, improved):
        cfg = self.config
        if cfg.checkpoint_dir is None:
            return
        if self.epoch % cfg.checkpoint_every == 0 or self.stopped_early or self.epoch == cfg.epochs:
            self.save(os.path.join(cfg.checkpoint_dir, "last.npz"))
        if improved:
            self.save(os.path.join(cfg.checkpoint_dir, "best.npz"))

    # --- checkpoints ------------------------------------------------------------------
    def state_dict(self):
        """Everything the next epoch depends on."""
        return {
            "model": self.model.state_dict(),
            "optimizer": _state_of(self.optimizer),
            "scheduler": _state_of(self.scheduler),
            "train_loader": _state_of(self.train_loader),
            "numpy_rng": list(np.random.get_state()),
            "trainer": {"epoch": self.epoch, "history": self.history, "best": self.best,
                        "bad_epochs": self.bad_epochs, "stopped_early": self.stopped_early,
                        "wall_seconds": self.wall_seconds},
        }

    def load_state_dict(self, state):
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        for name in ("scheduler", "train_loader"):
            if state[name] is not None:
                getattr(self, name).load_state_dict(state[name])
        np.random.set_state(tuple(state["numpy_rng"]))
        for key, value in state["trainer"].items():
            setattr(self, key, value)

    def save(self, path):
        """Write a checkpoint atomically (temporary file, then rename)."""
        save_checkpoint(path, self.state_dict())

    def resume(self, path):
        """Continue from a checkpoint written by save(); a bad file raises CheckpointError."""
        self.load_state_dict(load_checkpoint(path))
        return self

    # --- results ----------------------------------------------------------------------
    def results(self):
        """A JSON-able summary: config, history, best monitored value, epochs and time."""
        return {"config": asdict(self.config), "history": self.history, "best": self.best,
                "monitor": self.config.monitor, "epochs_run": self.epoch,
                "stopped_early": self.stopped_early, "wall_seconds": self.wall_seconds}

    def write_results(self, path, extra=None):
        """Write results() (plus `extra`) as JSON, atomically."""
        write_json(path, {**self.results(), **(extra or {})})


def write_json(path, data):
    """Write `data` as indented JSON through a temporary file and a rename."""
    atomic_write(path, lambda f: json.dump(data, f, indent=2), mode="w")
