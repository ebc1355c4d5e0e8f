"""TinyTorch module 04 (layers): Module, Parameter, Linear, initialisers and Flatten.

`Module` finds parameters, buffers and submodules from its attributes; every layer of later
modules subclasses it. `init` holds the initialisers under PyTorch's names (torch.nn.init).
"""

from . import init
from ._version import __version__
from .activation import GELU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleList
from .hooks import (
    RemovableHandle, register_module_forward_hook, register_module_forward_pre_hook,
)
from .init import (
    calculate_gain, constant_, kaiming_normal_, kaiming_uniform_, normal_, ones_, uniform_,
    xavier_normal_, xavier_uniform_, zeros_,
)
from .linear import Flatten, Identity, Linear
from .module import IncompatibleKeys, Module
from .parameter import Parameter

__all__ = [
    "__version__",
    # the base class and its pieces
    "Module", "Parameter", "IncompatibleKeys", "ModuleList",
    "register_module_forward_hook", "register_module_forward_pre_hook", "RemovableHandle",
    # layers
    "Linear", "Flatten", "Identity",
    "ReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "LogSoftmax",
    # initialisers (also as the namespace `init`, like torch.nn.init)
    "init", "calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
]
