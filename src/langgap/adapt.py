"""Zero-training baselines that close part of the language gap: centering and orthogonal maps.

Two post-hoc transforms of a frozen model's embeddings, each fitted on one part of the rows of
a corpus and evaluated on the rest:

- ``center``: subtract each language's mean embedding (Libovický et al. 2020). A constant
  per-language offset, the simplest form of language identity in an embedding, goes away.
- ``procrustes``: rotate each language into the pivot (English) space with an orthogonal
  matrix fitted on parallel pairs (Smith et al. 2017; Conneau et al. 2018). Cosines within a
  language do not change; only how the languages sit relative to each other does.

The fitting functions are pure numpy functions of embeddings; :func:`split_rows` and
each corpus's ``subset`` cut a corpus into the fit and evaluation rows; :func:`fit_corpus` fits one
:class:`Transform` per language of a corpus.

References:
    Libovický, Rosa, Fraser 2020, "On the Language Neutrality of Pre-trained Multilingual
    Representations" (Findings of EMNLP). Smith et al. 2017, "Offline bilingual word vectors,
    orthogonal transformations and the inverted softmax" (ICLR). Conneau et al. 2018, "Word
    Translation Without Parallel Data" (ICLR).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from langgap.data.corpora import Corpus
from langgap.errors import InputError, did_you_mean
from langgap.metrics.similarity import normalize
from langgap.types import FloatArray, LangEmbed

AdaptMethod = Literal["center", "procrustes"]
METHODS: tuple[str, ...] = get_args(AdaptMethod)
# "English" when no pivot is given: the first of these among a task's languages
PIVOTS = ("eng", "en", "eng_Latn")


@dataclass(frozen=True)
class AdaptConfig:
    """Which baseline ``measure`` reports beside the raw model.

    Attributes:
        method: ``center`` (subtract per-language means) or ``procrustes`` (orthogonal map
            of every language into the pivot's space).
        fit_fraction: share of each corpus's rows (sentence ids) used to fit; the rest is
            where raw and adapted are both evaluated. In (0, 1).
        pivot: the language others are mapped onto (procrustes); ``None``: the first of
            ``eng``, ``en``, ``eng_Latn`` in the task, else a bitext's target language or a
            multi-way corpus's first language.
    """

    method: AdaptMethod
    fit_fraction: float = 0.5  # half of the rows fit, half evaluate
    pivot: str | None = None  # None: auto (English)

    @classmethod
    def from_options(
        cls, method: str | None, fit_fraction: float | None = None, pivot: str | None = None
    ) -> AdaptConfig | None:
        """The config of ``--adapt``, ``--adapt-fit-fraction``, ``--adapt-pivot`` (``None``: no
        ``--adapt``); options that configure nothing are refused with the option's name."""
        if method is None:
            if fit_fraction is not None or pivot is not None:
                raise InputError("--adapt-fit-fraction and --adapt-pivot configure --adapt; give --adapt too")
            return None
        fraction = 0.5 if fit_fraction is None else fit_fraction
        if not 0.0 < fraction < 1.0:
            raise InputError(f"--adapt-fit-fraction must be in (0, 1), got {fraction:g}")
        if pivot is not None and method != "procrustes":
            raise InputError(f"--adapt-pivot is used by --adapt procrustes only, not --adapt {method}")
        return cls(method, fraction, pivot)  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"unknown adapt method {self.method!r}; expected one of {', '.join(METHODS)}")
        if not 0.0 < self.fit_fraction < 1.0:
            raise InputError(f"adapt fit fraction must be in (0, 1), got {self.fit_fraction}")


@dataclass(frozen=True)
class Transform:
    """``apply(x) = (x - shift) @ rotation``; ``None`` parts are skipped (identity)."""

    shift: np.ndarray | None = None  # (D,)
    rotation: np.ndarray | None = None  # (D, D), orthogonal


def fit_center(x_by_lang: dict[str, FloatArray]) -> dict[str, np.ndarray]:
    """Per-language mean embedding.

    Args:
        x_by_lang: ``{lang: (N_lang, D)}`` fit embeddings of each language.
    Returns:
        ``{lang: (D,)}`` the mean row, to subtract with :func:`apply_center`.
    """
    return {lang: np.asarray(x, dtype=np.float64).mean(axis=0) for lang, x in x_by_lang.items()}


def apply_center(x: FloatArray, mean: np.ndarray) -> np.ndarray:
    """``out[i] = x[i] - mean``; (N, D), (D,) -> (N, D)."""
    return np.asarray(x, dtype=np.float64) - mean[None, :]


def fit_procrustes(x: FloatArray, y: FloatArray) -> np.ndarray:
    """The orthogonal map of ``x`` onto ``y`` (orthogonal Procrustes).

    With ``X`` and ``Y`` the row-L2-normalised inputs, the solution of

        W* = argmin_{W : W^T W = I} ||X W - Y||_F

    is ``W* = U V^T`` where ``U S V^T = svd(X^T Y)`` (Schönemann 1966): ``||XW - Y||^2 =
    const - 2 tr(W^T X^T Y)``, maximised over orthogonal ``W`` by aligning the singular
    vectors. If ``Y = X R`` for an orthogonal ``R`` and ``X`` has rank D, ``W* = R`` exactly.

    Args:
        x: (N, D) source-language embeddings; y: (N, D) their translations in the pivot
            language (row ``i`` of ``y`` translates row ``i`` of ``x``).
    Returns:
        (D, D) orthogonal ``W``; apply as ``x @ W``.
    References:
        Smith et al. 2017 (ICLR); Conneau et al. 2018, "Word Translation Without Parallel
        Data" (ICLR), section 2.
    """
    if np.shape(x) != np.shape(y):
        raise ValueError(f"fit_procrustes needs equal shapes, got {np.shape(x)} and {np.shape(y)}")
    xn, yn = normalize(x, np.float64), normalize(y, np.float64)  # (N, D), (N, D)
    u, _, vt = np.linalg.svd(xn.T @ yn)  # (D, D), (D,), (D, D)
    return u @ vt  # (D, D)


def apply(x: FloatArray, transform: Transform) -> np.ndarray:
    """Apply a fitted :class:`Transform` to rows ``x`` (N, D) -> (N, D)."""
    out = np.asarray(x, dtype=np.float64)
    if transform.shift is not None:
        out = apply_center(out, transform.shift)
    if transform.rotation is not None:
        out = out @ transform.rotation  # (N, D)
    return out


def split_rows(n: int, fit_fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic split of row ids ``0..n-1`` into (fit, eval), each sorted.

    A seeded permutation; the first ``round(n * fit_fraction)`` ids (at least 1, at most
    ``n - 1``) fit, the rest evaluate. Disjoint, and together all rows.
    """
    if not 0.0 < fit_fraction < 1.0:
        raise InputError(f"adapt fit fraction must be in (0, 1), got {fit_fraction}")
    if n < 2:
        raise InputError(f"cannot split {n} row(s) into fit and evaluation rows")
    perm = np.random.default_rng(seed).permutation(n)
    n_fit = min(n - 1, max(1, int(round(n * fit_fraction))))
    return np.sort(perm[:n_fit]), np.sort(perm[n_fit:])


def choose_pivot(corpus: Corpus, requested: str | None = None) -> tuple[str, str]:
    """The language a corpus's other languages are mapped onto, and a note saying why.

    ``requested`` when the corpus has it; else the first of ``eng``, ``en``, ``eng_Latn``;
    else the corpus's own fallback (a bitext's target language, else its first language).
    """
    langs = list(corpus.by_language())
    if requested is not None and requested in langs:
        return requested, f"pivot {requested} (--adapt-pivot)"
    for lang in PIVOTS:
        if lang in langs:
            why = f"pivot {lang} (English)"
            return lang, why if requested is None else f"{why}; {requested!r} is not in this task"
    pivot, side = corpus.fallback_pivot()
    missing = "no English side" if requested is None else f"neither {requested!r} nor English"
    return pivot, f"pivot {pivot}: the task has {missing}, so {side}"


def check_pivot(adapt: AdaptConfig, corpora: Sequence[Corpus]) -> None:
    """A requested pivot must be a language of at least one task (a typo otherwise)."""
    if adapt.method != "procrustes" or adapt.pivot is None:
        return
    langs = {lang for c in corpora for lang in c.by_language()}
    if adapt.pivot not in langs:
        raise InputError(
            f"--adapt-pivot {adapt.pivot!r} is a language of no task"
            f"{did_you_mean(adapt.pivot, langs)}; languages: {', '.join(sorted(langs))}"
        )


def fit_corpus(
    corpus: Corpus, emb: LangEmbed, method: AdaptMethod, pivot: str | None = None
) -> dict[str, Transform]:
    """Fit one :class:`Transform` per language on (the fit rows of) ``corpus``.

    ``center``: each language's mean over all its texts in ``corpus``. ``procrustes``: for
    each language but ``pivot``, :func:`fit_procrustes` from its columns onto the pivot's
    parallel columns; the pivot maps by identity. Needs parallel rows (not STS).
    """
    cols = corpus.by_language()
    x = {lang: [emb(lang, c) for c in cs] for lang, cs in cols.items()}
    if method == "center":
        means = fit_center({lang: np.concatenate(xs) for lang, xs in x.items()})
        return {lang: Transform(shift=m) for lang, m in means.items()}
    if not corpus.kind.parallel:
        raise ValueError(f"procrustes needs parallel rows; a {corpus.kind} corpus has none")
    if pivot is None or pivot not in cols:
        raise ValueError(f"pivot {pivot!r} is not a language of this corpus ({', '.join(cols)})")
    out = {pivot: Transform()}
    for lang, xs in x.items():
        if lang != pivot:
            y = x[pivot]
            out[lang] = Transform(rotation=fit_procrustes(np.concatenate(xs), np.concatenate(y)))
    return out


def adapted_embed(emb: LangEmbed, transforms: dict[str, Transform]) -> LangEmbed:
    """``emb`` followed by each language's transform: the same text in two languages may differ."""

    def inner(lang: str, texts: list[str]) -> np.ndarray:
        return apply(emb(lang, texts), transforms[lang])

    return inner
