"""Sample text from a trained TinyGPT checkpoint.

    python capstones/tinygpt/sample.py --out runs/tinygpt --prompt "ROMEO:" --max-new-tokens 300

Reads OUT/config.json (the model's shape), OUT/vocab.json (its characters) and OUT/ckpt.npz
(its weights), all written by train.py, and prints the prompt followed by the generated text.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

try:
    from tt_embeddings import CharTokenizer
    from tt_generation import generate
    from tt_training import CheckpointError, load_checkpoint
    from tt_transformers import GPT, GPTConfig
except ModuleNotFoundError as err:  # a course module is missing: name the install that has it
    if not (err.name or "").startswith("tt_"):
        raise
    sys.exit(f"TinyGPT needs TinyTorch's language modules ({err.name} is not installed): "
             "pip install 'tinytorch[language]'")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("runs/tinygpt"),
                   help="the directory train.py wrote")
    p.add_argument("--prompt", default="\n", help="text to continue (default: a newline)")
    p.add_argument("--max-new-tokens", type=int, default=500)
    p.add_argument("--temperature", type=float, default=0.8, help="0 = greedy")
    p.add_argument("--top-k", type=int, default=200)
    p.add_argument("--top-p", type=float)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--no-cache", action="store_true", help="recompute instead of a KV cache")
    args = p.parse_args(argv)
    checks = [("--max-new-tokens", args.max_new_tokens >= 1, ">= 1"),
              ("--temperature", args.temperature >= 0, ">= 0"),
              ("--top-k", args.top_k >= 1, ">= 1"), ("--seed", args.seed >= 0, ">= 0"),
              ("--top-p", args.top_p is None or 0 < args.top_p <= 1, "in (0, 1]")]
    for flag, ok, rule in checks:
        if not ok:
            usage_error(f"{flag} must be {rule}, got {getattr(args, flag[2:].replace('-', '_'))}")
    return args


def usage_error(message):
    """One line on stderr and exit status 2, as argparse does for a bad argument."""
    print(f"sample.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def load_model(out):
    """(model, tokenizer) from a train.py output directory."""
    out = Path(out)
    for name in ("config.json", "vocab.json", "ckpt.npz"):
        if not (out / name).is_file():
            raise FileNotFoundError(f"{out / name} is missing: run train.py --out {out} first")
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))["model"]
    tokenizer = CharTokenizer.load(out / "vocab.json")
    model = GPT(GPTConfig(**{**config, "dropout": 0.0}))  # sampling never drops out
    model.load_state_dict(load_checkpoint(out / "ckpt.npz")["model"])
    return model.eval(), tokenizer


def main(argv=None):
    args = parse_args(argv)
    try:
        model, tokenizer = load_model(args.out)
    except (FileNotFoundError, CheckpointError, ValueError) as err:
        usage_error(str(err))
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
    main()
