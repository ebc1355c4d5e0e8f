"""Conv2d, MaxPool2d and AvgPool2d: Modules around the functional forms."""

import math

from tt_layers import Module, Parameter, init
from tt_tensor import as_tensor, zeros

from .functional import _pair, avg_pool2d, conv2d, max_pool2d


class Conv2d(Module):
    """2-D convolution over (B, C, H, W) inputs; weight (OC, C, KH, KW), bias (OC,).

    PyTorch's default init: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    fan_in = C * KH * KW (kaiming_uniform_ with a = sqrt(5)).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        if in_channels < 1 or out_channels < 1:
            raise ValueError(f"Conv2d: channels must be positive, got in_channels={in_channels}, "
                             f"out_channels={out_channels}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = _pair(padding, "padding")
        self.weight = Parameter(zeros(out_channels, in_channels, *self.kernel_size))
        self.register_parameter("bias", Parameter(zeros(out_channels)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's Conv2d init (see the class docstring)."""
        ### BEGIN SOLUTION
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))     # U(-1/sqrt(fan_in), +...)
        if self.bias is not None:
            bound = 1.0 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)
        ### END SOLUTION

    def forward(self, x):
        x = as_tensor(x)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{self._name()}: expected input (B, {self.in_channels}, H, W), "
                f"got shape {x.shape}"
            )
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)  # (B, OC, OH, OW)

    def _name(self):
        return f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size})"

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        return text + ("" if self.bias is not None else ", bias=False")


class _Pool2d(Module):
    """Shared settings of the pooling layers (stride defaults to kernel_size)."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        for name, value in (("kernel_size", kernel_size), ("stride", stride or kernel_size),
                            ("padding", padding)):
            _pair(value, name)  # fail here, not at the first forward
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Maximum over KH x KW windows of (B, C, H, W) inputs."""

    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)  # (B, C, OH, OW)


class AvgPool2d(_Pool2d):
    """Mean over KH x KW windows of (B, C, H, W) inputs (zero padding counted)."""

    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding)  # (B, C, OH, OW)
