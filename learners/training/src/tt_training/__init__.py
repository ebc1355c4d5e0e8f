"""TinyTorch module 11 (training): the Trainer, checkpoints that resume exactly, results files,
a metrics file per run and the divergence rule."""

from ._version import __version__
from .checkpoint import (CheckpointError, atomic_write, load_checkpoint, npz_headers,
                         save_checkpoint)
from .monitor import METRICS_FILE, DivergenceError, read_metrics
from .trainer import Trainer, TrainerConfig, write_json

__all__ = ["__version__", "Trainer", "TrainerConfig", "save_checkpoint", "load_checkpoint",
           "CheckpointError", "write_json", "atomic_write", "npz_headers", "DivergenceError",
           "read_metrics", "METRICS_FILE"]
