"""Which languages can a model read? Tokenizer coverage per language of a run's data.

:func:`language_texts` gathers every language's texts from loaded corpora; :func:`coverage_report`
runs :func:`langgap.metrics.coverage.coverage` on each and returns the JSON-ready report that
``langgap tokens`` writes as ``tokens.json`` and ``langgap measure`` keeps in ``results.json``:
``{"model": ..., "max_length": ..., "languages": {LANG: {fertility, unk_rate, unk_char_rate,
byte_fallback_rate, split_word_rate, truncated_rate, vocab_share, n_texts, fertility_unit,
verdict, reason}}}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langgap.data.corpora import Corpus
from langgap.errors import InputError
from langgap.metrics.coverage import coverage, readability
from langgap.types import ProgressFn


def language_texts(corpora: Sequence[Corpus]) -> dict[str, list[str]]:
    """``{language: its distinct texts}`` over every column of every corpus (first-seen order)."""
    out: dict[str, dict[str, None]] = {}
    for corpus in corpora:
        for lang, columns in corpus.by_language().items():
            seen = out.setdefault(lang, {})
            for texts in columns:
                seen.update(dict.fromkeys(texts))
    return {lang: list(texts) for lang, texts in out.items()}


def coverage_report(
    tokenizer: Any,
    texts: dict[str, list[str]],
    *,
    model: str,
    max_length: int | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """The coverage of ``tokenizer`` on each language's ``texts`` (see the module docstring).

    Raises:
        InputError: ``max_length`` below 1 (``None``: no input limit).
    """
    if max_length is not None and max_length < 1:
        raise InputError(f"--max-length must be >= 1 (tokens per input), got {max_length}")
    languages: dict[str, Any] = {}
    for i, (lang, lines) in enumerate(texts.items()):
        cov = coverage(tokenizer, lines, max_length)
        verdict, reason = readability(cov)
        languages[lang] = {**cov.to_json(), "verdict": verdict, "reason": reason}
        if progress is not None:
            progress(i + 1, len(texts))
    return {"model": model, "max_length": max_length, "languages": languages}


def unreadable(report: dict[str, Any]) -> dict[str, list[str]]:
    """``{"cannot read": ["amh_Ethi (97% of ...)"], "reads poorly": [...]}`` of a coverage report."""
    out: dict[str, list[str]] = {"cannot read": [], "reads poorly": []}
    for lang, c in report.get("languages", {}).items():
        if c["verdict"] in out:
            out[c["verdict"]].append(f"{lang} ({c['reason']})")
    return out
