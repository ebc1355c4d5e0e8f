"""Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay."""

import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    """torch.optim.SGD: p -= lr * g, with optional momentum buffer b (1x the parameters)."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov)
        self._validate(defaults)
        super().__init__(params, defaults)

    def _validate(self, options):
        super()._validate(options)
        if options["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {options['momentum']}")
        if options["weight_decay"] < 0.0:
            raise ValueError(f"Invalid weight_decay value: {options['weight_decay']}")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening, got "
                             f"momentum={options['momentum']}, "
                             f"dampening={options['dampening']}")

    def _update(self, param, grad, state, group):
        """One SGD step, in place on `param` (PyTorch's algorithm box):

            g = grad + weight_decay * p
            b = g                                   (first step)
            b = momentum * b + (1 - dampening) * g  (later steps)
            g = g + momentum * b  if nesterov  else  b
            p = p - lr * g

        `grad` is the user's array: never write into it, and never store it (or a view of it)
        as the momentum buffer, which later steps update in place: copy it. After the first
        step an update allocates nothing as large as a parameter: put temporaries in
        self._scratch(param, slot), a reused array shaped like param (slots 0 and 1 are
        distinct; a slot's content does not survive the next call with that slot).
        """
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov = group["weight_decay"], group["nesterov"]
        ### BEGIN SOLUTION
        g = grad
        if weight_decay != 0:
            g = np.multiply(param, weight_decay, out=self._scratch(param, 0))
            g += grad
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                # allocated once, on the first step; later steps update it in place
                buf = state["momentum_buffer"] = np.array(g, dtype=param.dtype, copy=True)
            else:
                buf *= momentum
                buf += np.multiply(g, 1 - dampening, out=self._scratch(param, 1))
            if nesterov:
                step = np.multiply(buf, momentum, out=self._scratch(param, 1))
                step += g
                g = step
            else:
                g = buf
        param -= np.multiply(g, lr, out=self._scratch(param, 1))
        ### END SOLUTION
