"""Helpers of the mining tests: embed folders written directly, planted parallel data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from langgap.encoders import shards as sh
from langgap.metrics.similarity import normalize

MODEL = {"name": "toy", "prompt": "query: ", "max_length": 16, "cache_key": "toy|16", "dimension": 16}


def embed_folder(
    folder: Path, texts: list[str], vectors: np.ndarray, model: dict | None = None, per: int = 7
) -> Path:
    """A finished ``langgap embed`` folder: ``folder.txt`` holds the texts beside ``folder``."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    text = folder.with_suffix(".txt")
    text.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
    sha, lines, table = sh.scan_input(text, per)
    folder.mkdir()
    info = dict(model or MODEL, dimension=int(vectors.shape[1]))
    sh.write_manifest(
        folder, sh.Manifest(info, {"path": str(text), "sha256": sha, "lines": lines}, per, "float16", table)
    )
    for s in table:
        a = int(s["first_line"])
        sh.write_shard(folder, str(s["file"]), vectors[a : a + int(s["rows"])].astype(np.float16))
    return folder


def planted(n_gold=30, n_src=60, n_tgt=70, dim=16, noise=0.15, seed=0):
    """Texts and vectors of two sides: ``n_gold`` translation pairs (``src:i``/``tgt:i``, close
    vectors) among unrelated texts; returns ``(src_texts, src_vecs, tgt_texts, tgt_vecs, gold)``
    with gold as ``(src line, tgt line)``, 0-based."""
    rng = np.random.default_rng(seed)
    meaning = rng.standard_normal((n_gold, dim))
    src = np.concatenate([meaning, rng.standard_normal((n_src - n_gold, dim))])
    tgt = np.concatenate([meaning, rng.standard_normal((n_tgt - n_gold, dim))])
    src = src + noise * rng.standard_normal(src.shape)
    tgt = tgt + noise * rng.standard_normal(tgt.shape)
    ps, pt = rng.permutation(n_src), rng.permutation(n_tgt)  # gold rows spread over both files
    src_texts = [f"src:{i}" for i in range(n_src)]
    tgt_texts = [f"tgt:{i}" for i in range(n_tgt)]
    src_out = [""] * n_src
    tgt_out = [""] * n_tgt
    src_vec = np.empty_like(src)
    tgt_vec = np.empty_like(tgt)
    for i, p in enumerate(ps):
        src_out[p], src_vec[p] = src_texts[i], src[i]
    for i, p in enumerate(pt):
        tgt_out[p], tgt_vec[p] = tgt_texts[i], tgt[i]
    gold = {(int(ps[i]), int(pt[i])) for i in range(n_gold)}
    return src_out, src_vec.astype(np.float32), tgt_out, tgt_vec.astype(np.float32), gold


def clustered(n: int, d: int = 32, clusters: int = 200, seed: int = 0, spread: float = 0.4) -> np.ndarray:
    """``n`` unit vectors around ``clusters`` random centres: crowded neighbourhoods, as in text."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((clusters, d))
    return normalize(centers[rng.integers(0, clusters, n)] + spread * rng.standard_normal((n, d)))


def blocks(x: np.ndarray, size: int):  # noqa: ANN201
    """A fresh pass over ``x`` in row blocks of ``size`` (:data:`langgap.knn.Blocks`)."""
    return lambda: (x[i : i + size] for i in range(0, len(x), size))


def share_found(got: np.ndarray, exact: np.ndarray) -> float:
    """The share of true neighbours found, one query at a time."""
    return float(
        np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(got.tolist(), exact.tolist(), strict=True)])
    )
