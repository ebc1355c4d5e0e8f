"""tinytorch.optim: optimizers and LR schedulers, like `torch.optim`.

The public names of tt_optimizers: Optimizer, SGD, Adam, AdamW, schedulers, clip_grad_norm_.
"""

from ._lazy import Namespace

_namespace = Namespace.from_course_table("tinytorch.optim")
_namespace.require_primary()
__getattr__ = _namespace.getattr
__dir__ = _namespace.dir
