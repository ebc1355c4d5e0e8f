"""The course's three assessment milestones, run on whatever modules are installed.

Part I: XORNet classifies XOR (25% of the grade). Part II: the course CNN beats 50% on the real
CIFAR-10 test split after a short, fixed training recipe (35%). Part III: a character-level
TinyGPT reaches a validation-loss bar on tiny Shakespeare within a step budget, and generation
with the KV cache equals recomputation (40%). Every milestone uses only the public names of the
tt_* packages, so a learner's own module is what it measures. `run_milestone` never raises:
a milestone that cannot start is "not run" (missing module or data), one that crashes "error".

Test seam: `Factories` holds the model builders; a test passes a deliberately broken one
(nothing is installed or patched) and checks the milestone fails with its message.
"""

from __future__ import annotations

import importlib.util
import os
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

MILESTONES = (1, 2, 3)


@dataclass(frozen=True)
class Budget:
    """How much each milestone may train. `full` is the course assessment; tests use less."""

    name: str = "full"
    xor_steps: int = 500                 # full-batch SGD steps of XORNet (lr 1.0, tanh 2-4-1)
    cifar_train_images: int = 20_000     # the first N images of the training batches
    cifar_epochs: int = 2                # passes over those images, Adam + one-cycle lr 2e-3
    cifar_batch_size: int = 64
    cifar_test_images: int | None = None  # None: the whole 10,000-image test split
    gpt_steps: int = 600                 # AdamW steps on tiny Shakespeare
    gpt_batch_size: int = 16
    gpt_val_chars: int | None = None     # None: the whole validation split (last 10%)
    sample_tokens: int = 300             # length of the printed sample


# A smoke test of the whole pipeline in well under a minute; its figures mean nothing.
QUICK = Budget(name="quick", xor_steps=300, cifar_train_images=256, cifar_epochs=1,
               cifar_batch_size=32, cifar_test_images=128, gpt_steps=30, gpt_batch_size=8,
               gpt_val_chars=2048, sample_tokens=40)


@dataclass(frozen=True)
class GPTShape:
    """The Part III model: small enough for minutes on 2 cores, big enough to beat bigrams."""

    block_size: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    learning_rate: float = 3e-3  # peak, after 20 warm-up steps; cosine decay to a tenth


@dataclass(frozen=True)
class Criteria:
    """The pass marks, stated once; the report repeats them next to what was measured."""

    xor_accuracy: float = 1.0       # all four XOR points right
    cifar_accuracy: float = 0.50    # strictly above, on the CIFAR-10 test split
    # Mean cross-entropy (nats/char), strictly below. A bigram table scores 2.48 on this split,
    # so passing needs context; the reference measured 2.24 with the full budget (README).
    gpt_val_loss: float = 2.35
    kv_tokens: int = 32             # greedy tokens compared, cached vs recomputed


WEIGHTS = {1: 0.25, 2: 0.35, 3: 0.40}
TITLES = {1: "Part I: XORNet", 2: "Part II: CIFAR-10 CNN", 3: "Part III: TinyGPT"}
NEEDS = {  # the modules each milestone imports, and the extra that installs them
    1: (("tt_setup", "tt_tensor", "tt_layers", "tt_networks"), "foundations"),
    2: (("tt_dataloader", "tt_spatial", "tt_normalization", "tt_optimizers", "tt_training"),
        "vision"),
    3: (("tt_embeddings", "tt_transformers", "tt_generation", "tt_optimizers", "tt_dataloader"),
        "language"),
}
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)  # per-channel statistics of the CIFAR-10 training set
CIFAR_STD = (0.2470, 0.2435, 0.2616)


def xornet_model():
    from tt_layers import Tanh
    from tt_networks import mlp

    return mlp([2, 4, 1], activation=Tanh)


def cifar_model():
    """The course CNN of the CIFAR-10 capstone: two conv blocks, then an MLP head."""
    from tt_layers import Flatten, Linear, ReLU
    from tt_networks import Sequential
    from tt_normalization import BatchNorm2d
    from tt_spatial import Conv2d, MaxPool2d

    return Sequential(
        Conv2d(3, 32, 3), BatchNorm2d(32), ReLU(), MaxPool2d(2),     # (B, 32, 15, 15)
        Conv2d(32, 64, 3), BatchNorm2d(64), ReLU(), MaxPool2d(2),    # (B, 64, 6, 6)
        Flatten(), Linear(64 * 6 * 6, 256), ReLU(), Linear(256, 10),  # (B, 10)
    )


def gpt_model(vocab_size: int, shape: GPTShape):
    from tt_transformers import GPT, GPTConfig

    return GPT(GPTConfig(block_size=shape.block_size, vocab_size=vocab_size,
                         n_layer=shape.n_layer, n_head=shape.n_head, n_embd=shape.n_embd,
                         dropout=0.0, bias=False))


@dataclass(frozen=True)
class Factories:
    """Model builders; the test seam (a broken builder must make its milestone fail)."""

    xornet: Callable = xornet_model
    cifar: Callable = cifar_model
    gpt: Callable = gpt_model       # gpt(vocab_size, GPTShape)


@dataclass
class Outcome:
    """One milestone's line of the report."""

    number: int
    title: str
    weight: float
    criterion: str
    status: str = "not run"          # passed | failed | not run | error
    measured: dict = field(default_factory=dict)
    message: str = ""
    seconds: float = 0.0
    sample: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Settings:
    data: Path | None
    out: Path
    budget: Budget = Budget()
    criteria: Criteria = Criteria()
    gpt_shape: GPTShape = GPTShape()
    factories: Factories = Factories()
    seed: int = 0
    progress: bool = True


def criterion_text(number: int, s: Settings) -> str:
    c, b = s.criteria, s.budget
    if number == 1:
        return f"XOR accuracy >= {c.xor_accuracy:.2f} after {b.xor_steps} SGD steps"
    if number == 2:
        test = b.cifar_test_images or "all 10,000"
        return (f"CIFAR-10 test accuracy > {c.cifar_accuracy:.2f} on {test} test images, after "
                f"{b.cifar_epochs} epoch(s) on the first {b.cifar_train_images} training images")
    return (f"validation loss < {c.gpt_val_loss:.2f} nats/char on tiny Shakespeare (last 10%) "
            f"after {b.gpt_steps} steps, and {c.kv_tokens} greedy tokens with the KV cache equal "
            "to recomputation")


def missing_modules(number: int) -> list[str]:
    modules, _ = NEEDS[number]
    return [name for name in modules if importlib.util.find_spec(name) is None]


def run_milestone(number: int, s: Settings) -> Outcome:
    """Run one milestone; never raises (crashes become status 'error' with the traceback)."""
    outcome = Outcome(number, TITLES[number], WEIGHTS[number], criterion_text(number, s))
    missing = missing_modules(number)
    if missing:
        extra = NEEDS[number][1]
        names = ", ".join(name.replace("_", "-") for name in missing)
        outcome.message = f"not run: needs {names} (pip install 'tinytorch[{extra}]')"
        return outcome
    from tt_setup import seed_everything

    runner = {1: run_xornet, 2: run_cifar, 3: run_tinygpt}[number]
    seed_everything(s.seed)
    start = time.perf_counter()
    try:
        runner(s, outcome)
    except Exception as error:  # a learner's module may raise anything: report it, go on
        outcome.status = "error"
        last = traceback.extract_tb(error.__traceback__)[-1]
        outcome.message = (f"error: {type(error).__name__}: {error} (at {last.filename}:"
                           f"{last.lineno})")
    outcome.seconds = time.perf_counter() - start
    return outcome


def judge(outcome: Outcome, passed: bool, text: str) -> None:
    outcome.status = "passed" if passed else "failed"
    outcome.message = text if passed else f"FAILED: {text}"


def run_xornet(s: Settings, outcome: Outcome) -> None:
    from .milestone_runs import train_xornet

    accuracy, loss, method = train_xornet(s)
    outcome.measured = {"accuracy": accuracy, "final_loss": loss, "gradient_method": method}
    judge(outcome, accuracy >= s.criteria.xor_accuracy,
          f"XOR accuracy {accuracy:.2f} (needs >= {s.criteria.xor_accuracy:.2f}), "
          f"final loss {loss:.4f}, gradients by {method}")


def cifar_folder(s: Settings) -> Path | None:
    root = s.data or (Path(os.environ["TINYTORCH_DATA"]) if os.environ.get("TINYTORCH_DATA")
                      else None)
    if root is None or not (root / "cifar-10-batches-py" / "test_batch").is_file():
        return None
    return root


def run_cifar(s: Settings, outcome: Outcome) -> None:
    from .milestone_runs import train_cifar

    root = cifar_folder(s)
    if root is None:
        outcome.message = ("not run: no CIFAR-10 data: --data DIR must hold "
                           "cifar-10-batches-py/ (the python version of the dataset)")
        return
    accuracy, seconds, images, epochs = train_cifar(root, s)
    outcome.measured = {"test_accuracy": accuracy, "train_seconds": seconds,
                        "test_images": images, "epochs": epochs,
                        "metrics_file": str(s.out / "cifar10-run" / "metrics.jsonl")}
    judge(outcome, accuracy > s.criteria.cifar_accuracy,
          f"CIFAR-10 test accuracy {accuracy:.4f} on {images} images (needs > "
          f"{s.criteria.cifar_accuracy:.2f}), trained and tested in {seconds:.0f} s")


def shakespeare_file(s: Settings) -> Path | None:
    root = s.data or (Path(os.environ["TINYTORCH_DATA"]) if os.environ.get("TINYTORCH_DATA")
                      else None)
    path = root / "tinyshakespeare" / "input.txt" if root else None
    return path if path is not None and path.is_file() else None


def run_tinygpt(s: Settings, outcome: Outcome) -> None:
    from .milestone_runs import train_tinygpt

    path = shakespeare_file(s)
    if path is None:
        outcome.message = "not run: no corpus: --data DIR must hold tinyshakespeare/input.txt"
        return
    result = train_tinygpt(path, s)
    outcome.sample = result.pop("sample")
    outcome.measured = result
    loss_ok = result["val_loss"] < s.criteria.gpt_val_loss
    cache_ok = result["kv_cache_matches"]
    text = (f"validation loss {result['val_loss']:.4f} (needs < {s.criteria.gpt_val_loss:.2f}) "
            f"after {result['steps']} steps; KV-cached greedy tokens "
            f"{'equal' if cache_ok else 'DIFFER FROM'} recomputation")
    judge(outcome, loss_ok and cache_ok, text)
