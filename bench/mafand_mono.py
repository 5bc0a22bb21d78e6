"""Experiment g's data (docs/experiments.md; issue 24): MAFAND-MT's train split as monolingual text.

For each pivot (English: hau ibo lug pcm tsn twi yor zul; French: bam bbj ewe fon mos wol) it
writes under ``OUT/<pivot>/``:

- ``mono/<x>.txt`` and ``mono/<pivot>.txt``: the train split's two sides, unaligned. Each
  language's rows are shuffled (seed 0); the first 60% keep both sides, the next 20% only the
  ``x`` side, the last 20% only the pivot side (a translation for only part of each side). The
  pivot file holds every language's pivot sentences plus 2,000 distractors from Multi30k's train
  split (image captions in the pivot language: sentences that translate nothing), shuffled;
- ``dev/<x>-<pivot>.tsv``: the 60% of rows whose both sides are in ``mono/`` (the known pairs
  that ``--mine-dev`` measures each round's mining against);
- ``gold/<x>-<pivot>.tsv``: every row of the train split (the upper bound: the same recipe and
  steps on the real pairs);
- ``flores_eval/``: the FLORES dev files of the languages FLORES has (not pcm, bbj) and the
  pivot's, for ``langgap measure --multiway`` (the evaluation; never trained on).

Rows with an empty side or a tab are left out. Usage: python bench/mafand_mono.py OUT
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MAFAND = DATA / "lafand_mt" / "train"
FLORES = DATA / "flores200_sib" / "dev"
PIVOTS = {"eng": ("en", "eng_Latn"), "fra": ("fr", "fra_Latn")}  # ours -> (MAFAND's, FLORES's)
BOTH, X_ONLY = 0.6, 0.2  # shares of each language's rows; the rest: pivot side only
DISTRACTORS = 2000


def rows(path: Path) -> list[tuple[str, str]]:
    """``(pivot, x)`` rows of a MAFAND file, without empty sides or tabs."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and all(p.strip() for p in parts):
            out.append((parts[0].strip(), parts[1].strip()))
    return out


def write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")


def build(out: Path, pivot: str, rng: np.random.Generator) -> None:
    short, flores_pivot = PIVOTS[pivot]
    pivot_side: list[str] = []
    for path in sorted(MAFAND.glob(f"{short}-*.tsv")):
        x = path.stem.split("-")[1]
        pairs = rows(path)
        order = rng.permutation(len(pairs))
        n_both, n_x = int(BOTH * len(pairs)), int((BOTH + X_ONLY) * len(pairs))
        both = [pairs[i] for i in order[:n_both]]
        x_side = [pairs[i][1] for i in order[:n_x]]
        pivot_side += [p for p, _ in both] + [pairs[i][0] for i in order[n_x:]]
        write_lines(out / "mono" / f"{x}.txt", [x_side[i] for i in rng.permutation(len(x_side))])
        write_lines(out / "dev" / f"{x}-{pivot}.tsv", [f"{b}\t{a}" for a, b in both])
        write_lines(out / "gold" / f"{x}-{pivot}.tsv", [f"{b}\t{a}" for a, b in pairs])
        flores = FLORES / f"{x}_Latn.txt"
        if flores.exists():
            write_lines(out / "flores_eval" / flores.name, flores.read_text(encoding="utf-8").splitlines())
    multi30k = (DATA / "multi30k" / "train" / "en-fr.tsv").read_text(encoding="utf-8").splitlines()
    captions = [line.split("\t")[0 if pivot == "eng" else 1] for line in multi30k]
    captions = [c for c in captions if c.strip() and "\t" not in c]
    pivot_side += [captions[i] for i in rng.choice(len(captions), DISTRACTORS, replace=False)]
    write_lines(out / "mono" / f"{pivot}.txt", [pivot_side[i] for i in rng.permutation(len(pivot_side))])
    flores = FLORES / f"{flores_pivot}.txt"
    write_lines(out / "flores_eval" / flores.name, flores.read_text(encoding="utf-8").splitlines())


def main(out: Path) -> None:
    for pivot in PIVOTS:
        build(out / pivot, pivot, np.random.default_rng(0))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
