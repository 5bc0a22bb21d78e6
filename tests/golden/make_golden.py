"""Build the golden fixture: synthetic embeddings for real data files, and what langgap reported.

Run once (``python tests/golden/make_golden.py``) with the code whose numbers are to be kept; it
writes ``tests/golden/emb_a/*.npy`` (float16, 16 dimensions, row-aligned with the data files:
the built-in sample, Tatoeba deu-eng, STS17 en-de and 4 FLORES dev languages from
``../shared/data``) and ``tests/golden/expected.json`` (every metric, per-pair and per-language
value, summary, note and a digest of every per-item array of ``langgap measure --embeddings``,
raw and with ``--adapt procrustes``, and the numbers of ``langgap compare`` against a second set
of embeddings derived from the first). ``tests/test_golden.py`` checks the code against it.

The embeddings are synthetic (a meaning vector per row, a language offset, noise), so the
fixture holds no model output and no data text; the texts come from ``../shared/data`` at test
time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("LANGGAP_SHARED_DIR") or HERE.parents[2] / "shared") / "data"  # as in conftest
SAMPLE = HERE.parents[1] / "src" / "langgap" / "data" / "sample"
DIM = 16
FLORES_LANGS = ("eng_Latn", "deu_Latn", "jpn_Jpan", "swh_Latn")


def data_args(shared: Path = SHARED) -> list[str]:
    """The data options of every golden run."""
    return [
        "--sample",
        "--bitext",
        str(shared / "tatoeba" / "deu-eng.tsv"),
        "--sts",
        str(shared / "sts17" / "en-de.tsv"),
        "--multiway",
        str(shared / "flores200_sib" / "dev"),
        "--langs",
        ",".join(FLORES_LANGS),
    ]


def _rows(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def make_embeddings(out: Path) -> None:
    """Write one float16 ``.npy`` per data file (see the module docstring)."""
    rng = np.random.default_rng(20261130)
    out.mkdir(parents=True, exist_ok=True)
    langs = sorted({p.stem for p in SAMPLE.glob("*.tsv") if not p.stem.startswith("_")} | set(FLORES_LANGS))
    offset = {lang: rng.standard_normal(DIM) for lang in [*langs, "deu", "eng", "en", "de"]}

    def side(meaning: np.ndarray, lang: str, gap: float, noise: float) -> np.ndarray:
        return meaning + gap * offset[lang] + noise * rng.standard_normal(meaning.shape)

    n = _rows(SAMPLE / "eng.tsv")
    anchors, positives = rng.standard_normal((n, DIM)), None
    positives = anchors + 0.7 * rng.standard_normal((n, DIM))
    for lang in sorted(p.stem for p in SAMPLE.glob("*.tsv") if not p.stem.startswith("_")):
        pair = np.stack([side(anchors, lang, 0.5, 0.35), side(positives, lang, 0.5, 0.35)], axis=1)
        np.save(out / f"{lang}.npy", pair.astype(np.float16))
    n = _rows(SHARED / "tatoeba" / "deu-eng.tsv")
    m = rng.standard_normal((n, DIM))
    pair = np.stack([side(m, "deu", 0.6, 0.6), side(m, "eng", 0.6, 0.6)], axis=1)
    np.save(out / "deu-eng.npy", pair.astype(np.float16))
    lines = (SHARED / "sts17" / "en-de.tsv").read_text(encoding="utf-8").splitlines()
    gold = np.array([float(line.split("\t")[0]) for line in lines if line.strip()]) / 5.0
    m = rng.standard_normal((len(gold), DIM))
    other = gold[:, None] * m + (1 - gold[:, None]) * rng.standard_normal((len(gold), DIM))
    pair = np.stack([side(m, "en", 0.5, 0.4), side(other, "de", 0.5, 0.4)], axis=1)
    np.save(out / "en-de.npy", pair.astype(np.float16))
    n = _rows(SHARED / "flores200_sib" / "dev" / "eng_Latn.txt")
    m = rng.standard_normal((n, DIM))
    for i, lang in enumerate(FLORES_LANGS):
        np.save(out / f"{lang}.npy", side(m, lang, 0.3 + 0.2 * i, 0.5).astype(np.float16))


def derive_b(src: Path, out: Path) -> None:
    """Run B's embeddings: A's with every language offset halved in effect (rows pulled to their
    cross-language mean) plus a deterministic perturbation, so B differs from A everywhere."""
    out.mkdir(parents=True, exist_ok=True)
    arrays = {p.stem: np.load(p).astype(np.float32) for p in sorted(src.glob("*.npy"))}
    rng = np.random.default_rng(7)
    for stem, a in arrays.items():
        b = a + 0.25 * rng.standard_normal(a.shape).astype(np.float32)
        if a.ndim == 3:  # two columns: pull both toward their mean (a smaller gap)
            b = 0.7 * b + 0.3 * b.mean(axis=1, keepdims=True)
        np.save(out / f"{stem}.npy", b.astype(np.float16))


def digest(a: np.ndarray) -> str:
    """A short hash of an item array; float values rounded to 10 decimals first: reductions (numpy's
    SIMD sums) differ in the last bits between CPUs (AVX2 and AVX-512 builds gave other
    rank_spearman items), the reported values do not."""
    a = np.ascontiguousarray(a)
    header = f"{a.dtype}|{a.shape}|".encode()
    if a.dtype.kind == "f":
        a = np.round(a.astype(np.float64), 10) + 0.0  # + 0.0: -0.0 and 0.0 alike
    return hashlib.sha256(header + a.tobytes()).hexdigest()[:20]


def run_summary(run: Path) -> dict:
    """What must not change: every reported value of a run (not timings, dates, paths, versions)."""
    d = json.loads((run / "results.json").read_text(encoding="utf-8"))
    with np.load(run / "items.npz", allow_pickle=False) as z:
        items = {k: digest(z[k]) for k in sorted(z.files)}
    tasks = [
        {
            k: t[k]
            for k in (
                "name",
                "kind",
                "languages",
                "metrics",
                "main_score",
                "greater_is_better",
                "per_pair",
                "per_language",
                "notes",
            )
        }
        for t in d["tasks"]
    ]
    data = [{"name": Path(f["path"]).name, "sha256": f["sha256"], "rows": f["rows"]} for f in d["data"]]
    return {
        "summary": d["summary"],
        "tasks": tasks,
        "data": data,
        "config": {k: d["config"][k] for k in ("k", "seed", "adapt") if k in d["config"]},
        "items": items,
    }


def compare_summary(folder: Path) -> dict:
    d = json.loads((folder / "compare.json").read_text(encoding="utf-8"))
    return {"counts": d["counts"], "tasks": d["tasks"], "changes": d["changes"]}


def golden_runs(cli, emb_a: Path, emb_b: Path, tmp: Path) -> dict:
    """Run the CLI for every golden case; ``cli(args) -> (code, out, err)``."""
    out: dict = {}
    for name, emb, extra in (
        ("a", emb_a, []),
        ("b", emb_b, []),
        ("a_procrustes", emb_a, ["--adapt", "procrustes"]),
        ("a_center", emb_a, ["--adapt", "center", "--adapt-fit-fraction", "0.3", "--seed", "3"]),
    ):
        code, _, err = cli(
            ["measure", "--embeddings", str(emb), *data_args(), *extra, "-q", "--out", str(tmp / name)]
        )
        assert code == 0, err
        out[name] = run_summary(tmp / name)
    code, _, err = cli(
        [
            "compare",
            str(tmp / "a"),
            str(tmp / "b"),
            "--out",
            str(tmp / "cmp"),
            "-q",
            "--n-boot",
            "300",
            "--n-perm",
            "300",
        ]
    )
    assert code == 0, err
    out["compare"] = compare_summary(tmp / "cmp")
    return out


def main() -> None:
    import tempfile

    sys.path.insert(0, str(HERE.parent))
    from conftest import run_cli

    class _Capsys:
        def readouterr(self):
            return "", ""

    make_embeddings(HERE / "emb_a")
    with tempfile.TemporaryDirectory() as tmp:
        derive_b(HERE / "emb_a", Path(tmp) / "emb_b")
        result = golden_runs(lambda a: run_cli(a, _Capsys()), HERE / "emb_a", Path(tmp) / "emb_b", Path(tmp))
    (HERE / "expected.json").write_text(
        json.dumps(result, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8"
    )
    print(f"wrote {HERE / 'expected.json'}")


if __name__ == "__main__":
    main()
