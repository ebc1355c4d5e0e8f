"""Which parameters get weight decay: matrices yes; biases, norm scales and embeddings no.

Weight decay pulls weights toward zero to keep the function smooth. A bias or a LayerNorm
scale only shifts or scales, and shrinking them just fights the normalisation. An embedding
row gets a gradient only when its token appears but is decayed at every step, so decay
shrinks the rows of rare tokens most. Two parameter groups is the usual practice (BERT,
minGPT); the rule for embeddings varies: minGPT and the first nanoGPT left them undecayed,
today's nanoGPT decays every tensor with two or more dimensions, embeddings included.
"""

# A parameter is an embedding table when its module's class or its own name says so. Matched
# by name: tt-regularization does not depend on tt-embeddings (the course graph).
_EMBEDDING_CLASS_ENDINGS = ("Embedding", "PositionalEncoding")
_EMBEDDING_NAME_PARTS = ("embed", "wte", "wpe")


def _is_embedding(module, name):
    if type(module).__name__.endswith(_EMBEDDING_CLASS_ENDINGS):
        return True
    return any(part in name.lower() for part in _EMBEDDING_NAME_PARTS)


def _every_parameter_path(module, prefix="", on_path=()):
    """(dotted name, owning module, Parameter) for every path, depth first, own entries first.

    Unlike named_parameters() nothing is de-duplicated (a shared module or Parameter appears
    under each of its names); a module that contains itself is not entered again.
    """
    on_path = on_path + (id(module),)
    for name, param in module._parameters.items():
        if param is not None:
            yield prefix + name, module, param
    for name, child in module._modules.items():
        if child is not None and id(child) not in on_path:
            yield from _every_parameter_path(child, f"{prefix}{name}.", on_path)


def split_decay_parameters(model):
    """(decay, no_decay): lists of (name, Parameter), each shared Parameter listed once.

    No decay: every parameter with ndim < 2 (biases, norm weights) and embedding tables
    (module class ending in Embedding/PositionalEncoding, or a name containing "embed",
    "wte" or "wpe"). A Parameter shared under several names (weight tying) is not decayed if
    any of its names says it is an embedding.
    """
    names, exempt = {}, set()
    ### BEGIN SOLUTION
    # Every path to every parameter, tied ones included (named_parameters() would list a shared
    # Parameter under its first name only, and we must see all of them): key = id(Parameter).
    for full_name, module, param in _every_parameter_path(model):
        key = id(param)
        names.setdefault(key, (full_name, param))  # the first name, as named_parameters gives
        if param.ndim < 2 or _is_embedding(module, full_name):
            exempt.add(key)
    ### END SOLUTION
    decay = [entry for key, entry in names.items() if key not in exempt]
    no_decay = [entry for key, entry in names.items() if key in exempt]
    return decay, no_decay


def param_groups_for_weight_decay(model, weight_decay):
    """Optimizer parameter groups: [{"params": matrices, "weight_decay": weight_decay},
    {"params": the rest, "weight_decay": 0.0}] (empty groups left out).

    Use: AdamW(param_groups_for_weight_decay(model, 0.1), lr=1e-3).
    """
    if weight_decay < 0:
        raise ValueError(f"param_groups_for_weight_decay: weight_decay must be >= 0, "
                         f"got {weight_decay}")
    decay, no_decay = split_decay_parameters(model)
    groups = [{"params": [p for _, p in decay], "weight_decay": float(weight_decay)},
              {"params": [p for _, p in no_decay], "weight_decay": 0.0}]
    return [group for group in groups if group["params"]]
