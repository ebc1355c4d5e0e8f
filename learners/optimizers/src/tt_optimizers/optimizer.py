"""The Optimizer base: parameter groups, per-parameter state, zero_grad and state_dict.

Subclasses (SGD, Adam, AdamW) only say how one parameter is updated (`_update`); everything
else, the bookkeeping PyTorch's `torch.optim.Optimizer` does, lives here.
"""

import copy
from collections import defaultdict

import numpy as np
from tt_tensor import Tensor, enable_grad, zeros_like


class Optimizer:
    """Base class: `params` is an iterable of tensors, or of dicts (parameter groups).

    defaults: the options (lr, momentum, ...) a group takes when it does not set them itself.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = defaultdict(dict)  # parameter -> {"step": int, "exp_avg": ndarray, ...}
        self.param_groups = []
        self._scratch_buffers = {}  # (dtype, slot) -> flat ndarray, shared by all parameters
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got a single {type(params).__name__}; wrap it in a list"
            )
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # --- parameter groups ------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group: {'params': [...], option: value, ...}; missing options take defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        params = param_group.get("params")
        if params is None:
            raise ValueError(f"param_group has no 'params' key: keys {sorted(param_group)}")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs; "
                            "use a list instead")
        params = list(params)
        for i, p in enumerate(params):
            self._check_param(p, i)
        group = {**self.defaults, **param_group, "params": params}
        self._validate(group)
        self._check_no_duplicates(params)
        self.param_groups.append(group)

    @staticmethod
    def _check_param(p, index):
        if not isinstance(p, Tensor):
            raise TypeError(f"optimizer can only optimize Tensors, but params[{index}] is a "
                            f"{type(p).__name__}")
        if not p.is_leaf:
            raise ValueError(f"can't optimize a non-leaf Tensor (params[{index}], made by "
                             f"{p.grad_fn.op!r})")
        if p.dtype.kind != "f":
            raise TypeError(f"can only optimize floating-point tensors, params[{index}] is "
                            f"{p.dtype}")

    def _check_no_duplicates(self, params):
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter appears twice in the same parameter group")
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")

    def _validate(self, options):
        """Raise ValueError naming any option out of range (subclasses add their checks)."""
        lr = options.get("lr")
        if lr is None:
            raise ValueError("parameter group didn't specify a value of required "
                             "optimization parameter lr")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")

    # --- the step --------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Forget the gradients: set `.grad` to None (default) or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif _grad_array(p).flags.writeable:
                    _grad_array(p).fill(0)
                else:  # e.g. a read-only broadcast view handed over by autograd
                    p.grad = zeros_like(p)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns closure() if one is given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            pairs = []  # (parameter, its gradient's ndarray), every shape checked first
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = _grad_array(p)
                if grad.shape != p.shape:
                    raise ValueError(f"gradient of shape {grad.shape} does not match its "
                                     f"parameter of shape {p.shape}")
                pairs.append((p, grad))
            if self._update_group(pairs, group):
                continue
            for p, grad in pairs:
                self._update(p.data, grad, self.state[p], group)
        return loss

    def _update(self, param, grad, state, group):
        """Update the ndarray `param` in place from `grad`, this parameter's `state` and
        its `group` options."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    def _update_group(self, pairs, group):
        """A fast path's hook: update every (parameter, grad ndarray) pair of `group` at once
        and return True, or return False (the default) to run `_update` per parameter."""
        return False

    def _scratch(self, like, slot=0):
        """A scratch array shaped like `like`, reused by every parameter and every step.

        One flat buffer per (dtype, slot), as large as the largest parameter: after the first
        step an update allocates nothing the size of a parameter.
        """
        return self._scratch_flat(like.dtype, like.size, slot).reshape(like.shape)

    def _scratch_flat(self, dtype, size, slot=0):
        """The first `size` elements of scratch slot `slot` for `dtype`, a 1-D view of the
        slot's buffer (grown when too small, so it is as large as the largest request)."""
        key = (np.dtype(dtype), slot)
        flat = self._scratch_buffers.get(key)
        if flat is None or flat.size < size:
            flat = np.empty(size, dtype=dtype)
            self._scratch_buffers[key] = flat
        return flat[:size]

    # --- saving and resuming ---------------------------------------------------------------
    def state_dict(self):
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}.

        Parameters are numbered in group order, like PyTorch; arrays are copied.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: copy.deepcopy(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Resume from `state_dict()`: same number of groups and of parameters per group."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, "
                             f"this optimizer has {len(self.param_groups)}")
        by_index = {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"loaded parameter group {i} has {len(saved['params'])} "
                                 f"parameters, this optimizer's group {i} has "
                                 f"{len(group['params'])}")
            by_index.update(zip(saved["params"], group["params"]))
        new_state = defaultdict(dict)
        for k, saved_state in state_dict["state"].items():
            if k not in by_index:
                raise ValueError(f"loaded state for parameter index {k}, which is in no group")
            p = by_index[k]
            new_state[p] = {name: _load_value(value, p, name, k)
                            for name, value in saved_state.items()}
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            options = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            new_groups.append({**options, "params": group["params"]})
        # only now, with everything checked, replace the optimizer's state
        self.state, self.param_groups = new_state, new_groups

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def _grad_array(p):
    """The ndarray of p.grad (a Tensor, or an ndarray set by hand)."""
    return p.grad.data if isinstance(p.grad, Tensor) else np.asarray(p.grad)


def _load_value(value, param, name, index):
    """A copy of one saved state entry; arrays must match the parameter's shape."""
    if not isinstance(value, np.ndarray):
        return copy.deepcopy(value)
    if value.shape != param.shape:
        raise ValueError(f"loaded state '{name}' of parameter {index} has shape {value.shape}, "
                         f"the parameter has shape {param.shape}")
    return np.array(value, dtype=param.dtype, copy=True)
