"""TinyTorch module 16 (regularization): Dropout, weight-decay parameter groups and label
smoothing: three ways to keep a model from memorising its training set.
"""

from ._version import __version__
from .dropout import Dropout, dropout
from .label_smoothing import LabelSmoothingCrossEntropy, label_smoothing_cross_entropy
from .weight_decay import param_groups_for_weight_decay, split_decay_parameters

__all__ = [
    "__version__",
    "Dropout", "dropout",
    "param_groups_for_weight_decay", "split_decay_parameters",
    "label_smoothing_cross_entropy", "LabelSmoothingCrossEntropy",
]
