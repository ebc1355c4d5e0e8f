"""The validation loss of the TinyGPT configuration over many seeds, TinyTorch and PyTorch.

    python capstones/tinygpt/bench/seeds.py --data input.txt --seeds 0-9 --jobs 2 \
        [--torch-python PATH [--torch-recipe nanogpt tinygpt]] [--out runs/seeds]

One run is a sample of a random variable: the seed draws the initial weights and the
batches, and nanoGPT's loss estimate is itself a mean over 20 random batches. A bar like
"val loss <= 1.88" is only meaningful against the spread of that variable, so this runs the
capstone (train.py) once per seed, and, with --torch-python (an interpreter where `import
torch` works), nanoGPT's own loop (nanogpt_torch.py) with the same seeds, each run in its own
process with one BLAS thread. It prints one row per run and, per framework, the mean, the
standard deviation, and how many runs met the bar. Runs whose results.json already exists in
--out are read, not repeated (delete the directory to start over).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
TRAIN = HERE.parent / "train.py"
TORCH_RUN = HERE / "nanogpt_torch.py"
# The recipes run in PyTorch, by run name. nanogpt: nanoGPT's own (exact GELU, embeddings
# decayed). tinygpt: the capstone's (tanh GELU, embeddings not decayed), to tell the framework
# from the recipe.
TORCH_RECIPES = {"pytorch-nanogpt": [],
                 "pytorch-tinygpt": ["--gelu", "tanh", "--no-decay-embeddings"]}


def parse_seeds(text):
    """'0-9' -> [0..9]; '1,5,1337' -> [1, 5, 1337]; both can mix: '0-3,1337'."""
    seeds = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds.extend(range(int(low), int(high) + 1) if high else [int(low)])
    return seeds


def run_one(framework, seed, args):
    """Train one seed (unless its results exist); returns (framework, seed, results)."""
    out = args.out / f"{framework}-{seed}"
    results = out / "results.json"
    if not results.is_file():
        if framework == "tinytorch":
            cmd = [sys.executable, str(TRAIN), "--data", str(args.data), "--seed", str(seed),
                   "--out", str(out), "--no-progress"]
            if (out / "ckpt.npz").is_file():  # an interrupted run: train.py refuses to restart it
                cmd.append("--resume")
        else:
            cmd = [str(args.torch_python), str(TORCH_RUN), "--data", str(args.data),
                   "--seed", str(seed), "--out", str(out)] + TORCH_RECIPES[framework]
        out.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"}
        with open(out / "log.txt", "w") as log:
            done = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"{framework} seed {seed} failed (exit {done.returncode}); "
                               f"see {out / 'log.txt'}")
    return framework, seed, json.loads(results.read_text())


def _mean_std(xs):
    """'mean +- sample std' (std is nan for a single run)."""
    std = statistics.stdev(xs) if len(xs) > 1 else float("nan")
    return f"{statistics.fmean(xs):.3f} +- {std:.3f}"


def summary(rows, bar):
    """Per framework: n, mean and sample std of both losses, runs at or under the bar."""
    lines = []
    for framework in sorted({f for f, _, _ in rows}):
        est = [r["final_val_loss"] for f, _, r in rows if f == framework]
        full = [r["final_val_loss_full"] for f, _, r in rows if f == framework]
        lines.append(f"| {framework} | {len(est)} | {_mean_std(est)} | {_mean_std(full)} "
                     f"| {sum(x <= bar for x in est)} of {len(est)} |")
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="the corpus (tiny Shakespeare)")
    p.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-9"))
    p.add_argument("--jobs", type=int, default=1, help="runs at the same time")
    p.add_argument("--torch-python", type=Path,
                   help="an interpreter with torch: also run nanoGPT's loop in PyTorch")
    p.add_argument("--torch-recipe", nargs="+", choices=("nanogpt", "tinygpt"),
                   default=["nanogpt"], help="which recipes to run in PyTorch")
    p.add_argument("--out", type=Path, default=Path("runs/seeds"))
    p.add_argument("--bar", type=float, default=1.88)
    args = p.parse_args(argv)
    frameworks = ["tinytorch"] + ([f"pytorch-{r}" for r in args.torch_recipe]
                                  if args.torch_python else [])
    work = [(f, s) for s in args.seeds for f in frameworks]
    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda fs: run_one(*fs, args), work))
    print("| framework | seed | val loss (20 batches) | val loss (whole split) |")
    print("|---|---:|---:|---:|")
    for framework, seed, r in sorted(rows, key=lambda row: (row[0], row[1])):
        print(f"| {framework} | {seed} | {r['final_val_loss']:.3f} | "
              f"{r['final_val_loss_full']:.3f} |")
    print()
    print(f"| framework | runs | mean +- std (20 batches) | mean +- std (whole split) "
          f"| <= {args.bar} |")
    print("|---|---:|---:|---:|---:|")
    print("\n".join(summary(rows, args.bar)))
    return rows


if __name__ == "__main__":
    main()
