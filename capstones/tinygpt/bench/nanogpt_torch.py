"""nanoGPT's own run of the TinyGPT configuration, in PyTorch: the reference for the 1.88 bar.

    python capstones/tinygpt/bench/nanogpt_torch.py --data input.txt --seed 1337 --out DIR

Needs PyTorch (not a TinyTorch dependency). This is the loop of nanoGPT's train.py with
config/train_shakespeare_char.py and its CPU overrides, condensed: the model of
torch_equivalence.py (nanoGPT's architecture, exact GELU as nanoGPT's nn.GELU()), nanoGPT's
init drawn from torch.manual_seed(seed), its AdamW groups (every tensor with 2 or more
dimensions decays, the tied embedding included), batches from torch.randint, the loss estimate
on 20 random batches every 250 steps. Writes DIR/results.json with the keys of train.py's
results, so bench/seeds.py can put both frameworks in one table.
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import train as tinygpt  # noqa: E402  (the capstone's config, schedule and corpus)
from data import load_text, make_corpus  # noqa: E402
from torch_equivalence import TorchGPT, torch_optimizer  # noqa: E402
from tt_transformers import GPTConfig  # noqa: E402


def nanogpt_init(model, n_layer):
    """N(0, 0.02) for every Linear and Embedding, N(0, 0.02 / sqrt(2 L)) for the two
    residual projections of each block (GPT-2's scaled init, as nanoGPT)."""
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, 0.0, 0.02)
    for block in model.h:
        for proj in (block.attn_proj, block.c_proj):
            nn.init.normal_(proj.weight, 0.0, 0.02 / math.sqrt(2 * n_layer))


def get_batch(ids, cfg):
    """nanoGPT's get_batch: B random windows of T tokens and the same shifted by one."""
    ix = torch.randint(len(ids) - cfg.block_size, (cfg.batch_size,))
    pos = ix[:, None] + torch.arange(cfg.block_size)                    # (B, T)
    return ids[pos], ids[pos + 1]


@torch.no_grad()
def estimate_loss(model, splits, cfg):
    model.eval()
    out = {name: float(np.mean([model(*get_batch(ids, cfg)).item()
                                for _ in range(cfg.eval_iters)]))
           for name, ids in splits.items()}
    model.train()
    return out


@torch.no_grad()
def full_val_loss(model, ids, cfg):
    """The loss over every non-overlapping window of the split (train.py's full_val_loss)."""
    T = cfg.block_size
    n = (len(ids) - 1) // T
    total = 0.0
    model.eval()
    for i in range(0, n, 64):
        pos = (torch.arange(i, min(i + 64, n)) * T)[:, None] + torch.arange(T)
        total += model(ids[pos], ids[pos + 1]).item() * len(pos)
    model.train()
    return total / max(n, 1)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--gelu", choices=("none", "tanh"), default="none",
                   help="none: exact GELU (nanoGPT); tanh: TinyGPT's approximation")
    p.add_argument("--no-decay-embeddings", action="store_true",
                   help="TinyTorch's weight-decay groups instead of nanoGPT's")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = tinygpt.TrainConfig(seed=args.seed)
    corpus = make_corpus(*load_text(args.data))
    splits = {"train": torch.from_numpy(corpus.train), "val": torch.from_numpy(corpus.val)}
    torch.manual_seed(cfg.seed)
    model_cfg = GPTConfig(block_size=cfg.block_size, vocab_size=corpus.tokenizer.vocab_size,
                          n_layer=cfg.n_layer, n_head=cfg.n_head, n_embd=cfg.n_embd, bias=False)
    model = TorchGPT(model_cfg, gelu=args.gelu)
    nanogpt_init(model, cfg.n_layer)
    optimizer = torch_optimizer(model, cfg, decay_embeddings=not args.no_decay_embeddings)
    history = {"iter": [], "train_loss": [], "val_loss": []}
    step_seconds = 0.0
    for it in range(cfg.max_iters + 1):
        if it % cfg.eval_interval == 0 or it == cfg.max_iters:
            losses = estimate_loss(model, splits, cfg)
            history["iter"].append(it)
            history["train_loss"].append(losses["train"])
            history["val_loss"].append(losses["val"])
            print(f"step {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}",
                  flush=True)
        if it == cfg.max_iters:
            break
        for group in optimizer.param_groups:
            group["lr"] = tinygpt.lr_at(it, cfg)
        x, y = get_batch(splits["train"], cfg)
        t0 = time.perf_counter()
        loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        step_seconds += time.perf_counter() - t0
    results = {"framework": f"pytorch {torch.__version__}", "history": history,
               "final_train_loss": history["train_loss"][-1],
               "final_val_loss": history["val_loss"][-1],
               "final_val_loss_full": full_val_loss(model, splits["val"], cfg),
               "ms_per_iter": 1e3 * step_seconds / cfg.max_iters,
               "config": {**vars(cfg), "gelu": args.gelu,
                          "decay_embeddings": not args.no_decay_embeddings}}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    print(f"final val loss {results['final_val_loss']:.4f} "
          f"(full split {results['final_val_loss_full']:.4f})")
    return results


if __name__ == "__main__":
    main()
