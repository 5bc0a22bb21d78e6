"""Strong alignment (Roy et al. 2020, LAReQA): retrieval from a pool that mixes every language.

Weak alignment asks whether a sentence's nearest neighbour *in the other language* is its
translation (bitext mining). Strong alignment pools the sentences of all L languages (L * N
items) and asks, for each query, whether its translations in every other language rank above
everything else, including same-language sentences that merely share its language. A model
with a language gap ranks unrelated same-language sentences first.

For query ``q`` (sentence ``i`` in language ``a``) the candidates are all other items of the
pool, ordered by decreasing cosine (ties: lower pool index first; the pool is language-major,
language ``l``'s rows at ``l * N .. l * N + N - 1``). Its relevant items are the ``R = L - 1``
translations of sentence ``i``. With ``rank_1 < ... < rank_R`` their 1-based positions:

- average precision ``AP(q) = (1 / R) * sum_k k / rank_k``; the metric is its mean (mAP);
- language preference ``LP(q) = 1`` when the first candidate is in language ``a`` (a
  same-language non-translation: the query itself is no candidate), else 0; the mean is the
  share of queries that prefer their own language (MLAIRE 2026's Language Preference Rate is a
  similar figure). With no language signal it is about ``(N - 1) / (L * N - 1)``.

Both return one value per sentence ``i`` (the mean over its L language versions), so that
``langgap compare`` resamples sentences, as for every other multi-way metric.

References:
    Roy, Constant, Al-Rfou, Barua, Phillips, Yang 2020, "LAReQA: Language-agnostic answer
    retrieval from a multilingual pool" (EMNLP).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from langgap.metrics.similarity import normalize
from langgap.types import FloatArray

_BLOCK = 512  # queries per block: bounds memory to _BLOCK * L * N similarities


def _pool(per_lang: list[FloatArray]) -> tuple[np.ndarray, int, int]:
    n_lang, n = len(per_lang), len(per_lang[0])
    if n_lang < 2 or n < 2 or any(len(x) != n for x in per_lang):
        raise ValueError(
            f"strong alignment needs >= 2 languages of equally many (>= 2) rows, got {n_lang} x {n}"
        )
    return np.concatenate([normalize(x) for x in per_lang]), n_lang, n  # (L*N, D)


def _blocks(
    per_lang: list[FloatArray], rows: np.ndarray | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]]:
    """Per block of queries ``(ids, sims, rel, lang, N)``: pool ids (B,); ``sims`` (B, L*N) with
    each query's own entry below every cosine; ``rel`` (B, L-1) the pool ids of its
    translations, ascending; ``lang`` (B,) each query's language index."""
    x, n_lang, n = _pool(per_lang)
    langs = np.arange(n_lang)
    sel = np.arange(n) if rows is None else np.asarray(rows)
    queries = (sel[None, :] + n * langs[:, None]).ravel()  # (L*S,) every version of each row
    for start in range(0, len(queries), _BLOCK):
        ids = queries[start : start + _BLOCK]  # (B,)
        sims = (x[ids] @ x.T).astype(np.float64)  # (B, L*N)
        sims[np.arange(len(ids)), ids] = -np.inf  # the query is no candidate of itself
        lang, row = ids // n, ids % n
        rel = row[:, None] + n * langs[None, :]  # (B, L): sentence i in every language
        rel = rel[rel != ids[:, None]].reshape(len(ids), n_lang - 1)  # (B, L-1) without the query
        yield ids, sims, rel, lang, n


def _ranks(sims: np.ndarray, rel: np.ndarray) -> np.ndarray:
    """1-based position of each relevant item in its row's order (decreasing cosine, ties by
    lower index): 1 + #candidates with a higher cosine + #equal ones at a lower index. (B, R)."""
    target = np.take_along_axis(sims, rel, axis=1)  # (B, R)
    asc = np.sort(sims, axis=1)  # (B, M)
    ranks = np.empty(rel.shape, dtype=np.int64)
    for r in range(len(sims)):  # a binary search per relevant item in the row's sorted cosines
        right = np.searchsorted(asc[r], target[r], side="right")  # (R,)
        left = np.searchsorted(asc[r], target[r], side="left")
        ranks[r] = sims.shape[1] - right + 1
        for j in np.flatnonzero(right - left > 1):  # equal cosines: the lower pool index comes first
            ranks[r, j] += int(np.count_nonzero(sims[r, : rel[r, j]] == target[r, j]))
    return ranks


def strong_alignment_ap(per_lang: list[FloatArray], rows: np.ndarray | None = None) -> np.ndarray:
    """Average precision of each query's translations in the pool of all languages.

    Args:
        per_lang: L arrays (N, D), row ``i`` the same sentence in every language (L, N >= 2).
        rows: the sentences whose versions are queries (a seeded sample for big N; the pool
            stays whole); ``None``: all.
    Returns:
        (N,) per sentence, the mean AP over its L language versions (NaN for no query); the mAP
        is the mean.
    """
    out = _nan_outside(len(per_lang[0]), rows)
    for ids, sims, rel, _, n in _blocks(per_lang, rows):
        ranks = np.sort(_ranks(sims, rel), axis=1)  # (B, R) ascending
        k = np.arange(1, ranks.shape[1] + 1)  # (R,)
        np.add.at(out, ids % n, (k[None, :] / ranks).mean(axis=1))  # AP of each query, summed per row
    return out / len(per_lang)


def language_preference(per_lang: list[FloatArray], rows: np.ndarray | None = None) -> np.ndarray:
    """Whether each query's first hit in the pool of all languages is in its own language.

    Args:
        per_lang: L arrays (N, D), row ``i`` the same sentence in every language (L, N >= 2).
        rows: as in :func:`strong_alignment_ap`.
    Returns:
        (N,) per sentence, the share of its L language versions whose nearest other item (by
        cosine, ties to the lower pool index) is a same-language sentence (NaN for no query).
    """
    out = _nan_outside(len(per_lang[0]), rows)
    for ids, sims, _, lang, n in _blocks(per_lang, rows):
        first = sims.argmax(axis=1)  # (B,) first maximum: ties go to the lower pool index
        np.add.at(out, ids % n, (first // n == lang).astype(np.float64))
    return out / len(per_lang)


def _nan_outside(n: int, rows: np.ndarray | None) -> np.ndarray:
    """Zeros for the query rows (sums are added there), NaN for the others."""
    out = np.zeros(n)
    if rows is not None:
        out[:] = np.nan
        out[np.asarray(rows)] = 0.0
    return out
