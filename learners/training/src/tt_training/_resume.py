"""Checking a Trainer state against the Trainer about to load it, before anything changes.

`problems(trainer, state)` lists every reason the state cannot be loaded (an empty list when it
can); the Trainer only starts copying once that list is empty, and only the fields named in
TRAINER_FIELDS are ever set on it.
"""

import copy
from numbers import Real

import numpy as np

# the Trainer attributes a checkpoint may set, and the types each must have
TRAINER_FIELDS = {"epoch": int, "step": int, "history": list, "best": (Real, type(None)),
                  "bad_epochs": int, "stopped_early": bool, "wall_seconds": Real}
REQUIRED = ("model", "optimizer", "numpy_rng", "trainer")


def module_generators(model):
    """The random generators modules keep in a `generator` attribute (Dropout's masks)."""
    return [m.generator for m in model.modules()
            if isinstance(getattr(m, "generator", None), np.random.Generator)]


def problems(trainer, state):
    """Every reason `state` cannot be loaded into `trainer`; empty when it can."""
    if not isinstance(state, dict):
        return [f"it holds a {type(state).__name__}, not a Trainer state"]
    missing = [key for key in REQUIRED if key not in state]
    if missing:
        return [f"it has no {', '.join(missing)} (not written by Trainer.save)"]
    types = state.get("types") if isinstance(state.get("types"), dict) else {}
    found = _model(trainer.model, state["model"])
    found += _optimizer(trainer.optimizer, state["optimizer"], types.get("optimizer"))
    for name in ("scheduler", "train_loader"):
        found += _component(name, getattr(trainer, name), state.get(name), types.get(name))
    found += _rngs(trainer.model, state["numpy_rng"], state.get("module_rngs"))
    found += _fields(state["trainer"])
    return found


def _model(model, saved):
    if not isinstance(saved, dict):
        return [f"its model state is a {type(saved).__name__}, not a dict"]
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    found = []
    missing = [k for k in shapes if k not in saved]
    unexpected = [k for k in saved if k not in shapes]
    if missing:
        found.append(f"the model's {', '.join(missing[:5])} are missing from it")
    if unexpected:
        found.append(f"it has model entries this model lacks: {', '.join(unexpected[:5])}")
    for key, shape in shapes.items():
        value = saved.get(key)
        if key in saved and (not isinstance(value, np.ndarray) or value.shape != shape):
            got = value.shape if isinstance(value, np.ndarray) else type(value).__name__
            found.append(f"model entry {key} is {got}, the model's is {shape}")
    return found


def _optimizer(optimizer, saved, saved_type):
    name = type(optimizer).__name__
    if saved_type is not None and saved_type != name:
        return [f"it holds a {saved_type} state, this Trainer's optimizer is a {name}"]
    if not (isinstance(saved, dict) and isinstance(saved.get("state"), dict)
            and isinstance(saved.get("param_groups"), list)):
        return ["its optimizer state has no 'state' dict and 'param_groups' list"]
    groups = saved["param_groups"]
    if len(groups) != len(optimizer.param_groups):
        return [f"its optimizer has {len(groups)} parameter groups, this {name} has "
                f"{len(optimizer.param_groups)}"]
    found, shapes = [], []
    for i, (old, new) in enumerate(zip(groups, optimizer.param_groups)):
        if not isinstance(old, dict) or len(old.get("params", ())) != len(new["params"]):
            found.append(f"its optimizer group {i} does not hold {len(new['params'])} parameters")
            continue
        ours = set(new) - {"params", "initial_lr"}
        theirs = set(old) - {"params", "initial_lr"}
        if ours != theirs:
            found.append(f"its optimizer group {i} has options {sorted(theirs)}, this {name} "
                         f"has {sorted(ours)} (saved by another optimizer type)")
        shapes += [p.shape for p in new["params"]]
    for index, entry in saved["state"].items():
        if not isinstance(index, int) or not 0 <= index < len(shapes) \
                or not isinstance(entry, dict):
            found.append(f"its optimizer state has an entry for parameter {index!r}, "
                         f"which is not one of this {name}'s {len(shapes)}")
            continue
        for key, value in entry.items():
            if isinstance(value, np.ndarray) and value.shape != shapes[index]:
                found.append(f"optimizer state {key} of parameter {index} is {value.shape}, "
                             f"the parameter is {shapes[index]}")
    return found


def _component(name, obj, saved, saved_type):
    """The scheduler or the training loader: same type, the same state keys."""
    has_state = obj is not None and hasattr(obj, "state_dict")
    if not has_state:
        return [] if saved is None else [f"it has a {name} state, this Trainer has no {name} "
                                         "that could take it"]
    kind = type(obj).__name__
    if saved_type is not None and saved_type != kind:
        return [f"its {name} is a {saved_type}, this Trainer's is a {kind}"]
    if not isinstance(saved, dict):
        return [f"it has no {name} state for this Trainer's {kind}"]
    ours, theirs = set(obj.state_dict()), set(saved)
    if ours != theirs:
        return [f"its {name} state has keys {sorted(theirs)}, this {kind}'s has {sorted(ours)}"]
    return []


def _rngs(model, numpy_rng, module_rngs):
    found = []
    try:
        np.random.RandomState().set_state(tuple(numpy_rng))  # a scratch RNG, not the global one
    except (TypeError, ValueError) as err:
        found.append(f"its numpy_rng is not a NumPy RNG state ({err})")
    if module_rngs is None:  # checkpoints written before module generators were saved
        return found
    generators = module_generators(model)
    if not isinstance(module_rngs, list) or len(module_rngs) != len(generators):
        count = len(module_rngs) if isinstance(module_rngs, list) else module_rngs
        return found + [f"it has {count} module generator states, this model has "
                        f"{len(generators)} (Dropout) generators"]
    for i, (generator, saved) in enumerate(zip(generators, module_rngs)):
        try:
            copy.deepcopy(generator.bit_generator).state = saved
        except (TypeError, ValueError, KeyError) as err:
            found.append(f"module generator {i}: {err}")
    return found


def _fields(fields):
    if not isinstance(fields, dict):
        return [f"its trainer entry is a {type(fields).__name__}, not a dict"]
    found = []
    for key, kinds in TRAINER_FIELDS.items():
        if key not in fields:
            if key != "step":  # older checkpoints: derived from the epoch count
                found.append(f"its trainer entry has no {key!r}")
            continue
        value = fields[key]
        wrong_bool = isinstance(value, bool) and kinds is not bool
        if wrong_bool or not isinstance(value, kinds):
            found.append(f"trainer field {key!r} is {value!r}, not a {_kind_name(kinds)}")
        elif kinds is int and value < 0:
            found.append(f"trainer field {key!r} is {value}, below 0")
    history = fields.get("history")
    if isinstance(history, list) and not all(isinstance(h, dict) for h in history):
        found.append("its trainer history is not a list of dicts")
    return found


def _kind_name(kinds):
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    return " or ".join("number" if k is Real else "None" if k is type(None) else k.__name__
                       for k in kinds)
