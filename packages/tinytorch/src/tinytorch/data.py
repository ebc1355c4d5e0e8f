"""tinytorch.data: datasets and loaders, like `torch.utils.data`.

The public names of tt_dataloader: Dataset, TensorDataset, DataLoader, transforms, datasets.
"""

from ._lazy import Namespace

_namespace = Namespace.from_course_table("tinytorch.data")
_namespace.require_primary()
__getattr__ = _namespace.getattr
__dir__ = _namespace.dir
