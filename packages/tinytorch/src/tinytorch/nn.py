"""tinytorch.nn: layers, activations, losses, convolution, normalization, attention, ...

Every public name of the course table's `tinytorch.nn` modules, tt_layers first and then the
others in course order (first one wins); like `torch.nn`.
"""

from ._lazy import Namespace

_namespace = Namespace.from_course_table("tinytorch.nn")
_namespace.require_primary()
__getattr__ = _namespace.getattr
__dir__ = _namespace.dir
