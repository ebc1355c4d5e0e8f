"""TrainerConfig: everything fit() is told, as a dataclass with commented defaults."""

from dataclasses import dataclass


@dataclass
class TrainerConfig:
    epochs: int = 10                    # passes over the training set (when max_steps is None)
    max_steps: int | None = None        # step budget: train this many optimizer steps instead
    eval_every: int | None = None       # with max_steps: evaluate every this many steps (None:
                                        # only at step 0 and at the end)
    scheduler_interval: str = "epoch"   # step the LR scheduler every "epoch" or every "step"
    checkpoint_dir: str | None = None   # the run folder: checkpoints and metrics.jsonl (None: no
                                        # files at all)
    checkpoint_name: str = "last.npz"   # file name of the latest checkpoint in checkpoint_dir
    checkpoint_every: int = 1           # epochs (evaluations with max_steps) between checkpoints
    monitor: str = "val_loss"           # metric watched for best checkpoint and early stopping
    mode: str = "min"                   # "min" for losses, "max" for accuracies
    patience: int | None = None         # stop after this many epochs (evaluations) without
                                        # improvement
    grad_clip: float | None = None      # clip the global gradient norm to this (None: off)
    log_every: int | None = None        # also log the step loss every this many steps (None: off)
    divergence_factor: float | None = 10.0  # stop when train_loss exceeds this x its best
    progress: bool = True               # show tqdm bars and one summary line per record

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
        for name, least in (("max_steps", 0), ("eval_every", 1), ("log_every", 1)):
            value = getattr(self, name)
            if value is not None and value < least:
                raise ValueError(f"{name} must be >= {least} or None, got {value}")
        if self.max_steps is not None and self.scheduler_interval != "step":
            raise ValueError("with max_steps there are no epochs to schedule by: pass "
                             "scheduler_interval='step'")
        if self.divergence_factor is not None and self.divergence_factor <= 1:
            raise ValueError(f"divergence_factor must be > 1 or None, got "
                             f"{self.divergence_factor}")
