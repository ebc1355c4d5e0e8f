"""BatchNorm1d and BatchNorm2d: learnable scale and shift, running statistics as buffers."""

from tt_layers import Module, Parameter
from tt_tensor import as_tensor, int64, ones, tensor, zeros

from .functional import batch_norm


class _BatchNorm(Module):
    """Shared code of BatchNorm1d/2d; subclasses name the input ranks they accept."""

    _input_ranks = ()   # allowed x.ndim
    _layout = ""        # how the expected input reads in error messages

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True):
        super().__init__()
        if num_features < 1:
            raise ValueError(f"{type(self).__name__}: num_features must be positive, "
                             f"got {num_features}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features))   # gamma
            self.bias = Parameter(zeros(num_features))    # beta
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features))
            self.register_buffer("running_var", ones(num_features))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            self.weight.data[...] = 1
            self.bias.data[...] = 0

    def _check_input(self, x):
        if x.ndim not in self._input_ranks or x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): expected input "
                f"{self._layout.format(C=self.num_features)}, got shape {x.shape}"
            )

    def _count_batch(self):
        """Count this forward's batch and return its running-statistics averaging factor.

        In training mode with running statistics, add 1 to `num_batches_tracked` (this is the
        only place that does) and return `momentum`, or 1 / num_batches_tracked (the new count)
        when momentum is None (a cumulative average, as in PyTorch). Otherwise (eval mode, or
        track_running_stats=False) count nothing and return 0.0.
        """
        ### BEGIN SOLUTION
        if not (self.training and self.track_running_stats
                and self.num_batches_tracked is not None):
            return 0.0
        self.num_batches_tracked.data[...] += 1       # a buffer: written in place, no graph
        if self.momentum is None:
            return 1.0 / int(self.num_batches_tracked.data)   # cumulative average
        return self.momentum
        ### END SOLUTION

    def forward(self, x):
        x = as_tensor(x)
        self._check_input(x)
        factor = self._count_batch()
        # Train mode (or no running stats): batch statistics. Eval: the running ones.
        use_batch = self.training or self.running_mean is None
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          use_batch, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) inputs, per channel C."""

    _input_ranks = (2, 3)
    _layout = "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W) inputs, per channel C."""

    _input_ranks = (4,)
    _layout = "(N, {C}, H, W)"
