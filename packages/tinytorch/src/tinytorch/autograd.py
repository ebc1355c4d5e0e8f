"""tinytorch.autograd: reverse-mode differentiation, like `torch.autograd`.

The public names of tt_autograd: the engine behind Tensor.backward(), gradcheck.
"""

from ._lazy import Namespace

_namespace = Namespace.from_course_table("tinytorch.autograd")
_namespace.require_primary()
__getattr__ = _namespace.getattr
__dir__ = _namespace.dir
