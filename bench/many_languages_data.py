"""The held-out protocol of the many-languages recipe (docs/experiments.md, experiment e).

From ../shared/data it writes under OUT:

- ``flores_train/<lang>.txt``: 408 of the 510 FLORES dev rows of every *trained* language
  (all FLORES languages but the held-out ones; eng_Latn is the pivot);
- ``flores_eval/<lang>.txt``: the other 102 rows, for eng_Latn, 10 trained and 10 held-out
  languages (never trained: none of their sentences is in flores_train);
- ``eval.args``: the ``langgap measure`` data options: those FLORES rows, the Tatoeba files of
  the same 10 trained and 10 held-out languages plus 8 Tatoeba languages FLORES does not have,
  and every STS17 file;
- ``langs.json``: which languages are which;
- ``val/`` and ``tune_space.toml`` (issue 23): the validation split of ``langgap tune``,
  disjoint in languages and rows from the evaluation above: 200 Tatoeba rows of 6 trained
  FLORES languages and 4 languages outside FLORES that the evaluation does not use (not cmn or
  kur either, which FLORES has as zho and kmr/ckb), and 300 rows
  of the *dev* splits of KorSTS and the STS-B translations into Polish, Russian and Japanese as
  same-language guards (the final table measures the *test* splits).

Rows and languages are chosen with a fixed seed (0), the same for every run and seed; the
validation split with its own seed (1), so adding it changed nothing above.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FLORES = DATA / "flores200_sib" / "dev"
PIVOT = "eng_Latn"
TATOEBA_NAME: dict[str, str] = {}  # FLORES and Tatoeba share ISO 639-3 codes (Chinese: zho vs cmn, left out)


def main(out: Path) -> None:
    rng = np.random.default_rng(0)
    flores = sorted(p.stem for p in FLORES.glob("*.txt") if not p.name.startswith("_"))
    tatoeba = {p.stem.split("-")[0] for p in (DATA / "tatoeba").glob("*-eng.tsv")}
    code = {lang: TATOEBA_NAME.get(lang, lang.split("_")[0]) for lang in flores}
    both = sorted(lang for lang in flores if lang != PIVOT and code[lang] in tatoeba and sum(
        code[x] == code[lang] for x in flores) == 1)  # fmt: skip
    picked = [both[i] for i in rng.permutation(len(both))]
    held, trained_eval = sorted(picked[:10]), sorted(picked[10:20])
    outside = sorted(tatoeba - {code[x] for x in flores})
    outside = sorted(outside[i] for i in rng.permutation(len(outside))[:8])
    rows = rng.permutation(510)
    eval_rows, train_rows = np.sort(rows[:102]), np.sort(rows[102:])
    for folder, langs, keep in (
        ("flores_train", [x for x in flores if x not in held], train_rows),
        ("flores_eval", [PIVOT, *trained_eval, *held], eval_rows),
    ):
        (out / folder).mkdir(parents=True, exist_ok=True)
        for lang in langs:
            lines = (FLORES / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
            (out / folder / f"{lang}.txt").write_text(
                "".join(lines[i] + "\n" for i in keep), encoding="utf-8"
            )
    tat = [code[x] for x in trained_eval + held] + outside
    args = [f"--bitext {DATA}/tatoeba/{t}-eng.tsv" for t in tat]
    args += [f"--sts {p}" for p in sorted((DATA / "sts17").glob("*.tsv"))]
    args += [f"--multiway {out}/flores_eval"]
    (out / "eval.args").write_text(" ".join(args) + "\n")
    (out / "langs.json").write_text(json.dumps({
        "trained_eval": trained_eval, "held_out": held, "tatoeba_outside_flores": outside,
        "tatoeba": {"trained": [code[x] for x in trained_eval], "held_out": [code[x] for x in held], "outside": outside},
        "flores_train_languages": len(flores) - len(held), "train_rows": len(train_rows), "eval_rows": len(eval_rows),
    }, indent=1) + "\n")  # fmt: skip
    validation(out, [x for x in both if x not in picked[:20]], sorted(
        tatoeba - {code[x] for x in flores} - set(outside) - {"cmn", "kur"}), code)  # fmt: skip


def validation(out: Path, trained: list[str], outside: list[str], code: dict[str, str]) -> None:
    """``val/`` and ``tune_space.toml``: see the module docstring."""
    rng = np.random.default_rng(1)
    bitext = sorted(code[trained[i]] for i in rng.permutation(len(trained))[:6])
    bitext += sorted(outside[i] for i in rng.permutation(len(outside))[:4])
    (out / "val").mkdir(parents=True, exist_ok=True)
    for lang in bitext:
        lines = (DATA / "tatoeba" / f"{lang}-eng.tsv").read_text(encoding="utf-8").splitlines()
        (out / "val" / f"{lang}-eng.tsv").write_text("".join(x + "\n" for x in lines[:200]), encoding="utf-8")
    guards = {"ko": DATA / "korsts" / "ko-dev.tsv"}
    guards |= {x: DATA / "stsb_multi_mt" / f"{x}-dev.tsv" for x in ("pl", "ru", "ja")}
    for lang, path in guards.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        (out / "val" / f"{lang}-{lang}-dev.tsv").write_text(
            "".join(x + "\n" for x in lines[:300]), encoding="utf-8"
        )
    val = (out / "val").resolve()
    eval_bitext = ", ".join(f'"{val}/{x}-eng.tsv"' for x in bitext)
    guard_sts = ", ".join(f'"{x},{x}={val}/{x}-{x}-dev.tsv"' for x in guards)
    (out / "tune_space.toml").write_text(
        'description = "experiment e\'s protocol, validation split (bench/many_languages_data.py)"\n\n'
        f'[train]\nmodel = "intfloat/multilingual-e5-small"\nmultiway = "{(out / "flores_train").resolve()}"\n'
        f'pivot = "eng_Latn"\neval_bitext = [{eval_bitext}]\nguard_sts = [{guard_sts}]\n'
        "eval_every = 50\nmax_steps = 150\n\n"
        "[space]\ntemperature = { low = 0.01, high = 0.1, log = true }\nlr = { low = 1e-5, high = 1e-4, log = true }\n"
        'labels = ["priority", "average"]\npreserve = [0.0, 10.0]\ninterpolate = { low = 0.5, high = 1.0 }\n'
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
