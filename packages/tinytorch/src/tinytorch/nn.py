"""tinytorch.nn: layers, activations, losses, convolution, normalization, attention, ...

Every public name of the packages below, first one wins; like `torch.nn`.
"""

from ._lazy import Namespace

_namespace = Namespace(
    "tinytorch.nn",
    primary="tt_layers",
    sources=("tt_layers", "tt_activations", "tt_networks", "tt_spatial", "tt_normalization",
             "tt_embeddings", "tt_attention", "tt_transformers", "tt_regularization"),
    # DESIGN.md's promised names, to name the missing package in the error message
    known={
        "ReLU": "tt_activations", "Sigmoid": "tt_activations", "Tanh": "tt_activations",
        "GELU": "tt_activations", "Softmax": "tt_activations", "LogSoftmax": "tt_activations",
        "Sequential": "tt_networks", "MSELoss": "tt_networks",
        "CrossEntropyLoss": "tt_networks", "BCELoss": "tt_networks",
        "Conv2d": "tt_spatial", "MaxPool2d": "tt_spatial", "AvgPool2d": "tt_spatial",
        "BatchNorm1d": "tt_normalization", "BatchNorm2d": "tt_normalization",
        "LayerNorm": "tt_normalization", "Embedding": "tt_embeddings",
        "MultiHeadAttention": "tt_attention", "TransformerBlock": "tt_transformers",
        "GPT": "tt_transformers", "Dropout": "tt_regularization",
    },
)
_namespace.require_primary()
__getattr__ = _namespace.getattr
__dir__ = _namespace.dir
