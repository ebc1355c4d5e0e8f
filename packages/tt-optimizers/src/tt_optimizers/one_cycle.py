"""OneCycleLR: warm up to max_lr, then anneal far below the start (Smith & Topin, 2017)."""

import math

from .lr_scheduler import LRScheduler


def _per_group(name, optimizer, value):
    """One value per parameter group: a list of that length, or one value repeated."""
    n_groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n_groups:
            raise ValueError(f"{name} must have one value per parameter group: got {len(value)} "
                             f"values for {n_groups} groups")
        return list(value)
    return [value] * n_groups


def _positive_int(name, value):
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"Expected positive integer {name}, but got {value!r}")
    return value


class OneCycleLR(LRScheduler):
    """torch.optim.lr_scheduler.OneCycleLR, stepped once per batch.

    lr goes initial_lr = max_lr / div_factor -> max_lr (first pct_start of the steps), then
    max_lr -> min_lr = initial_lr / final_div_factor. Momentum (SGD's momentum or Adam's beta1)
    cycles the other way, max_momentum -> base_momentum -> max_momentum, if cycle_momentum.
    three_phase: initial -> max -> initial (symmetric), then initial -> min.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        if total_steps is not None:
            self.total_steps = _positive_int("total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = (_positive_int("epochs", epochs)
                                * _positive_int("steps_per_epoch", steps_per_epoch))
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        self._phases = self._make_phases(float(pct_start) * self.total_steps, three_phase)
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self._init_momentum(optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _make_phases(self, warm_steps, three_phase):
        """(end_step, start key, end key, start momentum key, end momentum key) per phase."""
        last = self.total_steps - 1
        if three_phase:
            return [
                (warm_steps - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (2 * warm_steps - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                (last, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        return [
            (warm_steps - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
            (last, "max_lr", "min_lr", "base_momentum", "max_momentum"),
        ]

    def _init_momentum(self, optimizer, base_momentum, max_momentum, last_epoch):
        if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
            raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` "
                             f"option enabled; {type(optimizer).__name__} has neither")
        self.use_beta1 = "betas" in optimizer.defaults
        tops = _per_group("max_momentum", optimizer, max_momentum)
        bases = _per_group("base_momentum", optimizer, base_momentum)
        if last_epoch == -1:
            for group, top, base in zip(optimizer.param_groups, tops, bases):
                self._set_momentum(group, top)
                group["max_momentum"], group["base_momentum"] = top, base

    def _set_momentum(self, group, value):
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start, end, pct):
        """Cosine or linear interpolation from start (pct=0) to end (pct=1).

        Given code, not a task: get_lr always calls it together with _phase, so no test could
        tell the two apart (CosineAnnealingLR.get_lr is where the cosine formula is a task).
        """
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _phase(self):
        """(phase, pct): the entry of self._phases holding step last_epoch, and pct, how far
        into it that step is.

        self._phases lists (end_step, ...) per phase; end steps are floats and may be negative
        for tiny total_steps. PyTorch's convention: phase k runs from start = the previous
        phase's end_step (0.0 for the first) to its own end_step; return the first phase with
        last_epoch <= end_step (the last phase for any later step) and
        pct = (last_epoch - start) / (end_step - start), or 1.0 when end_step == start.
        pct is not clamped: it may leave 0..1 (e.g. last_epoch == total_steps).
        """
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps "
                             f"is {self.total_steps}")
        ### BEGIN SOLUTION
        start = 0.0
        for i, phase in enumerate(self._phases):
            end = phase[0]
            if step <= end or i == len(self._phases) - 1:
                pct = (step - start) / (end - start) if end != start else 1.0
                return phase, pct
            start = end
        ### END SOLUTION

    def get_lr(self):
        (_, lr_from, lr_to, _, _), pct = self._phase()
        return [self._anneal(g[lr_from], g[lr_to], pct) for g in self.optimizer.param_groups]

    def _apply(self):
        super()._apply()
        if self.cycle_momentum:
            (_, _, _, m_from, m_to), pct = self._phase()
            for group in self.optimizer.param_groups:
                self._set_momentum(group, self._anneal(group[m_from], group[m_to], pct))
