"""Trainer: the training loop every vision and language capstone shares.

fit() trains by epochs (passes over the training set, CIFAR-10) or by a step budget with an
evaluation every N steps (language models, TinyGPT): forward, loss, backward, gradient clipping,
optimizer step, LR scheduling; then, at the end of each epoch or evaluation period, a validation
pass under no_grad, one line in the run's metrics file, the divergence check, early stopping and
checkpoints. A checkpoint holds everything the next step depends on (model, optimizer, scheduler,
data order, RNGs), so a run resumed from it continues exactly as the uninterrupted run would have.
"""

import copy
import json
import math
import os
import time
from dataclasses import asdict

import numpy as np
from tqdm.auto import tqdm
from tt_networks import accuracy
from tt_optimizers import clip_grad_norm_
from tt_tensor import no_grad

from . import _resume
from .checkpoint import CheckpointError, atomic_write, load_checkpoint, save_checkpoint
from .config import TrainerConfig
from .monitor import METRICS_FILE, DivergenceError, MetricsLog, divergence
from .progress import counted, lr_text


def _state_of(obj):
    return obj.state_dict() if obj is not None and hasattr(obj, "state_dict") else None


class Trainer:
    """Train `model` with `optimizer` on `train_loader`, scoring `val_loader` each epoch
    (or every config.eval_every steps). `val_loader` may be a dict {name: loader}: each
    entry's figures are recorded as `<name>_loss`, `<name>_<metric>`."""

    def __init__(self, model, optimizer, loss_fn, train_loader, val_loader=None, scheduler=None,
                 metrics=None, config=None):
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.train_loader, self.val_loader, self.scheduler = train_loader, val_loader, scheduler
        self.metrics = {"accuracy": accuracy} if metrics is None else dict(metrics)
        self.config = config or TrainerConfig()
        self.epoch = 0              # epochs (passes over train_loader) completed
        self.step = 0               # optimizer steps completed
        self.history = []           # one dict of figures per epoch (per evaluation)
        self.best = None            # best value of config.monitor so far
        self.bad_epochs = 0         # records since it last improved
        self.stopped_early = False
        self.wall_seconds = 0.0     # time spent in fit(), over every session of the run
        self.last_checkpoint = None  # (path, step) of the latest checkpoint written or resumed
        self._resumed_from = None
        self._bar, self._log = None, MetricsLog(None)
        self._session_start = None  # set by fit()
        self._train_seconds = 0.0   # time in training steps (batch, forward, backward, update)
        self._last_lr = None        # the rate of the current period's latest step (None: none)
        self._scoring = "val"       # the validation set being scored (its name on the bar)

    # --- one step, one pass -----------------------------------------------------------
    def train_step(self, inputs, targets):
        """One optimizer step on a batch; returns (loss as a float, outputs)."""
        outputs = self.model(inputs)
        loss = self.loss_fn(outputs, targets)
        value = loss.item()
        if not math.isfinite(value):  # before backward: a NaN never reaches the weights
            raise self._diverged(f"its loss is {value}", value, self.step + 1)
        ### BEGIN SOLUTION
        self.optimizer.zero_grad()
        loss.backward()
        if self.config.grad_clip is not None:
            clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        if self.scheduler is not None and self.config.scheduler_interval == "step":
            self.scheduler.step()
        ### END SOLUTION
        self.step += 1
        return value, outputs

    def train_epoch(self):
        """One pass over train_loader; returns the sample-weighted mean loss and metrics."""
        window = {"count": 0}
        self._train_on(self.train_loader, window, math.inf)
        return self._means(window)

    def _train_on(self, batches, window, stop_at):
        """Train on `batches` until they end (returns True) or self.step reaches stop_at
        (returns False); sums the losses and metrics into `window`."""
        self.model.train()
        tick = time.perf_counter()
        for inputs, targets in batches:
            lr = self._last_lr = self._lr()
            loss, outputs = self.train_step(inputs, targets)
            n = len(targets)
            window["count"] += n
            self._add(window, "loss", loss, n)
            with no_grad():
                for name, fn in self.metrics.items():
                    self._add(window, name, float(fn(outputs, targets)), n)
            if self._bar is not None:  # postfix first: the frame update() draws shows this step
                self._bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2e}", refresh=False)
                self._bar.update(1)
            now = time.perf_counter()
            self._train_seconds, tick = self._train_seconds + now - tick, now
            if self.config.log_every and self.step % self.config.log_every == 0:
                self._log.write("step", self.step, self.epoch, self._wall(), lr=lr, loss=loss)
            if self.step >= stop_at:
                return False
        return True

    @staticmethod
    def _add(totals, name, value, n):
        totals[name] = totals.get(name, 0.0) + value * n

    @staticmethod
    def _means(window):
        count = window.pop("count")
        return {k: v / count for k, v in window.items()} if count else {}

    def evaluate(self, loader):
        """Mean loss and metrics over `loader` in eval mode, without recording a graph."""
        was_training = self.model.training
        self.model.eval()
        totals, count = {}, 0
        if hasattr(loader, "set_step"):  # a sampled estimate draws the batches of this step
            loader.set_step(self.step)
        with no_grad():
            for inputs, targets in counted(loader, self._bar, self._scoring,
                                           self.config.progress):
                outputs = self.model(inputs)
                n = len(targets)
                count += n
                self._add(totals, "loss", self.loss_fn(outputs, targets).item(), n)
                for name, fn in self.metrics.items():
                    self._add(totals, name, float(fn(outputs, targets)), n)
        self.model.train(was_training)
        return {k: v / max(count, 1) for k, v in totals.items()}

    def _evaluate_all(self):
        loaders = self.val_loader if isinstance(self.val_loader, dict) else \
            {"val": self.val_loader}
        figures = {}
        for name, loader in loaders.items():
            self._scoring = name  # what the bar says it counts
            figures.update({f"{name}_{k}": v for k, v in self.evaluate(loader).items()})
        return figures

    # --- the loop ---------------------------------------------------------------------
    def fit(self):
        """Train until the epochs or the step budget are done, or early stopping; returns
        history. Raises DivergenceError (last good checkpoint untouched) when the loss is not
        finite or explodes past config.divergence_factor x its best."""
        cfg = self.config
        self._session_start = self._period_end = time.perf_counter()
        self._wall_before, self._last_lr = self.wall_seconds, None
        self._open_log()
        stepwise = cfg.max_steps is not None
        total = cfg.max_steps if stepwise else self._steps_per_epoch() * cfg.epochs
        where = "train" if stepwise else f"epoch {min(self.epoch + 1, cfg.epochs)}/{cfg.epochs}"
        self._bar = tqdm(total=total or None, initial=self.step, desc=where, unit="step",
                         disable=not cfg.progress, dynamic_ncols=True)
        try:
            self._fit_steps() if stepwise else self._fit_epochs()
        finally:
            self._bar.close()
            self.wall_seconds = self._wall()
            self._bar = self._session_start = None  # the clock runs only inside fit()
        return self.history

    def _open_log(self):
        """The metrics file of this run: a fresh run starts it anew; a run that goes on keeps
        the records up to its current step (later ones are about to be trained again)."""
        cfg = self.config
        self._log = MetricsLog(None if cfg.checkpoint_dir is None else
                               os.path.join(cfg.checkpoint_dir, METRICS_FILE))
        fresh = self.step == 0 and not self.history
        dropped = self._log.start(None if fresh else self.step)
        if self._resumed_from is not None:
            self._log.write("resume", self.step, self.epoch, self.wall_seconds,
                            checkpoint=self._resumed_from, dropped_records=dropped)
            self._resumed_from = None
        if dropped and not fresh:
            self._write(f"{dropped} metrics records logged after step {self.step} were dropped: "
                        "those steps are trained again")

    def _fit_epochs(self):
        cfg = self.config
        while self.epoch < cfg.epochs and not self.stopped_early:
            self._bar.set_description(f"epoch {self.epoch + 1}/{cfg.epochs}", refresh=False)
            lr = self._lr()
            figures = self.train_epoch()
            self.epoch += 1
            if self.scheduler is not None and cfg.scheduler_interval == "epoch":
                self.scheduler.step()
            self._record("epoch", figures, lr, checkpoint=self.epoch % cfg.checkpoint_every == 0
                         or self.epoch == cfg.epochs)

    def _fit_steps(self):
        cfg = self.config
        every = cfg.eval_every or max(cfg.max_steps, 1)
        if self.step == 0 and not self.history and self.val_loader is not None:
            self._record("eval", {}, self._lr(), checkpoint=True)  # the untrained baseline
        batches, fresh = iter(self.train_loader), True
        while self.step < cfg.max_steps and not self.stopped_early:
            window, lr = {"count": 0}, self._lr()
            stop_at = min(cfg.max_steps, (self.step // every + 1) * every)
            while self.step < stop_at:
                before = self.step
                if not self._train_on(batches, window, stop_at):
                    fresh = False
                    continue
                if fresh and self.step == before:  # the loader ran out: a new pass, unless empty
                    raise ValueError("train_loader yielded no batch in a whole pass")
                batches, fresh = iter(self.train_loader), True
            if self._steps_per_epoch():  # passes over a loader of known length
                self.epoch = self.step // self._steps_per_epoch()
            evals = self.step // every
            self._record("eval", self._means(window), lr, checkpoint=self.step == cfg.max_steps
                         or evals % cfg.checkpoint_every == 0)

    def _record(self, kind, train_figures, lr, checkpoint):
        """Close a period: evaluate, check divergence, log, track, checkpoint, summary line."""
        record = {"epoch": self.epoch, "step": self.step, "lr": lr}
        record.update({f"train_{k}": v for k, v in train_figures.items()})
        if self.val_loader is not None:
            record.update(self._evaluate_all())
        previous, self._period_end = self._period_end, time.perf_counter()
        record["seconds"] = self._period_end - previous
        record["train_seconds"], self._train_seconds = self._train_seconds, 0.0
        why = divergence(record, self.history, self.config.divergence_factor)
        if why is not None:
            raise self._diverged(why, record.get("train_loss"), self.step)
        self.history.append(record)
        self._log.write(kind, self.step, self.epoch, self._wall(),
                        **{k: v for k, v in record.items() if k not in ("step", "epoch")})
        improved = self._track(record)
        self._checkpoint(improved, checkpoint or self.stopped_early)
        self._summary(kind, record)

    def _diverged(self, why, loss, step):
        """The DivergenceError to raise at `step` (and its line in the metrics file)."""
        path, saved_at = self.last_checkpoint or (None, None)
        kept = f"the last good checkpoint, {path} (step {saved_at}), is unchanged" if path \
            else "no checkpoint was written"
        self._log.write("diverged", step, self.epoch, self._wall(), reason=why, loss=loss)
        return DivergenceError(f"training diverged at step {step}: "
                               f"{why}; {kept}", step, self.epoch, loss, path)

    def _summary(self, kind, record):
        cfg = self.config
        if kind == "epoch":
            where = f"epoch {self.epoch}/{cfg.epochs}"
        else:
            where = f"step {self.step}/{cfg.max_steps}"
        figures = ", ".join(f"{k.replace('_', ' ')} {v:.4f}" for k, v in record.items()
                            if k not in ("epoch", "step", "lr", "seconds", "train_seconds"))
        last, self._last_lr = self._last_lr, None  # the next period starts without a step
        self._write(f"{where}: {figures}, {lr_text(record['lr'], last)}, "
                    f"{record['seconds']:.1f} s")

    def _write(self, line):
        if self.config.progress:
            tqdm.write(line)

    def _wall(self):
        """Seconds spent in fit() by this run, this session included."""
        if self._session_start is None:
            return self.wall_seconds
        return self._wall_before + time.perf_counter() - self._session_start

    def _steps_per_epoch(self):
        return len(self.train_loader) if hasattr(self.train_loader, "__len__") else 0

    def _lr(self):
        return float(self.optimizer.param_groups[0]["lr"])

    def _track(self, record):
        """Update best / bad_epochs / stopped_early from this record's monitored metric."""
        cfg = self.config
        if cfg.monitor not in record:
            return False
        ### BEGIN SOLUTION
        value = record[cfg.monitor]
        if value is None or not math.isfinite(value):
            improved = False  # a NaN never becomes the best, and counts as no improvement
        elif self.best is None:
            improved = True
        else:
            improved = value < self.best if cfg.mode == "min" else value > self.best
        if improved:
            self.best, self.bad_epochs = float(value), 0
        else:
            self.bad_epochs += 1
        if cfg.patience is not None and self.bad_epochs >= cfg.patience:
            self.stopped_early = True
        return improved
        ### END SOLUTION

    def _checkpoint(self, improved, due):
        cfg = self.config
        if cfg.checkpoint_dir is None:
            return
        self.wall_seconds = self._wall()
        if due:
            path = os.path.join(cfg.checkpoint_dir, cfg.checkpoint_name)
            self.save(path)
            self.last_checkpoint = (path, self.step)
        if improved:
            self.save(os.path.join(cfg.checkpoint_dir, "best.npz"))

    # --- checkpoints ------------------------------------------------------------------
    def state_dict(self):
        """Everything the next step depends on."""
        return {
            "model": self.model.state_dict(),
            "optimizer": _state_of(self.optimizer),
            "scheduler": _state_of(self.scheduler),
            "train_loader": _state_of(self.train_loader),
            "numpy_rng": list(np.random.get_state()),
            "module_rngs": [g.bit_generator.state
                            for g in _resume.module_generators(self.model)],
            "types": {name: type(getattr(self, name)).__name__
                      for name in ("optimizer", "scheduler")},
            "trainer": {name: copy.deepcopy(getattr(self, name))
                        for name in _resume.TRAINER_FIELDS},
        }

    def load_state_dict(self, state):
        """Load a state_dict(); ValueError listing every problem, before anything changes."""
        found = _resume.problems(self, state)
        if found:
            raise ValueError("; ".join(found))
        before = self.state_dict()
        try:
            self._apply(state)
        except Exception:
            self._apply(before)  # a component refused its part: put every part back
            raise

    def _apply(self, state):
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        for name in ("scheduler", "train_loader"):
            if state.get(name) is not None:
                getattr(self, name).load_state_dict(state[name])
        for generator, saved in zip(_resume.module_generators(self.model),
                                    state.get("module_rngs") or []):
            generator.bit_generator.state = saved
        np.random.set_state(tuple(state["numpy_rng"]))
        fields = state["trainer"]
        for name in _resume.TRAINER_FIELDS:
            if name in fields:  # only known fields: a file cannot set anything else
                setattr(self, name, copy.deepcopy(fields[name]))
        if "step" not in fields:
            self.step = self.epoch * self._steps_per_epoch()

    def save(self, path):
        """Write a checkpoint atomically (temporary file, then rename)."""
        save_checkpoint(path, self.state_dict())

    def resume(self, path):
        """Continue from a checkpoint written by save(); CheckpointError naming the file and
        every problem when it is unreadable or does not fit this Trainer (nothing changed)."""
        try:
            self.load_state_dict(load_checkpoint(path))
        except CheckpointError:
            raise
        except (ValueError, TypeError, KeyError, RuntimeError) as err:
            raise CheckpointError(f"cannot resume from {os.fspath(path)!r}: {err}") from None
        self._resumed_from = os.fspath(path)
        self.last_checkpoint = (os.fspath(path), self.step)
        self._write(self._resume_line(path))
        return self

    def _resume_line(self, path):
        cfg = self.config
        if cfg.max_steps is not None:
            return (f"resumed from {os.fspath(path)} at step {self.step}/{cfg.max_steps}; "
                    f"the steps after it are trained again from the same batches")
        return (f"resumed from {os.fspath(path)}: {self.epoch}/{cfg.epochs} epochs done "
                f"(step {self.step}); epoch {self.epoch + 1} starts again from its first batch")

    # --- results ----------------------------------------------------------------------
    def results(self):
        """A JSON-able summary: config, history, best monitored value, epochs, steps, time."""
        return {"config": asdict(self.config), "history": self.history, "best": self.best,
                "monitor": self.config.monitor, "epochs_run": self.epoch,
                "steps_run": self.step, "stopped_early": self.stopped_early,
                "wall_seconds": self.wall_seconds}

    def write_results(self, path, extra=None):
        """Write results() (plus `extra`) as JSON, atomically."""
        write_json(path, {**self.results(), **(extra or {})})


def write_json(path, data):
    """Write `data` as indented JSON through a temporary file and a rename."""
    atomic_write(path, lambda f: json.dump(data, f, indent=2), mode="w")
