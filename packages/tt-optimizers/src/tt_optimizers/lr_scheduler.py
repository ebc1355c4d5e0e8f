"""Learning-rate schedulers: each sets group['lr'] from a closed form of the step count.

Like torch.optim.lr_scheduler: the constructor records 'initial_lr' in every parameter group
and takes step 0; each `step()` advances `last_epoch` by one and writes the new rates.
Unlike PyTorch's chainable forms, every scheduler here computes lr = f(initial_lr, last_epoch)
directly, so two schedulers on one optimizer do not multiply (use SequentialLR to chain).
"""

import bisect
import copy
import math

from .optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses implement `get_lr()`, the rates at `self.last_epoch`."""

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   "when resuming an optimizer")
        # lr0 of every closed form below: base_lrs[i] is param_groups[i]["initial_lr"]
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def get_lr(self):
        """The learning rate of each group at step `self.last_epoch`."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr")

    def step(self):
        """Advance one step (call after optimizer.step()) and set each group's lr."""
        self.last_epoch += 1
        self._apply()

    def _apply(self):
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The rates the last step() set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self):
        """Every attribute but the optimizer (which saves its own state), copied."""
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Resume from `state_dict()`; load the optimizer's own state_dict too."""
        self.__dict__.update(copy.deepcopy(state_dict))


_LRScheduler = LRScheduler  # PyTorch's older name


class LambdaLR(LRScheduler):
    """lr = initial_lr * lr_lambda(last_epoch); one function, or one per parameter group."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        n_groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n_groups:
                raise ValueError(f"Expected {n_groups} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n_groups
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        ### BEGIN SOLUTION
        return [base * fn(self.last_epoch) for base, fn in zip(self.base_lrs, self.lr_lambdas)]
        ### END SOLUTION

    def state_dict(self):
        """Everything but the optimizer and the lambdas (functions are not data)."""
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items()
                if k not in ("optimizer", "lr_lambdas")}

    def load_state_dict(self, state_dict):
        state = {k: v for k, v in state_dict.items() if k != "lr_lambdas"}
        super().load_state_dict(state)


class StepLR(LRScheduler):
    """lr = initial_lr * gamma ** (last_epoch // step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if not isinstance(step_size, int) or step_size <= 0:
            raise ValueError(f"step_size must be a positive integer, got {step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        ### BEGIN SOLUTION
        factor = self.gamma ** (self.last_epoch // self.step_size)
        return [base * factor for base in self.base_lrs]
        ### END SOLUTION


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * last_epoch / T_max)) / 2."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if T_max <= 0:
            raise ValueError(f"T_max must be positive, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        ### BEGIN SOLUTION
        cos_out = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base - self.eta_min) * cos_out / 2 for base in self.base_lrs]
        ### END SOLUTION


class LinearLR(LRScheduler):
    """Linear warmup: lr = initial_lr * (start + (end - start) * min(t, total_iters) / total_iters)
    where t = last_epoch, start = start_factor, end = end_factor."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        if not 0 < start_factor <= 1:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and "
                             f"less or equal to 1, got start_factor={start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1, "
                             f"got end_factor={end_factor}")
        if not isinstance(total_iters, int) or total_iters <= 0:
            raise ValueError(f"total_iters must be a positive integer, got {total_iters!r}")
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        ### BEGIN SOLUTION
        done = min(self.total_iters, self.last_epoch) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * done
        return [base * factor for base in self.base_lrs]
        ### END SOLUTION


class SequentialLR(LRScheduler):
    """Run `schedulers` one after another, switching at the step counts in `milestones`.

    Scheduler k is in charge from milestones[k-1] on and sees its own step count restart at 0,
    e.g. SequentialLR(opt, [LinearLR(opt, ...), CosineAnnealingLR(opt, ...)], [5]) warms up
    for 5 steps then anneals.
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        schedulers, milestones = list(schedulers), list(milestones)
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR expects len(milestones) == len(schedulers) - 1, "
                             f"got {len(milestones)} milestones and {len(schedulers)} schedulers")
        if milestones != sorted(milestones):
            raise ValueError(f"milestones must be increasing, got {milestones}")
        for i, s in enumerate(schedulers):
            if getattr(s, "optimizer", None) is not optimizer:
                raise ValueError(f"SequentialLR: schedulers[{i}] ({type(s).__name__}) is bound "
                                 "to a different optimizer")
        self._schedulers, self._milestones = schedulers, milestones
        # the sub-schedulers' constructors moved the lr; start again from the initial rate
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        super().__init__(optimizer, last_epoch)

    def _current(self):
        """The scheduler in charge at last_epoch, its own step count brought up to date."""
        k = bisect.bisect_right(self._milestones, self.last_epoch)
        start = self._milestones[k - 1] if k > 0 else 0
        scheduler = self._schedulers[k]
        scheduler.last_epoch = self.last_epoch - start
        return scheduler

    def get_lr(self):
        return self._current().get_lr()

    def _apply(self):
        scheduler = self._current()
        scheduler._apply()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        state = {k: copy.deepcopy(v) for k, v in self.__dict__.items()
                 if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        saved = state_dict["_schedulers"]
        if len(saved) != len(self._schedulers):
            raise ValueError(f"loaded SequentialLR state has {len(saved)} schedulers, "
                             f"this one has {len(self._schedulers)}")
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "_schedulers"})
        for scheduler, state in zip(self._schedulers, saved):
            scheduler.load_state_dict(state)
