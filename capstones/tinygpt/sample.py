"""Sample text from a trained TinyGPT checkpoint.

    python capstones/tinygpt/sample.py --out runs/tinygpt --prompt "ROMEO:" --max-new-tokens 300

Reads OUT/config.json (the model's shape), OUT/vocab.json (its characters) and OUT/ckpt.npz
(its weights), all written by train.py, and prints the prompt followed by the generated text.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
from tt_embeddings import CharTokenizer
from tt_generation import generate
from tt_training import load_checkpoint
from tt_transformers import GPT, GPTConfig


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
    return p.parse_args(argv)


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
    model, tokenizer = load_model(args.out)
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
