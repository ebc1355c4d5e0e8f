"""TinyTorch module 09 (autograd): reverse-mode differentiation of the tt-tensor graph.

`backward` (what `Tensor.backward()` calls) runs one reverse sweep over the recorded graph;
`RULES` holds the gradient rule of every tt-tensor primitive; `gradcheck` verifies gradients
against central differences.
"""

from ._version import __version__
from .engine import backward, grad, topological_order
from .gradcheck import gradcheck
from .rules import RULES, unbroadcast

__all__ = ["__version__", "backward", "grad", "gradcheck", "RULES", "unbroadcast",
           "topological_order"]
