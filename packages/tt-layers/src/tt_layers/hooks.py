"""Module-call hooks: the observation point a profiler uses to time every Module.

PyTorch's names: `register_module_forward_pre_hook(fn)` calls fn(module, inputs) before each
forward, `register_module_forward_hook(fn)` calls fn(module, inputs, output) after it. They live
in tt_tensor's per-context registry (`ContextHooks`), like op hooks: a hook registered in one
thread sees the modules called in that thread only, and a new thread starts with none. While no
hook is registered in any context, `Module.__call__` pays one check of two counts.
"""

from tt_tensor import ContextHooks, HookHandle

RemovableHandle = HookHandle  # PyTorch's name for what the register functions return

pre_hooks = ContextHooks("tt_layers_forward_pre_hooks")
post_hooks = ContextHooks("tt_layers_forward_hooks")


def _check(name, hook):
    if not callable(hook):
        raise TypeError(f"{name}: expected a callable, got {type(hook).__name__}")


def register_module_forward_pre_hook(hook):
    """Call hook(module, inputs) before every Module's forward in this context (thread); a
    non-None result (a tuple, or one value) replaces the positional inputs. Returns a
    RemovableHandle."""
    _check("register_module_forward_pre_hook", hook)
    return pre_hooks.add(hook)


def register_module_forward_hook(hook):
    """Call hook(module, inputs, output) after every Module's forward in this context
    (thread); a non-None result replaces the output. Returns a RemovableHandle."""
    _check("register_module_forward_hook", hook)
    return post_hooks.add(hook)


def call_with_hooks(module, args, kwargs):
    """Run module.forward between the pre- and post-hooks registered in this context."""
    for hook in pre_hooks.get():
        result = hook(module, args)
        if result is not None:
            args = result if isinstance(result, tuple) else (result,)
    output = module.forward(*args, **kwargs)
    for hook in post_hooks.get():
        result = hook(module, args, output)
        if result is not None:
            output = result
    return output
