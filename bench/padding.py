"""How much of a training batch is padding, with and without length buckets (docs/benchmarks.md).

For random batches of ``--batch`` pairs drawn from the given ``src<TAB>tgt`` files, every text
(prompt included) is tokenized with the model's tokenizer and cut at ``--max-length``; a single
forward pads all 2 x batch texts to the longest, ``--length-buckets 2`` pads each length-sorted
half to its own longest (what ``langgap train --length-buckets 2`` does). Prints the mean token
count, the share of texts cut, and the padding share of the token positions both ways.

Usage::

    python bench/padding.py runs/bench-flores/*.tsv --max-length 64 128
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

DEFAULT_MODEL = str(Path.home() / ".cache" / "langgap" / "models" / "multilingual-e5-small")


def padding_share(lengths: np.ndarray, buckets: int) -> float:
    """Padding share of the positions when ``lengths`` (one batch's texts) are split into
    ``buckets`` length-sorted forwards, each padded to its own longest text."""
    parts = np.array_split(np.sort(lengths), buckets)
    return 1 - lengths.sum() / sum(p.max() * len(p) for p in parts)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("pairs", nargs="+")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--prompt", default="query: ")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--batches", type=int, default=200)
    p.add_argument("--max-length", type=int, nargs="+", default=[64, 128])
    args = p.parse_args()
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(args.model)
    rows = [line.rstrip("\n").split("\t") for f in args.pairs for line in open(f, encoding="utf-8")]
    full = np.array([[len(tok(args.prompt + t)["input_ids"]) for t in r] for r in rows])  # (pairs, 2)
    print("| max length | tokens per text | texts cut | padding, one forward | padding, 2 buckets |")
    print("|---:|---:|---:|---:|---:|")
    for max_len in args.max_length:
        lens = np.minimum(full, max_len)
        rng = np.random.default_rng(0)
        one, two = [], []
        for _ in range(args.batches):
            batch = lens[rng.choice(len(lens), args.batch, replace=False)].ravel()
            one.append(padding_share(batch, 1))
            two.append(padding_share(batch, 2))
        print(f"| {max_len} | {lens.mean():.1f} | {(full > max_len).mean():.1%} | {np.mean(one):.1%} | "
              f"{np.mean(two):.1%} |")  # fmt: skip


if __name__ == "__main__":
    main()
