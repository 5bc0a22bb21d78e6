"""Language signal left in embeddings: a linear language-ID probe and neighbour purity.

Both take embeddings of the *same* sentences in several languages, so a model with no
language gap leaves nothing but noise to tell languages apart: the probe scores near chance
(1 / number of languages) and neighbours are as mixed as the languages' shares.
"""

from __future__ import annotations

import numpy as np

from langgap.metrics.similarity import normalize, topk_cosine
from langgap.types import FloatArray


def split_items(n: int, test_fraction: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic split of item ids ``0..n-1`` into (train, test), sorted."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    n_test = max(1, int(round(n * test_fraction)))
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def language_id_probe(
    per_lang: list[FloatArray], *, test_fraction: float = 0.5, seed: int = 0, rows: np.ndarray | None = None
) -> np.ndarray:
    """Accuracy of a linear probe predicting the language of held-out sentences.

    Train and test are split by *sentence*: a test sentence is unseen in every language, so
    the probe cannot memorise content. Logistic regression on L2-normalised embeddings.

    Args:
        per_lang: L arrays (N, D), row ``i`` the same sentence in each language.
        rows: the sentences to split and use (a seeded sample for big N); ``None``: all.
    Returns:
        (n_test,) per test sentence, the share of its L language versions classified correctly;
        the probe accuracy is the mean. Chance is ``1 / L``.
    """
    from sklearn.linear_model import LogisticRegression

    if rows is not None:
        per_lang = [np.asarray(x)[rows] for x in per_lang]
    n_lang, n = len(per_lang), len(per_lang[0])
    if n_lang < 2 or n < 4:
        raise ValueError(f"language_id_probe needs >= 2 languages and >= 4 sentences, got {n_lang} x {n}")
    train, test = split_items(n, test_fraction, seed)
    x = np.stack([normalize(e) for e in per_lang])  # (L, N, D)
    labels = np.repeat(np.arange(n_lang), n).reshape(n_lang, n)  # (L, N)
    clf = LogisticRegression(max_iter=2000, C=1.0)
    clf.fit(x[:, train].reshape(-1, x.shape[-1]), labels[:, train].ravel())
    pred = clf.predict(x[:, test].reshape(-1, x.shape[-1])).reshape(n_lang, len(test))
    return (pred == labels[:, test]).mean(axis=0)


def neighbour_purity(per_lang: list[FloatArray], k: int = 10, rows: np.ndarray | None = None) -> np.ndarray:
    """Share of each embedding's ``k`` nearest neighbours (itself excluded) in its own language.

    Args:
        per_lang: L arrays (N, D) of the same N sentences in L languages.
        rows: sorted sentence ids whose L versions are the queries (a seeded sample for big N),
            searched against the whole pool; ``None``: every sentence.
    Returns:
        (N,) per sentence, the purity averaged over its L language versions (NaN for sentences
        that are no query). Chance (no language signal) is ``(N - 1) / (L * N - 1)``.
    """
    n_lang, n = len(per_lang), len(per_lang[0])
    x = np.concatenate([normalize(e) for e in per_lang])  # (L*N, D)
    labels = np.repeat(np.arange(n_lang), n)  # (L*N,)
    sel = np.arange(n) if rows is None else np.asarray(rows)
    queries = (sel[None, :] + n * np.arange(n_lang)[:, None]).ravel()  # (L*S,) language-major
    k = min(k, len(x) - 1)
    _, idx = topk_cosine(x[queries], x, k + 1)  # (L*S, k+1), includes each point itself
    own = queries[:, None]
    # drop the point itself (wherever it sits among ties); keep the first k others
    others = np.where(idx == own, -1, idx)
    keep = np.array([row[row >= 0][:k] for row in others])  # (L*S, k)
    purity = (labels[keep] == labels[queries][:, None]).mean(axis=1)  # (L*S,)
    out = np.full(n, np.nan)
    out[sel] = purity.reshape(n_lang, len(sel)).mean(axis=0)
    return out


def purity_chance(n_lang: int, n: int) -> float:
    """Expected neighbour purity when language carries no signal."""
    return (n - 1) / (n_lang * n - 1)
