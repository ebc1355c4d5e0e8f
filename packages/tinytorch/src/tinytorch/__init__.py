"""TinyTorch: one namespace over the installed course modules, like `torch`.

    import tinytorch as tt
    x = tt.tensor([[1.0, 2.0]])           # tt_tensor
    model = tt.nn.Linear(2, 1)            # tt_layers, tt_networks, tt_spatial, ...
    opt = tt.optim.SGD(model.parameters(), lr=0.1)   # tt_optimizers
    loader = tt.data.DataLoader(dataset)  # tt_dataloader

Names are looked up when first used, in the `__all__` of the module packages; a name whose
package is not installed raises an ImportError that names the extra to install.
"""

import importlib
import importlib.util

from ._lazy import Namespace
from ._version import __version__

# The rest is resolved lazily from tt_tensor's __all__ (the course table's `tinytorch`
# namespace): see __getattr__ and _lazy.Namespace.
__all__ = ["__version__", "seed_everything"]

_SUBMODULES = ("nn", "optim", "data", "autograd")
_namespace = Namespace.from_course_table("tinytorch")


def __getattr__(name):
    # `from tinytorch import capstone` asks for the attribute first: a submodule of this
    # package is imported as itself, never looked up in the course modules (which load NumPy)
    if name in _SUBMODULES or importlib.util.find_spec(f"tinytorch.{name}") is not None:
        return importlib.import_module(f"tinytorch.{name}")
    if name == "seed_everything":  # looked up on first use: tt_setup.environment loads NumPy,
        import tt_setup  # and importing tinytorch must not (see tinytorch.capstone.apply_threads)

        return tt_setup.seed_everything
    return _namespace.getattr(name)


def __dir__():
    return sorted(set(_namespace.dir()) | set(_SUBMODULES) | {"seed_everything"})
