"""XORNet: a 2-H-1 multilayer perceptron learns XOR, the function no linear model can.

Runs on TinyTorch's foundations (modules 01-05): the gradient comes from central differences
(tt_networks.numerical_gradient) unless tt-autograd (module 09) is installed, in which case
loss.backward() computes it. Training is plain gradient descent, written out below.

    python capstones/xornet/xornet.py                    # auto: backprop if available
    python capstones/xornet/xornet.py --method numerical --steps 500

Exit code 0 only when all four XOR points are classified correctly.
"""

import argparse
import importlib
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

try:
    from tt_layers import Tanh
    from tt_networks import accuracy, binary_cross_entropy_with_logits, mlp, numerical_gradient
    from tt_setup import seed_everything
    from tt_tensor import float32, no_grad, tensor
except ModuleNotFoundError as err:  # a course module is missing: name the install that has it
    if not (err.name or "").startswith("tt_"):
        raise
    sys.exit(f"XORNet needs TinyTorch's foundations ({err.name} is not installed): "
             "pip install 'tinytorch[foundations]'")

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Config:
    hidden: int = 4  # hidden units H: the model is Linear(2, H) -> tanh -> Linear(H, 1)
    steps: int = 500  # full-batch gradient-descent steps on the four points
    lr: float = 1.0  # learning rate of plain SGD
    seed: int = 0  # seeds the weight init (NumPy's global RNG)
    method: str = "auto"  # "auto", "numerical" or "backprop"
    out: str = str(RESULTS_DIR)  # directory for xornet.json


def xor_data():
    """The four XOR points, inputs (4, 2) and labels (4, 1)."""
    x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float32)
    y = tensor([[0], [1], [1], [0]], dtype=float32)
    return x, y


def autograd_available():
    """True when tt_autograd is installed and provides the backward engine."""
    if importlib.util.find_spec("tt_autograd") is None:
        return False
    return hasattr(importlib.import_module("tt_autograd"), "backward")


def choose_method(requested):
    """Resolve "auto" to "backprop" or "numerical"; refuse backprop without tt-autograd."""
    if requested == "auto":
        return "backprop" if autograd_available() else "numerical"
    if requested == "backprop" and not autograd_available():
        raise SystemExit("--method backprop needs tt-autograd (module 09) with a backward "
                         "engine; install it or use --method numerical")
    return requested


def loss_and_gradients(model, loss_fn, method):
    """The loss and one gradient array per parameter, by backprop or central differences."""
    params = list(model.parameters())
    if method == "backprop":
        model.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss.item(), [p.grad.data for p in params]
    with no_grad():  # the loss value only; numerical_gradient runs 2 * P more forward passes
        loss = loss_fn().item()
    return loss, numerical_gradient(loss_fn, params)


def train(config, method):
    """Train a fresh model; return (model, final loss, final accuracy)."""
    seed_everything(config.seed)
    x, y = xor_data()
    model = mlp([2, config.hidden, 1], activation=Tanh)

    def loss_fn():  # the whole batch: logits (4, 1) against labels (4, 1)
        return binary_cross_entropy_with_logits(model(x), y)

    progress = tqdm(range(config.steps), desc=f"XORNet ({method})", unit="step")
    for _ in progress:
        loss, grads = loss_and_gradients(model, loss_fn, method)
        for param, grad in zip(model.parameters(), grads):
            param.data -= config.lr * grad  # SGD: w <- w - lr * dL/dw
        progress.set_postfix(loss=f"{loss:.4f}", refresh=False)

    with no_grad():
        logits = model(x)  # (4, 1)
        final_loss = binary_cross_entropy_with_logits(logits, y).item()
    return model, final_loss, accuracy(logits, y, threshold=0.0)  # logit > 0 means class 1


def write_json_atomically(path, payload):
    """Write to a temporary file in the same directory, then rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def parse_args(argv):
    defaults = Config()
    parser = argparse.ArgumentParser(description="Train a 2-H-1 MLP on XOR.")
    parser.add_argument("--hidden", type=int, default=defaults.hidden, help="hidden units")
    parser.add_argument("--steps", type=int, default=defaults.steps, help="SGD steps")
    parser.add_argument("--lr", type=float, default=defaults.lr, help="learning rate")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed")
    parser.add_argument("--method", choices=("auto", "numerical", "backprop"),
                        default=defaults.method, help="how gradients are computed")
    parser.add_argument("--out", default=defaults.out, help="results directory")
    args = parser.parse_args(argv)
    if args.hidden < 1 or args.steps < 0 or not args.lr > 0:
        usage_error(f"need --hidden >= 1, --steps >= 0, --lr > 0; got {args.hidden}, "
                    f"{args.steps}, {args.lr}")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        usage_error(f"--out {args.out} is a file, not a folder")
    return Config(**vars(args))


def usage_error(message):
    """One line on stderr and exit status 2, as argparse does for a bad argument."""
    print(f"xornet.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv=None):
    config = parse_args(argv)
    method = choose_method(config.method)
    reason = "tt-autograd found" if method == "backprop" else (
        "tt-autograd not available" if config.method == "auto" else "requested")
    print(f"gradient method: {method} ({reason})")

    start = time.perf_counter()
    try:
        model, loss, acc = train(config, method)
    except KeyboardInterrupt:  # nothing is saved mid-run: a run takes seconds
        print("\ninterrupted: no results written; run the same command again", file=sys.stderr)
        raise SystemExit(130) from None
    wall = time.perf_counter() - start

    with no_grad():
        logits = model(xor_data()[0]).data.reshape(-1)
    for (a, b), logit in zip([(0, 0), (0, 1), (1, 0), (1, 1)], logits):
        print(f"  {a} xor {b} -> {int(logit > 0)}  (logit {logit:+.3f})")
    print(f"accuracy {acc:.2f}  final loss {loss:.4f}  steps {config.steps}  "
          f"wall {wall:.2f} s  parameters {model.num_parameters()}")

    results = {
        "accuracy": acc,
        "final_loss": loss,
        "steps": config.steps,
        "wall_seconds": wall,
        "gradient_method": method,
        "forward_passes_per_step": 1 if method == "backprop" else 1 + 2 * model.num_parameters(),
        "config": asdict(config),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    path = Path(config.out) / "xornet.json"
    write_json_atomically(path, results)
    print(f"results written to {path}")
    return 0 if acc == 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
