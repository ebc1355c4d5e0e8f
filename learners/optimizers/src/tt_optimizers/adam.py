"""Adam (L2 weight decay folded into the gradient) and AdamW (decoupled weight decay)."""

import math

import numpy as np

from .fused import adam_step, fast_paths_enabled
from .optimizer import Optimizer


class Adam(Optimizer):
    """torch.optim.Adam: moving averages of g and g^2 (2x the parameters of state)."""

    decoupled_weight_decay = False  # AdamW sets True: decay p directly, not through g

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad)
        self._validate(defaults)
        super().__init__(params, defaults)

    def _validate(self, options):
        super()._validate(options)
        betas = options["betas"]
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        if options["eps"] < 0.0:
            raise ValueError(f"Invalid epsilon value: {options['eps']}")
        if options["weight_decay"] < 0.0:
            raise ValueError(f"Invalid weight_decay value: {options['weight_decay']}")

    def _update_group(self, pairs, group):
        """Fast path (fused.py, README): every parameter of the group in blocks on the worker
        threads, the same values as _update; False where _update must run instead."""
        return fast_paths_enabled() and adam_step(self, pairs, group)

    def _update(self, param, grad, state, group):
        """One Adam step, in place on `param` (t counts this parameter's steps from 1):

            p = p * (1 - lr * weight_decay)      (AdamW only)
            g = grad + weight_decay * p          (Adam only)
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g^2
            v_max = max(v_max, v)                (amsgrad only; then v_max replaces v below)
            p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
        """
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        weight_decay, amsgrad = group["weight_decay"], group["amsgrad"]
        ### BEGIN SOLUTION
        if not state:  # first step: the moments start at zero, in the parameter's dtype
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
        if amsgrad and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        tmp = self._scratch(param, 1)

        g = grad  # never written: decay goes into scratch
        if weight_decay != 0:
            if self.decoupled_weight_decay:
                param *= 1 - lr * weight_decay
            else:
                g = np.multiply(param, weight_decay, out=self._scratch(param, 0))
                g += grad
        m *= beta1  # m = beta1 * m + (1 - beta1) * g
        m += np.multiply(g, 1 - beta1, out=tmp)
        v *= beta2  # v = beta2 * v + (1 - beta2) * g^2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v += tmp
        if amsgrad:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]

        bias1, bias2 = 1 - beta1**t, 1 - beta2**t
        denom = np.sqrt(v, out=tmp)  # sqrt(v) / sqrt(1 - beta2^t) + eps
        denom /= math.sqrt(bias2)
        denom += eps
        step = np.divide(m, denom, out=tmp)
        step *= lr / bias1
        param -= step
        ### END SOLUTION


class AdamW(Adam):
    """torch.optim.AdamW: Adam whose weight decay shrinks p directly (decoupled from g)."""

    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)
