# bench/results_tables.py as it was at b58b548: the reference the rewritten script must match.
"""Turn a `langgap measure` run into the markdown tables of docs/results.md.

Usage::

    python bench/results_tables.py runs/me5-all [--published docs/data/mteb_published_multilingual-e5-small.json]

Prints markdown: summary, Tatoeba per language (with the published mteb accuracy where known),
STS17 per file, FLORES per language and per pair.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def f(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("run", type=Path)
    p.add_argument(
        "--published", type=Path, default=Path("docs/data/mteb_published_multilingual-e5-small.json")
    )
    args = p.parse_args()
    d = json.loads((args.run / "results.json").read_text())
    pub = json.loads(args.published.read_text()) if args.published.is_file() else {}
    by_rev = pub.get("by_revision", {})
    tasks = d["tasks"]

    print("### Summary\n\n| metric | value |\n|---|---|")
    for k, v in d["summary"].items():
        print(f"| {k} | {f(v)} |")
    print(f"\ntiming (s): {d['timing_s']}; encoding: {d['encoding']}\n")

    bit = [t for t in tasks if t["kind"] == "bitext"]
    if bit:
        rev_new = next((k for k in by_rev if k.startswith("fd15")), None)
        rev_old = next((k for k in by_rev if k.startswith("e4ce")), None)
        new = (
            by_rev.get(rev_new, {}).get("tatoeba", pub.get("tatoeba", {}))
            if by_rev
            else pub.get("tatoeba", {})
        )
        old = by_rev.get(rev_old, {}).get("tatoeba", {}) if by_rev else {}
        rows = []
        for t in bit:
            m = t["metrics"]
            lang = t["languages"][0]
            key = "-".join(t["languages"])
            rows.append(
                (
                    m["accuracy_src2tgt"],
                    lang,
                    m,
                    new.get(key, {}).get("accuracy"),
                    old.get(key, {}).get("accuracy"),
                )
            )
        rows.sort(key=lambda r: r[0])
        ours = [r[0] for r in rows]
        have_new = [(r[0], r[3]) for r in rows if r[3] is not None]
        have_old = [(r[0], r[4]) for r in rows if r[4] is not None]
        print(
            f"Tatoeba: {len(rows)} files; mean accuracy xx→eng {np.mean(ours):.4f}, "
            f"eng→xx {np.mean([r[2]['accuracy_tgt2src'] for r in rows]):.4f}, "
            f"margin xx→eng {np.mean([r[2]['margin_accuracy_src2tgt'] for r in rows]):.4f}"
        )
        if have_new:
            a, b = zip(*have_new, strict=True)
            print(
                f"published mteb (no prefix, rev fd1525) on the same {len(b)} languages: {np.mean(b):.4f} (ours {np.mean(a):.4f})"
            )
        if have_old:
            a, b = zip(*have_old, strict=True)
            print(
                f"published mteb ('query: ', rev e4ce98) on the same {len(b)} languages: {np.mean(b):.4f} (ours {np.mean(a):.4f})"
            )
        print(
            "\n| language | acc xx→eng | acc eng→xx | margin xx→eng | pair cos | random cos | rank ρ | lang-ID | purity | mteb no prefix | mteb `query: ` |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for acc, lang, m, pn, po in rows:
            print(
                f"| {lang} | {f(acc)} | {f(m['accuracy_tgt2src'])} | {f(m['margin_accuracy_src2tgt'])} | {f(m['pair_cosine'])} | "
                f"{f(m['random_cosine'])} | {f(m['rank_spearman'])} | {f(m['language_id_accuracy'])} | {f(m['neighbour_purity'])} | {f(pn)} | {f(po)} |"
            )
        print()

    sts = [t for t in tasks if t["kind"] == "sts"]
    if sts:
        pub_sts = pub.get("sts17", {})
        print(
            "| STS17 file | kind | Spearman | mean cosine | published mteb (revision) |\n|---|---|---|---|---|"
        )
        for t in sorted(sts, key=lambda t: (t["metrics"]["cross_lingual"], t["name"])):
            key = "-".join(t["languages"])
            name = Path(t["files"][0]["path"]).stem
            pk = pub_sts.get(name) or pub_sts.get(key)
            ptxt = f"{pk['cosine_spearman']:.3f} ({pk.get('revision', '')[:6]})" if pk else "–"
            kind = "cross" if t["metrics"]["cross_lingual"] else "mono"
            print(
                f"| {name} | {kind} | {f(t['metrics']['spearman'])} | {f(t['metrics']['pair_cosine'])} | {ptxt} |"
            )
        print()

    for t in [t for t in tasks if t["kind"] == "multiway"]:
        pub_fl = pub.get("flores", {})
        print(
            f"FLORES {t['name']}: {len(t['languages'])} languages, metrics: "
            + ", ".join(f"{k} {f(v)}" for k, v in t["metrics"].items())
        )
        print(
            "\n| language | xSIM error (avg) | as source | as target | acc X→eng | acc eng→X | pair cos with eng | mteb devtest acc X→eng | mteb devtest acc eng→X |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        eng = next((lang for lang in t["languages"] if lang.startswith("eng")), None)
        for lang in sorted(t["languages"], key=lambda lang: -t["per_language"][lang]["xsim_error"]):
            pl = t["per_language"][lang]
            pair = t["per_pair"].get(f"{eng}-{lang}")
            x2e = e2x = cos = None
            if pair:
                e2x, x2e, cos = pair["accuracy_src2tgt"], pair["accuracy_tgt2src"], pair["pair_cosine"]
            pm_x2e = pub_fl.get(f"{lang}-{eng}", {}).get("accuracy")
            pm_e2x = pub_fl.get(f"{eng}-{lang}", {}).get("accuracy")
            print(
                f"| {lang} | {f(pl['xsim_error'])} | {f(pl['xsim_error_as_source'])} | {f(pl['xsim_error_as_target'])} | "
                f"{f(x2e)} | {f(e2x)} | {f(cos)} | {f(pm_x2e)} | {f(pm_e2x)} |"
            )
        print()


if __name__ == "__main__":
    main()
