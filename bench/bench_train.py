"""Training throughput and peak memory: langgap's loop vs sentence-transformers' own trainer.

Both train the same model on the same pairs with the same batch size, max length, prompt,
optimizer settings (AdamW, lr 2e-5, weight decay 0.01, 10% linear warm-up then linear decay,
gradient clipping at 1.0) and no duplicate text in a batch:

(a) ``langgap``: :func:`langgap.training.loop.train` with ``objective="infonce"`` (bidirectional
    InfoNCE, temperature 0.05), no evaluation, no checkpoints.
(b) ``sentence-transformers``: ``SentenceTransformerTrainer`` with
    ``MultipleNegativesRankingLoss`` (scale 20 = 1 / 0.05; one direction, anchor -> positive),
    ``BatchSamplers.NO_DUPLICATES``, ``prompts=`` the same prefix, no evaluation or saving.

Each run is its own subprocess (runs alternate: a, b, a, b, ...), so peak memory is that
process's alone. Throughput is pairs per second over optimizer steps 2..N (step 1 holds one-off
warm-up), from per-step wall-clock stamps: langgap's ``train_log.jsonl`` ``elapsed`` and, for the
trainer, a callback's ``time.perf_counter()`` at each ``on_step_end``. Peak memory is the
process's peak resident set (``ru_maxrss``) on CPU and ``torch.cuda.max_memory_allocated`` on
a GPU, where the peak RSS is reported too.

Usage::

    python bench/bench_train.py --steps 5 --repeat 1                 # smoke test
    python bench/bench_train.py --steps 30 --repeat 2 --json runs/bench_train.json
    python bench/bench_train.py --pairs runs/bench-flores/*.tsv --max-length 128 --length-buckets 2

``--length-buckets N`` (N > 1) adds a third run per round, ``langgap-buckets``: langgap with its
batches split into N length-sorted forwards (``langgap train --length-buckets``), less padding.
(The plain ``langgap`` run keeps one forward per batch, as before buckets became the default.)

``--variant NAME:KEY=VALUE,...`` (repeatable) adds a langgap run per round with those
``TrainConfig`` settings over the plain run's, e.g. ``--variant f6:length_buckets=2,freeze_layers=6``
or ``--variant bf16:mixed_precision=bf16``; ``--st-bf16`` adds the trainer with ``bf16=True``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

SHARED = Path(__file__).resolve().parents[2] / "shared"
DEFAULT_MODEL = str(Path.home() / ".cache" / "langgap" / "models" / "multilingual-e5-small")
DEFAULT_PAIRS = [str(SHARED / "data" / "multi30k" / "train" / "en-de.tsv")]
IMPLS = ("langgap", "sentence-transformers", "langgap-buckets")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--prompt", default="query: ")
    p.add_argument("--pairs", nargs="+", default=DEFAULT_PAIRS, help="src<TAB>tgt TSVs (xxx-yyy.tsv)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--length-buckets", type=int, default=1, help="N > 1: also run langgap-buckets")
    p.add_argument("--variant", action="append", default=[], help="NAME:KEY=VALUE,...: another langgap run")
    p.add_argument("--st-bf16", action="store_true", help="also the trainer with bf16=True")
    p.add_argument("--only-variants", action="store_true", help="run the --variant runs alone")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--workdir", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def peak_memory() -> dict[str, float]:
    import torch

    out = {"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if torch.cuda.is_available():
        out["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def rate(stamps: list[float], batch_size: int) -> float:
    """Pairs per second over steps 2..N from the wall-clock stamps at the end of each step."""
    return (len(stamps) - 1) * batch_size / (stamps[-1] - stamps[0])


def first_pairs(files: list[str], n: int) -> tuple[list[str], list[str]]:
    """The first ``n`` distinct-text pairs over the files (the trainer's dataset; langgap reads files)."""
    from langgap.data.readers import read_bitext

    src: list[str] = []
    tgt: list[str] = []
    for f in files:
        b = read_bitext(f)
        src, tgt = src + b.src, tgt + b.tgt
    return src[:n], tgt[:n]


def worker_langgap(args: argparse.Namespace, pairs_file: str) -> dict[str, Any]:
    from langgap.training.config import TrainConfig
    from langgap.training.loop import train

    out = Path(args.workdir) / "langgap"
    cfg = TrainConfig.from_flat(
        model=args.model,
        prompt=args.prompt,
        pairs=(pairs_file,),
        objective="infonce",
        batch_size=args.batch_size,
        max_length=args.max_length,
        max_steps=args.steps,
        lr=2e-5,
        save_every=0,
        out=str(out),
        length_buckets=args.length_buckets if args.worker == "langgap-buckets" else 1,
    )
    if args.worker.startswith("langgap-v-"):
        cfg = cfg.replace(**variants(args)[args.worker])
    res = train(cfg)
    log = [json.loads(x) for x in (out / "train_log.jsonl").read_text().splitlines()]
    return {
        "pairs_per_s": rate([r["elapsed"] for r in log], args.batch_size),
        "mean_loss": sum(res.losses) / len(res.losses),
    }


def variants(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """``{worker name: TrainConfig settings}`` of every ``--variant NAME:KEY=VALUE,...``."""
    out = {}
    for spec in args.variant:
        name, _, settings = spec.partition(":")
        values: dict[str, Any] = {}
        for item in filter(None, settings.split(",")):
            key, _, value = item.partition("=")
            flags = {"true": True, "false": False}
            values[key] = int(value) if value.lstrip("-").isdigit() else flags.get(value, value)
        out[f"langgap-v-{name}"] = values
    return out


def worker_st(args: argparse.Namespace, src: list[str], tgt: list[str]) -> dict[str, Any]:
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.losses import MultipleNegativesRankingLoss
    from sentence_transformers.training_args import BatchSamplers
    from transformers import TrainerCallback

    stamps: list[float] = []

    class Stamp(TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, *a: Any, **k: Any) -> None:
            stamps.append(time.perf_counter())

    model = SentenceTransformer(args.model)
    model.max_seq_length = args.max_length
    data = Dataset.from_dict({"anchor": src, "positive": tgt})
    targs = SentenceTransformerTrainingArguments(
        output_dir=str(Path(args.workdir) / "st"),
        per_device_train_batch_size=args.batch_size,
        max_steps=args.steps,
        learning_rate=2e-5,
        weight_decay=0.01,
        warmup_ratio=0.1,
        lr_scheduler_type="linear",
        max_grad_norm=1.0,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        prompts=args.prompt or None,
        save_strategy="no",
        eval_strategy="no",
        logging_steps=10**9,
        report_to=[],
        disable_tqdm=True,
        seed=0,
        dataloader_drop_last=True,
        bf16=args.worker == "sentence-transformers-bf16",
    )
    loss = MultipleNegativesRankingLoss(model, scale=20.0)
    trainer = SentenceTransformerTrainer(
        model=model, args=targs, train_dataset=data, loss=loss, callbacks=[Stamp()]
    )
    out = trainer.train()
    return {"pairs_per_s": rate(stamps, args.batch_size), "mean_loss": float(out.training_loss)}


def run_worker(args: argparse.Namespace) -> None:
    n = args.steps * args.batch_size * 2  # enough pairs for the steps after de-duplication
    src, tgt = first_pairs(args.pairs, n)
    pairs_file = Path(args.workdir) / (Path(args.pairs[0]).stem + ".tsv")  # keeps xxx-yyy in the name
    pairs_file.write_text("".join(f"{s}\t{t}\n" for s, t in zip(src, tgt, strict=True)), encoding="utf-8")
    t0 = time.perf_counter()
    if args.worker.startswith("sentence-transformers"):
        res = worker_st(args, src, tgt)
    else:
        res = worker_langgap(args, str(pairs_file))
    print(json.dumps({"impl": args.worker, "wall_s": time.perf_counter() - t0, **res, **peak_memory()}))


def environment() -> dict[str, Any]:
    import torch

    versions = {"python": platform.python_version()}
    for pkg in ("langgap", "torch", "transformers", "sentence-transformers", "accelerate", "datasets"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "-"
    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    return {"device": dev, "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), **versions}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        run_worker(args)
        return
    runs = []
    impls = [*(IMPLS if args.length_buckets > 1 else IMPLS[:2]), *variants(args)]
    impls += ["sentence-transformers-bf16"] if args.st_bf16 else []
    impls = [i for i in impls if i.startswith("langgap-v-")] if args.only_variants else impls
    for r in range(args.repeat):
        for impl in impls:
            with tempfile.TemporaryDirectory() as tmp:
                cmd = [sys.executable, __file__, *(argv if argv is not None else sys.argv[1:])]
                cmd += ["--worker", impl, "--workdir", tmp]
                done = subprocess.run(cmd, capture_output=True, text=True, check=False)
                if done.returncode:
                    sys.exit(f"{impl} run {r + 1} failed:\n{done.stderr[-3000:]}")
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
                print(json.dumps(runs[-1]), file=sys.stderr)
    summary = {}
    for impl in impls:
        mine = [x for x in runs if x["impl"] == impl]
        summary[impl] = {
            k: statistics.median(x[k] for x in mine) for k in mine[0] if isinstance(mine[0][k], float)
        }
    report = {"settings": {k: v for k, v in vars(args).items() if k not in ("worker", "workdir", "json")}}
    report |= {"environment": environment(), "runs": runs, "median": summary}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print("| implementation | pairs/s | peak RSS (MiB) | mean loss |")
    print("|---|---:|---:|---:|")
    for impl, m in summary.items():
        print(f"| {impl} | {m['pairs_per_s']:.1f} | {m['peak_rss_mib']:,.0f} | {m['mean_loss']:.3f} |")


if __name__ == "__main__":
    main()
