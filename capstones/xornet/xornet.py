"""XORNet: a 2-H-1 multilayer perceptron learns XOR, the function no linear model can.

Runs on TinyTorch's foundations (modules 01-05): the gradient comes from central differences
(tt_networks.numerical_gradient) unless tt-autograd (module 09) is installed, in which case
loss.backward() computes it. Training is plain gradient descent, written out below.

    tinytorch run xornet                                 # auto: backprop if available
    tinytorch run xornet --method numerical --steps 500
    .venv/bin/python capstones/xornet/xornet.py          # the same program, from a checkout

Writes to --out (default runs/xornet): xornet.json, and with matplotlib (tinytorch[plots])
curves.png and decision_boundary.png. Exit code 0 only when all four XOR points are classified
correctly.
"""

import argparse
import importlib
import importlib.util
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass

from tinytorch import plots
from tinytorch.capstone import (
    HelpFormatter, add_run_options, apply_threads, exit_on_ctrl_c, interrupted, needs_extra, prog,
    relative_out, usage_error,
)

apply_threads()  # before NumPy loads its BLAS

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402
from tt_setup import write_atomically  # noqa: E402

with needs_extra("XORNet", "foundations", "foundations"):
    from tt_layers import Tanh
    from tt_networks import accuracy, binary_cross_entropy_with_logits, mlp, numerical_gradient
    from tt_setup import seed_everything
    from tt_tensor import float32, no_grad, tensor

PICTURES = ["curves.png", "decision_boundary.png"]


@dataclass
class Config:
    hidden: int = 4  # hidden units H: the model is Linear(2, H) -> tanh -> Linear(H, 1)
    steps: int = 500  # full-batch gradient-descent steps on the four points
    lr: float = 1.0  # learning rate of plain SGD
    seed: int = 0  # seeds the weight init (NumPy's global RNG)
    method: str = "auto"  # "auto", "numerical" or "backprop"
    out: str = relative_out("xornet")  # the run folder: xornet.json and the pictures
    threads: int | None = None  # BLAS threads (None: NumPy's default)


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
    """Train a fresh model; return (model, final loss, final accuracy, history)."""
    seed_everything(config.seed)
    x, y = xor_data()
    model = mlp([2, config.hidden, 1], activation=Tanh)

    def loss_fn():  # the whole batch: logits (4, 1) against labels (4, 1)
        return binary_cross_entropy_with_logits(model(x), y)

    history = []  # one record per logged step: the same keys as tt_training's metrics lines
    every = max(1, config.steps // 100)
    progress = tqdm(range(config.steps), desc=f"XORNet ({method})", unit="step")
    for step in progress:
        loss, grads = loss_and_gradients(model, loss_fn, method)
        if step % every == 0:
            history.append(record(model, x, y, step, loss, config.lr))
        for param, grad in zip(model.parameters(), grads):
            param.data -= config.lr * grad  # SGD: w <- w - lr * dL/dw
        progress.set_postfix(loss=f"{loss:.4f}", refresh=False)

    with no_grad():
        logits = model(x)  # (4, 1)
        final_loss = binary_cross_entropy_with_logits(logits, y).item()
    history.append(record(model, x, y, config.steps, final_loss, config.lr))
    return model, final_loss, accuracy(logits, y, threshold=0.0), history


def record(model, x, y, step, loss, lr):
    """The figures of one step: loss before the update, accuracy on the four points, lr."""
    with no_grad():
        acc = accuracy(model(x), y, threshold=0.0)  # logit > 0 means class 1
    return {"step": step, "train_loss": loss, "train_accuracy": acc, "lr": lr}


def decision_grid(model, size=41):
    """P(class 1) of the model over [-0.5, 1.5]^2: (size, size), rows are x2, columns x1."""
    axis = np.linspace(-0.5, 1.5, size)
    x1, x2 = np.meshgrid(axis, axis)
    points = np.stack([x1.ravel(), x2.ravel()], axis=1).astype(np.float32)  # (size^2, 2)
    with no_grad():
        logits = model(tensor(points, dtype=float32)).data.reshape(size, size)
    return axis, 1.0 / (1.0 + np.exp(-logits))  # sigmoid of the logit


def draw(history, axis, probs, out):
    """curves.png and decision_boundary.png in `out`; a note when matplotlib is missing."""
    plt = plots.pyplot()
    if plt is None:
        return plots.missing_note(PICTURES, "xornet.json")
    plots.plot_curves(plt, history, os.path.join(out, "curves.png"), title="XORNet")
    fig, ax = plt.subplots(figsize=(4.6, 4))
    shade = ax.contourf(axis, axis, probs, levels=np.linspace(0, 1, 11), cmap="RdBu_r")
    ax.contour(axis, axis, probs, levels=[0.5], colors="k")  # the boundary: P = 0.5
    inputs, labels = xor_data()
    for (a, b), label in zip(inputs.data, labels.data.ravel()):
        ax.scatter(a, b, s=120, c="red" if label else "blue", edgecolors="k")
    fig.colorbar(shade, label="P(x1 xor x2 = 1)")
    ax.set(xlabel="x1", ylabel="x2", title="XORNet's decision boundary")
    plots.save_figure(fig, os.path.join(out, "decision_boundary.png"))
    return f"pictures in {out}: {', '.join(PICTURES)}"


def write_json_atomically(path, payload):
    """Write `payload` as indented JSON through a temporary file renamed over `path`."""
    write_atomically(path, json.dumps(payload, indent=2) + "\n")


def parse_args(argv):
    defaults = Config()
    parser = argparse.ArgumentParser(prog=prog(__file__), description="Train a 2-H-1 MLP on XOR.",
                                     formatter_class=HelpFormatter)
    parser.add_argument("--hidden", type=int, default=defaults.hidden, help="hidden units")
    parser.add_argument("--steps", type=int, default=defaults.steps, help="SGD steps")
    parser.add_argument("--lr", type=float, default=defaults.lr, help="learning rate")
    parser.add_argument("--method", choices=("auto", "numerical", "backprop"),
                        default=defaults.method, help="how gradients are computed (auto: "
                        "backprop when tt-autograd is installed)")
    # no --resume: a run takes seconds and keeps no checkpoint
    add_run_options(parser, out=defaults.out, resume=False, seed=defaults.seed)
    args = parser.parse_args(argv)
    if args.hidden < 1 or args.steps < 0 or not args.lr > 0:
        usage_error(__file__, f"need --hidden >= 1, --steps >= 0, --lr > 0; got "
                    f"{args.hidden}, {args.steps}, {args.lr}")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        usage_error(__file__, f"--out {args.out} is a file, not a folder")
    if args.threads is not None and args.threads < 1:
        usage_error(__file__, f"--threads must be >= 1, got {args.threads}")
    return Config(**vars(args))


def main(argv=None):
    config = parse_args(argv)
    method = choose_method(config.method)
    reason = "tt-autograd found" if method == "backprop" else (
        "tt-autograd not available" if config.method == "auto" else "requested")
    print(f"gradient method: {method} ({reason})")

    start = time.perf_counter()
    try:
        model, loss, acc, history = train(config, method)
    except KeyboardInterrupt:  # nothing is saved mid-run: a run takes seconds
        interrupted("(no results written): run the same command again")
    wall = time.perf_counter() - start

    with no_grad():
        logits = model(xor_data()[0]).data.reshape(-1)
    for (a, b), logit in zip([(0, 0), (0, 1), (1, 0), (1, 1)], logits):
        print(f"  {a} xor {b} -> {int(logit > 0)}  (logit {logit:+.3f})")
    print(f"accuracy {acc:.2f}  final loss {loss:.4f}  steps {config.steps}  "
          f"wall {wall:.2f} s  parameters {model.num_parameters()}")

    axis, probs = decision_grid(model)
    results = {
        "accuracy": acc,
        "final_loss": loss,
        "steps": config.steps,
        "wall_seconds": wall,
        "gradient_method": method,
        "forward_passes_per_step": 1 if method == "backprop" else 1 + 2 * model.num_parameters(),
        "config": asdict(config),
        "history": history,
        "decision_grid": {"axis": axis.tolist(), "p_class_1": probs.round(4).tolist()},
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    path = os.path.join(config.out, "xornet.json")
    write_json_atomically(path, results)
    print(f"results written to {path}")
    print(draw(history, axis, probs, config.out))
    return 0 if acc == 1.0 else 1


if __name__ == "__main__":
    sys.exit(exit_on_ctrl_c(main))
