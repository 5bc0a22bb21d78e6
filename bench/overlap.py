"""Report sentences shared by training files and evaluation files (docs/experiments.md).

    python bench/overlap.py --train runs/exp/data/*.tsv --eval ../shared/data/tatoeba/deu-eng.tsv \
        ../shared/data/sts17/en-de.tsv --sample

Every tab-separated text field counts (a leading numeric STS score is skipped). Prints a
markdown table: evaluation file, distinct texts, texts also in training, share.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from langgap.data.readers import read_lines
from langgap.data.sample import load_sample
from langgap.training.overlap import text_overlap


def texts_of(path: str) -> list[str]:
    lines, _ = read_lines(path)
    out = []
    for line in lines:
        fields = line.split("\t")
        if len(fields) == 3:
            fields = fields[1:]  # score<TAB>s1<TAB>s2
        out.extend(fields)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", nargs="+", required=True)
    ap.add_argument("--eval", nargs="+", default=[])
    ap.add_argument("--sample", action="store_true", help="also the built-in sample")
    args = ap.parse_args()
    train = [t for p in args.train for t in texts_of(p)]
    evals = {Path(p).parent.name + "/" + Path(p).name: texts_of(p) for p in args.eval}
    if args.sample:
        s = load_sample()
        evals["built-in sample"] = [t for lang in s.anchors for t in s.anchors[lang] + s.positives[lang]]
    print(f"Training texts: {len(set(train)):,} distinct, from {len(args.train)} files\n")
    print("| evaluation file | distinct texts | also in training | share |")
    print("|---|---:|---:|---:|")
    for row in text_overlap(train, evals):
        print(f"| {row.name} | {row.texts:,} | {row.shared:,} | {row.share:.2%} |")


if __name__ == "__main__":
    main()
