"""Sample text from a trained TinyGPT checkpoint.

    tinytorch run tinygpt-sample --run runs/tinygpt --prompt "ROMEO:" --max-new-tokens 300
    .venv/bin/python capstones/tinygpt/sample.py --run runs/tinygpt      # from a checkout

Reads RUN/config.json (the model's shape), RUN/vocab.json (its characters) and RUN/ckpt.npz
(its weights), all written by train.py, and prints the prompt followed by the generated text.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from tinytorch.capstone import (
    HelpFormatter, apply_threads, exit_on_ctrl_c, needs_extra, prog, relative_out, usage_error,
)

apply_threads()  # before NumPy loads its BLAS

import numpy as np  # noqa: E402

with needs_extra("TinyGPT", "language", "language modules"):
    from tt_embeddings import CharTokenizer
    from tt_generation import generate
    from tt_training import CheckpointError, load_checkpoint
    from tt_transformers import GPT, GPTConfig


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog=prog(__file__), description=__doc__.splitlines()[0],
                                formatter_class=HelpFormatter)
    p.add_argument("--run", type=Path, default=Path(relative_out("tinygpt")),
                   help="the run folder train.py wrote (its --out)")
    p.add_argument("--out", dest="run", type=Path, help=argparse.SUPPRESS)  # the old spelling
    p.add_argument("--prompt", default="\n", help="text to continue")
    p.add_argument("--max-new-tokens", type=int, default=500, help="characters to generate")
    p.add_argument("--temperature", type=float, default=0.8, help="0 = greedy")
    p.add_argument("--top-k", type=int, default=200, help="sample among the k likeliest")
    p.add_argument("--top-p", type=float, help="sample among the likeliest whose "
                   "probabilities sum to p (default: off)")
    p.add_argument("--seed", type=int, default=1337, help="random seed of the sampling")
    p.add_argument("--threads", type=int, help="BLAS threads (sets OMP/OPENBLAS/MKL_NUM_THREADS;"
                   " default: what NumPy's BLAS picks)")
    p.add_argument("--no-cache", action="store_true", help="recompute instead of a KV cache")
    args = p.parse_args(argv)
    checks = [("--max-new-tokens", args.max_new_tokens >= 1, ">= 1"),
              ("--temperature", args.temperature >= 0, ">= 0"),
              ("--top-k", args.top_k >= 1, ">= 1"), ("--seed", args.seed >= 0, ">= 0"),
              ("--top-p", args.top_p is None or 0 < args.top_p <= 1, "in (0, 1]"),
              ("--threads", args.threads is None or args.threads >= 1, ">= 1")]
    for flag, ok, rule in checks:
        if not ok:
            value = getattr(args, flag[2:].replace("-", "_"))
            usage_error(__file__, f"{flag} must be {rule}, got {value}")
    return args


def load_model(out):
    """(model, tokenizer) from a train.py output directory."""
    out = Path(out)
    for name in ("config.json", "vocab.json", "ckpt.npz"):
        if not (out / name).is_file():
            raise FileNotFoundError(f"{out / name} is missing: train first with "
                                    f"tinytorch run tinygpt --out {out}")
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))["model"]
    tokenizer = CharTokenizer.load(out / "vocab.json")
    model = GPT(GPTConfig(**{**config, "dropout": 0.0}))  # sampling never drops out
    model.load_state_dict(load_checkpoint(out / "ckpt.npz")["model"])
    return model.eval(), tokenizer


def main(argv=None):
    args = parse_args(argv)
    try:
        model, tokenizer = load_model(args.run)
    except (FileNotFoundError, CheckpointError, ValueError) as err:
        usage_error(__file__, str(err))
    idx = np.array([tokenizer.encode(args.prompt)], dtype=np.int64)
    t0 = time.perf_counter()
    ids = generate(model, idx, args.max_new_tokens, temperature=args.temperature,
                   top_k=args.top_k, top_p=args.top_p, seed=args.seed,
                   use_cache=not args.no_cache)
    seconds = time.perf_counter() - t0
    text = tokenizer.decode(ids.data[0])
    print(text)
    print(f"\n[{args.max_new_tokens} tokens in {seconds:.2f} s: "
          f"{args.max_new_tokens / max(seconds, 1e-9):.0f} tokens/s]")
    return text


if __name__ == "__main__":
    sys.exit(exit_on_ctrl_c(main))
