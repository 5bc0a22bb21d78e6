# bench/experiment_d_tables.py as it was at b58b548: the reference the rewritten script must match.
"""The tables of experiment d (docs/experiments.md) from ``runs/exp-d``.

    python bench/experiment_d_tables.py [runs/exp-d]

Reads the three measure runs (``base``, ``mse/measure``, ``mse-transplant/measure``), the
comparisons ``cmp-*`` (paired bootstrap intervals) and the three ``tokens-*`` coverage files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RUNS = {"MiniLM (start)": "base", "MSE": "mse/measure", "MSE + transplant": "mse-transplant/measure"}
TRAINED = ["deu", "fra", "rus", "cmn"]
UNTRAINED = ["ukr", "ell", "hin"]
FLORES_OUT = ["spa_Latn", "ukr_Cyrl", "jpn_Jpan", "arb_Arab", "hin_Deva", "amh_Ethi"]
FLORES_IN = ["deu_Latn", "fra_Latn", "rus_Cyrl", "zho_Hans"]
STS = ["en-en", "en-de", "fr-en", "es-en", "ar-ar", "es-es"]
COMPARES = {
    "MSE": "cmp-mse",
    "MSE + transplant": "cmp-mse-transplant",
    "transplant vs MSE": "cmp-transplant-vs-mse",
}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _tasks(run: dict) -> dict[str, dict]:
    return {t["name"]: t for t in run["tasks"]}


def _flores_x2eng(task: dict, lang: str) -> float:
    """FLORES dev X→English retrieval accuracy (the per-pair key is ``eng_Latn-X``)."""
    return task["per_pair"][f"eng_Latn-{lang}"]["accuracy_tgt2src"]


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/exp-d")
    runs = {name: _load(root / sub / "results.json") for name, sub in RUNS.items()}
    tasks = {name: _tasks(r) for name, r in runs.items()}

    print(
        "Coverage (`langgap tokens` on FLORES dev; fertility = tokens per word, per character for zho/jpn):\n"
    )
    tok = {
        "MiniLM": _load(root / "tokens-minilm" / "tokens.json")["languages"],
        "transplanted": _load(root / "tokens-transplant" / "tokens.json")["languages"],
    }
    langs = list(tok["MiniLM"])
    print("| tokenizer | " + " | ".join(langs) + " |")
    print("|---|" + "---:|" * len(langs))
    for name, cov in tok.items():
        cells = [f"{cov[lang]['fertility']:.2f} / {100 * cov[lang]['unk_rate']:.0f}%" for lang in langs]
        print(f"| {name} (fertility / UNK) | " + " | ".join(cells) + " |")

    print("\nTatoeba X→English accuracy (trained: deu fra rus cmn; never trained: ukr ell hin):\n")
    cols = TRAINED + UNTRAINED
    print(
        "| run | "
        + " | ".join(cols)
        + " | FLORES X→eng trained | FLORES X→eng not trained | STS17 "
        + " | STS17 ".join(STS)
        + " |"
    )
    print("|---|" + "---:|" * (len(cols) + 2 + len(STS)))
    for name, t in tasks.items():
        tat = [t[f"bitext:{c}-eng"]["metrics"]["accuracy_src2tgt"] for c in cols]
        fl = t["multiway:dev"]
        f_in = sum(_flores_x2eng(fl, lang) for lang in FLORES_IN) / len(FLORES_IN)
        f_out = sum(_flores_x2eng(fl, lang) for lang in FLORES_OUT) / len(FLORES_OUT)
        sts = [t[f"sts:{s}"]["metrics"]["spearman"] for s in STS]
        print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in [*tat, f_in, f_out, *sts]) + " |")

    print("\nFLORES dev X→English accuracy per language not in the training pairs:\n")
    print("| run | " + " | ".join(FLORES_OUT) + " |")
    print("|---|" + "---:|" * len(FLORES_OUT))
    for name, t in tasks.items():
        print(
            f"| {name} | "
            + " | ".join(f"{_flores_x2eng(t['multiway:dev'], lang):.3f}" for lang in FLORES_OUT)
            + " |"
        )

    print("\nDifferences (paired bootstrap 95% interval; ▲/▼ = significant better/worse):\n")
    keys = [(f"bitext:{c}-eng", "accuracy_src2tgt", f"Tatoeba {c}→eng") for c in cols]
    keys += [("multiway:dev", "xsim_error", "FLORES xSIM error"), ("sts:en-en", "spearman", "STS17 en-en")]
    keys += [("sts:en-de", "spearman", "STS17 en-de"), ("sts:ar-ar", "spearman", "STS17 ar-ar")]
    print("| comparison | " + " | ".join(k[2] for k in keys) + " |")
    print("|---|" + "---:|" * len(keys))
    for name, sub in COMPARES.items():
        changes = {(c["task"], c["metric"]): c for c in _load(root / sub / "compare.json")["changes"]}
        cells = []
        for task, metric, _ in keys:
            c = changes.get((task, metric))
            if c is None:
                cells.append("–")
                continue
            mark = {"better": " ▲", "worse": " ▼"}.get(c["verdict"], "")
            cells.append(f"{c['delta']:+.3f} [{c['ci_low']:+.3f}, {c['ci_high']:+.3f}]{mark}")
        print(f"| {name} | " + " | ".join(cells) + " |")

    print("\nVocabulary and wall times:\n")
    for sub in ("mse", "mse-transplant"):
        print(f"- {sub}: {_load(root / sub / 'model' / 'config.json')['vocab_size']:,} vocabulary rows")
    times = (root / "times.tsv").read_text().split()
    print("- times.tsv: " + ", ".join(f"{a} {b} s" for a, b in zip(times[::2], times[1::2], strict=True)))


if __name__ == "__main__":
    main()
