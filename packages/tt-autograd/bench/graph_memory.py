"""What a recorded graph keeps alive until backward: the MLP of the `mlp` benchmark.

    python packages/tt-autograd/bench/graph_memory.py

Walks the graph from the loss through every node's inputs (and array attributes such as
where's condition) and adds up the distinct arrays it holds, parameters left out.
"""

import numpy as np
from tt_layers import Linear, ReLU
from tt_networks import Sequential, cross_entropy
from tt_tensor import tensor

B, SIZES = 128, (784, 256, 256, 10)


def root_array(a):
    """The array that owns a view's memory."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def held_arrays(loss, exclude):
    """{id: array} of every array the graph behind `loss` references, minus `exclude` ids."""
    held, seen, stack = {}, set(), [loss]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        arrays = [t.data]
        if t.grad_fn is not None:
            arrays += [v for v in t.grad_fn.attrs.values() if isinstance(v, np.ndarray)]
            stack.extend(t.grad_fn.inputs)
        for a in map(root_array, arrays):
            if id(a) not in exclude:
                held[id(a)] = a
    return held


def main():
    rng = np.random.default_rng(0)
    layers = [Linear(i, o) for i, o in zip(SIZES[:-1], SIZES[1:])]
    model = Sequential(layers[0], ReLU(), layers[1], ReLU(), layers[2])
    x = tensor(rng.standard_normal((B, SIZES[0])))
    loss = cross_entropy(model(x), rng.integers(0, SIZES[-1], B))
    params = {id(root_array(p.data)) for p in model.parameters()}
    held = held_arrays(loss, params)
    total = sum(a.nbytes for a in held.values())
    print(f"graph of MLP {SIZES}, batch {B}, float32: {len(held)} arrays, "
          f"{total / 2**20:.2f} MiB held until backward (parameters not counted)")
    for a in sorted(held.values(), key=lambda a: -a.nbytes)[:8]:
        print(f"  {a.nbytes / 1024:8.1f} KiB  {a.shape} {a.dtype}")


if __name__ == "__main__":
    main()
