"""A quarter-width ResNet-9 (the DAWNBench layout by David Page) from TinyTorch modules.

conv-BN-ReLU blocks of 3x3 convolutions (padding 1, no bias), widths 16/32/64/128:

    prep   conv(3->16)                                        (B, 16, 32, 32)
    layer1 conv(16->32), maxpool 2, + residual(2 x conv(32->32))   (B, 32, 16, 16)
    layer2 conv(32->64), maxpool 2                            (B, 64, 8, 8)
    layer3 conv(64->128), maxpool 2, + residual(2 x conv(128->128)) (B, 128, 4, 4)
    head   global max-pool (a 4x4 max-pool), flatten, Linear(128->10, no bias), x 0.125

The final 0.125 scales the logits down, as Page's network does, so the softened targets of
label smoothing are reached without huge weights. About 48 MFLOP of matmul work per image
forward (3x that for a training step).
"""

from tt_layers import Flatten, Linear, Module, ReLU
from tt_networks import Sequential
from tt_normalization import BatchNorm2d
from tt_spatial import Conv2d, MaxPool2d

WIDTHS = (16, 32, 64, 128)
LOGIT_SCALE = 0.125


def conv_bn(c_in, c_out):
    """3x3 convolution (padding 1, no bias: BN's shift replaces it), batch norm, ReLU."""
    return Sequential(Conv2d(c_in, c_out, 3, padding=1, bias=False), BatchNorm2d(c_out), ReLU())


class Residual(Module):
    """x + body(x): the shortcut keeps a gradient path around the body."""

    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


class Scale(Module):
    """Multiply by a constant (no parameter)."""

    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor

    def extra_repr(self):
        return f"{self.factor}"


def build_resnet9(widths=WIDTHS, classes=10):
    """The network of the module docstring, for (B, 3, 32, 32) inputs -> (B, classes)."""
    w0, w1, w2, w3 = widths
    return Sequential(
        conv_bn(3, w0),                                                        # (B, w0, 32, 32)
        conv_bn(w0, w1), MaxPool2d(2),                                         # (B, w1, 16, 16)
        Residual(Sequential(conv_bn(w1, w1), conv_bn(w1, w1))),
        conv_bn(w1, w2), MaxPool2d(2),                                         # (B, w2, 8, 8)
        conv_bn(w2, w3), MaxPool2d(2),                                         # (B, w3, 4, 4)
        Residual(Sequential(conv_bn(w3, w3), conv_bn(w3, w3))),
        MaxPool2d(4), Flatten(),                                               # (B, w3)
        Linear(w3, classes, bias=False), Scale(LOGIT_SCALE),                   # (B, classes)
    )
