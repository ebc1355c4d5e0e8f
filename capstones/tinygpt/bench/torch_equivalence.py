"""Does TinyGPT train exactly like PyTorch? Same weights, same batches, both frameworks.

    python capstones/tinygpt/bench/torch_equivalence.py --data input.txt [--steps 300]

Needs PyTorch (not a TinyTorch dependency: install it in the environment you run this from).
Builds the TinyGPT of train.py, copies its initial weights into a PyTorch transcription of
nanoGPT's model.py (fused c_attn, F.scaled_dot_product_attention, GELU tanh form, tied head),
then trains both on the same batches with the same AdamW groups, learning rates and clipping,
and prints both losses along the way and the largest difference.
"""

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))
import train as tinygpt  # noqa: E402  (the capstone's own train.py)
from data import load_text, make_corpus  # noqa: E402
from tt_optimizers import AdamW, clip_grad_norm_  # noqa: E402
from tt_regularization import param_groups_for_weight_decay  # noqa: E402


class TorchBlock(nn.Module):
    def __init__(self, C, H, gelu="tanh"):
        super().__init__()
        self.H, self.gelu = H, gelu   # gelu: "tanh" (TinyGPT) or "none" (nanoGPT's nn.GELU())
        self.ln_1, self.ln_2 = nn.LayerNorm(C, bias=False), nn.LayerNorm(C, bias=False)
        self.c_attn = nn.Linear(C, 3 * C, bias=False)
        self.attn_proj = nn.Linear(C, C, bias=False)
        self.c_fc, self.c_proj = nn.Linear(C, 4 * C, bias=False), nn.Linear(4 * C, C, bias=False)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = [z.view(B, T, self.H, C // self.H).transpose(1, 2) for z in (q, k, v)]
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)     # (B, H, T, D)
        x = x + self.attn_proj(y.transpose(1, 2).reshape(B, T, C))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate=self.gelu))


class TorchGPT(nn.Module):
    def __init__(self, cfg, gelu="tanh"):
        super().__init__()
        C = cfg.n_embd
        self.wte, self.wpe = nn.Embedding(cfg.vocab_size, C), nn.Embedding(cfg.block_size, C)
        self.h = nn.ModuleList([TorchBlock(C, cfg.n_head, gelu) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(C, bias=False)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.h:
            x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.T                       # tied head
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def copy_weights(ours, theirs):
    """TinyTorch GPT -> the PyTorch transcription (q, k, v stacked into c_attn)."""
    t = lambda a: torch.from_numpy(a.copy())  # noqa: E731
    with torch.no_grad():
        theirs.wte.weight.copy_(t(ours.wte.weight.data))
        theirs.wpe.weight.copy_(t(ours.wpe.weight.data))
        theirs.ln_f.weight.copy_(t(ours.ln_f.weight.data))
        for tb, b in zip(theirs.h, ours.h):
            a = b.attn
            qkv = np.concatenate([a.q_proj.weight.data, a.k_proj.weight.data,
                                  a.v_proj.weight.data])
            for dst, src in ((tb.ln_1.weight, b.ln_1.weight), (tb.ln_2.weight, b.ln_2.weight),
                             (tb.attn_proj.weight, a.out_proj.weight),
                             (tb.c_fc.weight, b.mlp.c_fc.weight),
                             (tb.c_proj.weight, b.mlp.c_proj.weight)):
                dst.copy_(t(src.data))
            tb.c_attn.weight.copy_(t(qkv))


def torch_optimizer(model, cfg, decay_embeddings=False):
    """AdamW over two groups: parameters with dim >= 2 decay, the rest do not.

    decay_embeddings=False: tt_regularization's groups (and minGPT's, the first nanoGPT's):
    the embeddings, and the head tied to them, are not decayed. True: today's nanoGPT.
    """
    decay, rest = [], []
    for name, p in model.named_parameters():
        is_embedding = name.startswith(("wte", "wpe"))
        (decay if p.dim() >= 2 and (decay_embeddings or not is_embedding) else rest).append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                              {"params": rest, "weight_decay": 0.0}],
                             lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path)
    p.add_argument("--steps", type=int, default=300)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    corpus = make_corpus(*load_text(args.data, "pydoc"))
    cfg = tinygpt.TrainConfig()
    np.random.seed(cfg.seed)
    ours = tinygpt.build_model(cfg, corpus.tokenizer.vocab_size)
    theirs = TorchGPT(ours.config)
    copy_weights(ours, theirs)
    opt = AdamW(param_groups_for_weight_decay(ours, cfg.weight_decay), lr=cfg.learning_rate,
                betas=(cfg.beta1, cfg.beta2))
    topt = torch_optimizer(theirs, cfg)
    rng, worst = np.random.default_rng(0), 0.0
    for it in range(args.steps):
        pos = rng.integers(0, len(corpus.train) - cfg.block_size, cfg.batch_size)[:, None] \
            + np.arange(cfg.block_size)                                 # (B, T)
        x, y = corpus.train[pos], corpus.train[pos + 1]
        for group in [*opt.param_groups, *topt.param_groups]:
            group["lr"] = tinygpt.lr_at(it, cfg)
        loss = tinygpt.lm_loss(ours(x), y)
        opt.zero_grad()
        loss.backward()
        clip_grad_norm_(ours.parameters(), cfg.grad_clip)
        opt.step()
        tloss = theirs(torch.from_numpy(x), torch.from_numpy(y))
        topt.zero_grad()
        tloss.backward()
        torch.nn.utils.clip_grad_norm_(theirs.parameters(), cfg.grad_clip)
        topt.step()
        worst = max(worst, abs(loss.item() - tloss.item()))
        if it % 50 == 0 or it == args.steps - 1:
            print(f"step {it}: tinytorch {loss.item():.6f}  pytorch {tloss.item():.6f}")
    print(f"largest loss difference over {args.steps} steps: {worst:.2e}")
    return worst if math.isfinite(worst) else float("inf")


if __name__ == "__main__":
    main()
