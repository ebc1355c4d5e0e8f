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


def split_decay_parameters(model):
    """(decay, no_decay): lists of (name, Parameter), each shared Parameter listed once.

    No decay: every parameter with ndim < 2 (biases, norm weights) and embedding tables
    (module class ending in Embedding/PositionalEncoding, or a name containing "embed",
    "wte" or "wpe"). A Parameter shared under several names (weight tying) is not decayed if
    any of its names says it is an embedding.
    """
    flagged = _decay_flags(model)
    decay = [(name, param) for name, param, decays in flagged if decays]
    no_decay = [(name, param) for name, param, decays in flagged if not decays]
    return decay, no_decay


def _decay_flags(model):
    """[(name, Parameter, decays)] for each distinct Parameter of `model`, once, in the order
    model.named_parameters() lists them.

    name: the first full dotted name the Parameter is met under ("tok.weight" for a weight
    tied between `tok` and a later `head`). decays: False when ndim < 2, or when
    _is_embedding(module, local_name) holds for ANY (owning module, local name) the Parameter
    is registered under. To see every name of a tied Parameter, walk model.named_modules() and
    each module's own parameters with named_parameters(recurse=False, remove_duplicate=False).
    """
    ### BEGIN SOLUTION
    names, exempt = {}, set()  # id(Parameter) -> (first full name, Parameter); ids not decayed
    for module_name, module in model.named_modules():
        for param_name, param in module.named_parameters(recurse=False,
                                                         remove_duplicate=False):
            full = f"{module_name}.{param_name}" if module_name else param_name
            names.setdefault(id(param), (full, param))
            if param.ndim < 2 or _is_embedding(module, param_name):
                exempt.add(id(param))
    return [(full, param, key not in exempt) for key, (full, param) in names.items()]
    ### END SOLUTION


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
