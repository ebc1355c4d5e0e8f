"""CIFAR-10 CNN capstone: train a convolutional network on real CIFAR-10 with TinyTorch.

    python capstones/cifar10/train.py --data-dir PATH [--preset bar|northstar] [--quick]

PATH holds cifar-10-batches-py/ (or set TINYTORCH_DATA). Writes results.json, the
checkpoints (last.npz, best.npz), metrics.jsonl and curves.png (when matplotlib is installed) to
--out. An --out that already holds a run is refused unless --resume or --force is given.
"""

import argparse
import os
import platform
import shlex
import sys
import time
from dataclasses import asdict, dataclass, replace

import numpy as np

try:
    from tt_dataloader import (
        CIFAR10, Compose, DataLoader, Normalize, RandomCrop, RandomHorizontalFlip,
    )
    from tt_layers import Flatten, Linear, ReLU
    from tt_networks import Sequential, cross_entropy
    from tt_normalization import BatchNorm2d
    from tt_optimizers import Adam, OneCycleLR
    from tt_setup import seed_everything, tune_allocator
    from tt_spatial import Conv2d, MaxPool2d
    from tt_training import CheckpointError, DivergenceError, Trainer, TrainerConfig
except ModuleNotFoundError as err:  # a course module is missing: name the install that has it
    if not (err.name or "").startswith("tt_"):
        raise
    sys.exit(f"the CIFAR-10 capstone needs TinyTorch's vision modules ({err.name} is not "
             "installed): pip install 'tinytorch[vision]'")

RUN_FILES = ("last.npz", "best.npz", "metrics.jsonl", "results.json")  # what makes OUT a run

MEAN = (0.4914, 0.4822, 0.4465)  # per-channel statistics of the CIFAR-10 training set
STD = (0.2470, 0.2435, 0.2616)


@dataclass
class Config:
    preset: str = "bar"        # which entry of PRESETS this run started from
    epochs: int = 4            # passes over the 50,000 training images
    batch_size: int = 64       # images per step
    max_lr: float = 2e-3       # peak learning rate of the one-cycle schedule
    weight_decay: float = 0.0  # Adam's L2 penalty
    augment: bool = True       # random crop (padding 4) and horizontal flip
    limit: int | None = None   # use only the first `limit` training images (quick runs)
    seed: int = 0              # seeds weights, data order and augmentation


PRESETS = {
    "bar": Config(),
    # The North Star (>= 75% in <= 30 min): the same CNN for 10 epochs, 79.7% in 14 min 28 s
    # measured (README). A deeper VGG-style net was tried: 6x the time per step on 2 cores.
    "northstar": Config(preset="northstar", epochs=10),
    "quick": Config(epochs=1, batch_size=32, limit=256, augment=True),
}


def conv_block(c_in, c_out):
    """3x3 convolution (no padding), batch norm, ReLU."""
    return [Conv2d(c_in, c_out, 3), BatchNorm2d(c_out), ReLU()]


def build_model():
    """The course CNN: two conv blocks, then an MLP head."""
    return Sequential(
        *conv_block(3, 32), MaxPool2d(2),              # (B, 32, 15, 15)
        *conv_block(32, 64), MaxPool2d(2),             # (B, 64, 6, 6)
        Flatten(), Linear(64 * 6 * 6, 256), ReLU(),    # (B, 256)
        Linear(256, 10),                               # (B, 10)
    )


def make_loaders(data_dir, cfg):
    train_tf = [Normalize(MEAN, STD)]
    if cfg.augment:
        train_tf = [RandomCrop(32, padding=4, seed=cfg.seed),
                    RandomHorizontalFlip(seed=cfg.seed + 1)] + train_tf
    train = CIFAR10(data_dir, train=True, transform=Compose(train_tf))
    test = CIFAR10(data_dir, train=False, transform=Normalize(MEAN, STD))
    if cfg.limit is not None:  # quick runs: keep the first `limit` images of each split
        for split in (train, test):
            split.data, split.targets = split.data[:cfg.limit], split.targets[:cfg.limit]
    return (DataLoader(train, cfg.batch_size, shuffle=True, drop_last=True, seed=cfg.seed),
            DataLoader(test, 500))


def plot_curves(history, path):
    """Save loss and accuracy curves; returns a note instead when matplotlib is absent."""
    try:
        import matplotlib
    except ModuleNotFoundError:
        return "matplotlib not installed: no curves.png (pip install matplotlib)"
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for split in ("train", "val"):
        ax1.plot(epochs, [h[f"{split}_loss"] for h in history], marker="o", label=split)
        ax2.plot(epochs, [h[f"{split}_accuracy"] for h in history], marker="o", label=split)
    ax1.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax2.set(xlabel="epoch", ylabel="accuracy", title="accuracy (val = CIFAR-10 test set)")
    ax1.legend(), ax2.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return f"curves saved to {path}"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data-dir", default=None, help="folder holding cifar-10-batches-py/ "
                   "(default: $TINYTORCH_DATA)")
    p.add_argument("--preset", choices=["bar", "northstar"], default="bar")
    p.add_argument("--quick", action="store_true", help="a few hundred images, one epoch")
    p.add_argument("--epochs", type=int, help="passes over the training set")
    p.add_argument("--batch-size", type=int, help="images per step")
    p.add_argument("--max-lr", type=float, help="peak learning rate of the one-cycle schedule")
    p.add_argument("--seed", type=int)
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"),
                   help="the run folder")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.npz")
    p.add_argument("--force", action="store_true", help="start over in an OUT that holds a run")
    p.add_argument("--stop-after", type=int, help="stop after this many epochs in this session "
                   "(as if interrupted); --resume continues the same run")
    p.add_argument("--no-progress", action="store_true", help="hide the tqdm bar")
    args = p.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)  # for the resume command
    check_args(args)
    return args


def usage_error(message):
    """One line on stderr and exit status 2, as argparse does for a bad argument."""
    print(f"train.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def check_args(args):
    for flag, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size),
                        ("--stop-after", args.stop_after)):
        if value is not None and value < 1:
            usage_error(f"{flag} must be >= 1, got {value}")
    if args.max_lr is not None and not args.max_lr > 0:
        usage_error(f"--max-lr must be > 0, got {args.max_lr}")
    if args.seed is not None and args.seed < 0:
        usage_error(f"--seed must be >= 0, got {args.seed}")
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        what = "is a file, not a folder" if os.path.exists(args.data_dir) else "does not exist"
        usage_error(f"--data-dir {args.data_dir} {what}")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        usage_error(f"--out {args.out} is a file, not a folder")
    found = [name for name in RUN_FILES if os.path.exists(os.path.join(args.out, name))]
    if args.resume and args.force:
        usage_error("--resume continues the run in OUT, --force starts it over: pick one")
    if args.resume and "last.npz" not in found:
        usage_error(f"--resume: {args.out} has no last.npz; nothing to resume")
    if found and not (args.resume or args.force):
        usage_error(f"{args.out} already holds a run ({', '.join(found)}); continue it with "
                    f"{resume_command(args.argv)} or start over with --force")


def resume_command(argv):
    """The command line that continues this run."""
    args = [a for a in argv if a != "--force"]
    if "--resume" not in args:
        args.append("--resume")
    return shlex.join(["python", os.path.relpath(__file__), *args])


def fit(trainer, argv):
    """trainer.fit(); Ctrl-C and divergence end the program with one line, no traceback."""
    try:
        trainer.fit()
    except KeyboardInterrupt:
        saved = trainer.last_checkpoint
        if saved is None:
            print("\ninterrupted before the first checkpoint: nothing to resume",
                  file=sys.stderr)
        else:
            print(f"\ninterrupted in epoch {trainer.epoch + 1}; the last checkpoint is "
                  f"{saved[0]} (end of epoch {trainer.epoch}); resume with: "
                  f"{resume_command(argv)}", file=sys.stderr)
        raise SystemExit(130) from None
    except DivergenceError as err:
        print(f"train.py: {err}", file=sys.stderr)
        raise SystemExit(1) from None


def make_trainer(args, cfg, train_loader, test_loader):
    model = build_model()
    optimizer = Adam(model.parameters(), lr=cfg.max_lr, weight_decay=cfg.weight_decay)
    scheduler = OneCycleLR(optimizer, max_lr=cfg.max_lr, epochs=cfg.epochs,
                           steps_per_epoch=len(train_loader))
    return Trainer(model, optimizer, cross_entropy, train_loader, test_loader, scheduler,
                   config=TrainerConfig(epochs=cfg.epochs, scheduler_interval="step",
                                        checkpoint_dir=args.out, monitor="val_accuracy",
                                        mode="max", progress=not args.no_progress))


def main(argv=None):
    args = parse_args(argv)
    cfg = PRESETS["quick" if args.quick else args.preset]
    overrides = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                   ("max_lr", args.max_lr), ("seed", args.seed)) if v is not None}
    cfg = replace(cfg, **overrides)
    seed_everything(cfg.seed)
    tune_allocator()  # keep freed activation buffers for reuse: no page faults every step
    try:
        train_loader, test_loader = make_loaders(args.data_dir, cfg)
    except (FileNotFoundError, ValueError) as err:  # missing or damaged data: name it, no trace
        usage_error(str(err))
    trainer = make_trainer(args, cfg, train_loader, test_loader)
    if args.resume:
        try:
            trainer.resume(os.path.join(args.out, "last.npz"))
        except CheckpointError as err:
            usage_error(str(err))
    if args.stop_after is not None:
        trainer.config.epochs = min(cfg.epochs, trainer.epoch + args.stop_after)
    start = time.perf_counter()
    fit(trainer, args.argv)
    final = trainer.history[-1]
    note = plot_curves(trainer.history, os.path.join(args.out, "curves.png"))
    trainer.write_results(os.path.join(args.out, "results.json"), extra={
        "capstone": "cifar10-cnn", "capstone_config": asdict(cfg),
        "test_accuracy": final["val_accuracy"], "test_loss": final["val_loss"],
        "train_images_per_second": len(train_loader) * cfg.batch_size * cfg.epochs
        / max(trainer.wall_seconds, 1e-9),
        "session_seconds": time.perf_counter() - start, "plot": note,
        "machine": {"python": platform.python_version(), "numpy": np.__version__,
                    "cpus": os.cpu_count(), "platform": platform.platform()},
    })
    print(f"test accuracy {final['val_accuracy']:.4f} after {trainer.epoch} epochs "
          f"({trainer.wall_seconds:.0f} s); {note}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # outside training (fit() says where its checkpoint is)
        print("\ninterrupted outside training: run the command again (with --resume if the "
              "run folder holds a checkpoint)", file=sys.stderr)
        sys.exit(130)
