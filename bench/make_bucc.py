"""Build BUCC-style mining sets from ../shared/data: known translations hidden among sentences
that translate nothing on the other side.

For each language X (default deu, fra, rus, zho) it writes ``runs/bucc/<X>-eng/``:

- ``src.txt``: the 510 FLORES dev sentences of X plus about 5,000 X distractors: the X side of
  Tatoeba ``<X>-eng.tsv`` (1,000) and X sentences of STS-B (``stsb_multi_mt/<x>-train.tsv``,
  DeepL translations; rows of one seeded half of the file);
- ``tgt.txt``: the 510 FLORES dev sentences of English plus about 5,000 English distractors: the
  English side of Tatoeba files of other languages (1,000; none equal, after lower-casing and
  dropping punctuation, to an English sentence of the Tatoeba or STS-B rows used on any X side)
  and English news of MAFAND-MT (``lafand_mt/train/en-*.tsv``, 4,000), whose translations are
  in African languages only. The English side is the same for every X;
- ``gold.tsv``: ``src_line<TAB>tgt_line`` (1-based) of the 510 FLORES pairs;
- ``dev.tsv``: the same pairs as ``src<TAB>tgt`` texts (for ``langgap mine --calibrate``).

Each side holds distinct lines in a seeded random order; no distractor equals a FLORES sentence.
No distractor translates a sentence on the other side, as far as exact (normalised) matches
tell: near-paraphrases between Tatoeba/STS-B English and the distractors remain possible and
would count against precision.

    python bench/make_bucc.py                     # runs/bucc/{deu,fra,rus,zho}-eng
    python bench/make_bucc.py --langs deu --distractors 2000 --out runs/bucc-small
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# X -> (Tatoeba file code, FLORES file stem, STS-B code)
LANGS = {
    "deu": ("deu", "deu_Latn", "de"),
    "fra": ("fra", "fra_Latn", "fr"),
    "rus": ("rus", "rus_Cyrl", "ru"),
    "zho": ("cmn", "zho_Hans", "zh"),
    "spa": ("spa", "spa_Latn", "es"),
    "ita": ("ita", "ita_Latn", "it"),
    "nld": ("nld", "nld_Latn", "nl"),
    "pol": ("pol", "pol_Latn", "pl"),
    "por": ("por", "por_Latn", "pt"),
}
OTHER_TATOEBA = ["swe", "dan", "fin", "hun", "ces", "ell", "tur", "ind"]  # English distractor files


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _rows(path: Path, columns: int) -> list[list[str]]:
    return [
        line.split("\t")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.count("\t") == columns - 1
    ]


def _english_side(
    data: Path, langs: list[str], used_english: set[str], n: int, rng: random.Random
) -> list[str]:
    """Tatoeba English of other languages' files (filtered) + MAFAND-MT English news."""
    excluded = {LANGS[x][0] for x in langs}
    pool = []
    for code in OTHER_TATOEBA:
        if code not in excluded and (data / "tatoeba" / f"{code}-eng.tsv").is_file():
            pool += [r[1] for r in _rows(data / "tatoeba" / f"{code}-eng.tsv", 2)]
    pool = sorted({t for t in pool if _norm(t) not in used_english})
    tatoeba = rng.sample(pool, min(1000, len(pool), n // 5))
    news = sorted(
        {r[0] for p in sorted((data / "lafand_mt" / "train").glob("en-*.tsv")) for r in _rows(p, 2)}
    )
    return tatoeba + rng.sample(news, n - len(tatoeba))


def _x_side(
    data: Path, x: str, stsb_rows: list[int], n: int, rng: random.Random
) -> tuple[list[str], set[str]]:
    """Tatoeba X + STS-B X of the given rows; and the normalised English those translate."""
    tat_code, _, stsb_code = LANGS[x]
    tat = _rows(data / "tatoeba" / f"{tat_code}-eng.tsv", 2)
    stsb_x = _rows(data / "stsb_multi_mt" / f"{stsb_code}-train.tsv", 3)
    stsb_en = _rows(data / "stsb_multi_mt" / "en-train.tsv", 3)
    texts = list(dict.fromkeys(r[0] for r in tat))[: n // 5]
    english = {_norm(r[1]) for r in tat}
    seen = set(texts)
    for i in stsb_rows:
        for col in (1, 2):
            if len(texts) < n and stsb_x[i][col] not in seen:
                texts.append(stsb_x[i][col])
                seen.add(stsb_x[i][col])
                english.add(_norm(stsb_en[i][col]))
    return texts, english


def build(data: Path, out: Path, langs: list[str], n: int, seed: int) -> None:
    stsb_n = len(_rows(data / "stsb_multi_mt" / "en-train.tsv", 3))
    rows = list(range(stsb_n))
    random.Random(seed).shuffle(rows)
    x_sides, used_english = {}, set()
    for x in langs:
        texts, english = _x_side(data, x, rows[: stsb_n // 2], n, random.Random(seed))
        x_sides[x] = texts
        used_english |= english
    english = _english_side(data, langs, used_english, n, random.Random(seed))
    flores_en = (data / "flores200_sib" / "dev" / "eng_Latn.txt").read_text(encoding="utf-8").splitlines()
    for x in langs:
        flores_x = (
            (data / "flores200_sib" / "dev" / f"{LANGS[x][1]}.txt").read_text(encoding="utf-8").splitlines()
        )
        _write(out / f"{x}-eng", flores_x, flores_en, x_sides[x], english, seed)
        print(
            f"{out / f'{x}-eng'}: {len(flores_x)} gold pairs, {len(x_sides[x])} + {len(english)} distractors"
        )


def _write(
    folder: Path,
    gold_src: list[str],
    gold_tgt: list[str],
    src_extra: list[str],
    tgt_extra: list[str],
    seed: int,
) -> None:
    rng = random.Random(seed)
    pairs = [(a, b) for a, b in zip(gold_src, gold_tgt, strict=True)]
    src = list(dict.fromkeys(gold_src + src_extra))  # distinct; a distractor equal to gold drops out
    tgt = list(dict.fromkeys(gold_tgt + tgt_extra))
    rng.shuffle(src)
    rng.shuffle(tgt)
    src_line = {t: i + 1 for i, t in enumerate(src)}
    tgt_line = {t: i + 1 for i, t in enumerate(tgt)}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "src.txt").write_text("".join(t + "\n" for t in src), encoding="utf-8")
    (folder / "tgt.txt").write_text("".join(t + "\n" for t in tgt), encoding="utf-8")
    (folder / "gold.tsv").write_text(
        "".join(f"{src_line[a]}\t{tgt_line[b]}\n" for a, b in pairs), encoding="utf-8"
    )
    (folder / "dev.tsv").write_text("".join(f"{a}\t{b}\n" for a, b in pairs), encoding="utf-8")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "bucc")
    p.add_argument("--langs", default="deu,fra,rus,zho", help=f"comma-separated, of {', '.join(LANGS)}")
    p.add_argument("--distractors", type=int, default=5000, help="distractors per side (5000)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    langs = [x.strip() for x in a.langs.split(",") if x.strip()]
    unknown = [x for x in langs if x not in LANGS]
    if unknown:
        p.error(f"unknown language(s) {unknown}; choose from {', '.join(LANGS)}")
    build(a.data, a.out, langs, a.distractors, a.seed)


if __name__ == "__main__":
    main()
