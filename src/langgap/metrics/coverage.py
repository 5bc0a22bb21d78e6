"""Tokenizer coverage: can a model read a language at all?

A model cannot close a gap in a language its tokenizer turns into ``[UNK]``. For one language's
texts and any Hugging Face tokenizer (fast or slow; WordPiece, BPE, SentencePiece, byte-level):

- ``fertility``: tokens per word; for a script written without spaces (the language's
  whitespace-separated "words" average more than :data:`NO_SPACE_CHARS` characters: Chinese,
  Japanese, Thai, Khmer, ...) tokens per character instead (``fertility_unit`` says which);
- ``unk_rate``: share of tokens that are the unknown token;
- ``unk_char_rate``: share of (non-space) characters that end up inside an unknown token;
- ``byte_fallback_rate``: share of tokens that are SentencePiece byte-fallback pieces (``<0xE3>``);
- ``split_word_rate``: share of words split into two or more tokens;
- ``truncated_rate``: share of texts longer than ``max_length`` tokens (special tokens included);
- ``vocab_share``: distinct token ids used / vocabulary size;
- ``n_texts``.

Special tokens are left out of every count but truncation. A fast tokenizer's character offsets
assign tokens to words and characters; a slow one (no offsets) is run word by word, and the
characters of a word count as unknown in the share of its pieces that are unknown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

NO_SPACE_CHARS = 10  # mean characters per whitespace word above which a script counts as unspaced
CANNOT_READ_UNK_CHARS = 0.2  # a fifth of the characters unknown: the model cannot read the language
POOR_UNK_CHARS = 0.02
POOR_FERTILITY = 4.0  # tokens per word (or 1.5 per character) above which words are shredded
POOR_FERTILITY_CHAR = 1.5
_BYTE_PIECE = re.compile(r"^<0x[0-9A-Fa-f]{2}>$")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Coverage:
    """One language's tokenizer coverage (see the module docstring); rates are fractions."""

    fertility: float
    fertility_unit: str  # "word" or "character"
    unk_rate: float
    unk_char_rate: float
    byte_fallback_rate: float
    split_word_rate: float
    truncated_rate: float
    vocab_share: float
    n_texts: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def readability(c: Coverage) -> tuple[str, str]:
    """``(verdict, reason)``: ``cannot read`` / ``reads poorly`` / ``reads``, with the figure why."""
    if c.unk_char_rate >= CANNOT_READ_UNK_CHARS:
        return "cannot read", f"{100 * c.unk_char_rate:.0f}% of its characters become unknown tokens"
    reasons = []
    if c.unk_char_rate >= POOR_UNK_CHARS:
        reasons.append(f"{100 * c.unk_char_rate:.0f}% of its characters become unknown tokens")
    limit = POOR_FERTILITY if c.fertility_unit == "word" else POOR_FERTILITY_CHAR
    if c.fertility >= limit:
        reasons.append(f"{c.fertility:.1f} tokens per {c.fertility_unit}")
    if c.byte_fallback_rate >= 0.1:
        reasons.append(f"{100 * c.byte_fallback_rate:.0f}% of its tokens are raw bytes")
    return ("reads poorly", "; ".join(reasons)) if reasons else ("reads", "")


def _words(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _WORD.finditer(text)]


def _count_fast(tok: Any, texts: Sequence[str]) -> dict[str, Any]:
    """Counts from a fast tokenizer's offsets: tokens per word, unknown tokens and characters."""
    enc = tok(list(texts), add_special_tokens=False, return_offsets_mapping=True)
    unk_id, c = tok.unk_token_id, _counts()
    for text, ids, offsets in zip(texts, enc["input_ids"], enc["offset_mapping"], strict=True):
        words = _words(text)
        starts = np.array([s for s, _ in words])
        pieces = np.zeros(len(words), dtype=np.int64)
        unk_mask = np.zeros(len(text), dtype=bool)
        for tid, (s, e) in zip(ids, offsets, strict=True):
            first = s + len(text[s:e]) - len(text[s:e].lstrip())  # the token's first non-space char
            w = min(max(int(np.searchsorted(starts, first, side="right")) - 1, 0), len(words) - 1)
            pieces[w] += 1
            if tid == unk_id:
                unk_mask[s:e] = True
        _add(c, ids, tok, words, pieces, int(sum(unk_mask[s:e].sum() for s, e in words)))
    return c


def _count_slow(tok: Any, texts: Sequence[str]) -> dict[str, Any]:
    """Counts from a slow tokenizer, word by word (no offsets)."""
    c = _counts()
    for text in texts:
        words = _words(text)
        pieces = [tok.tokenize(text[s:e]) for s, e in words]
        ids = [i for p in pieces for i in tok.convert_tokens_to_ids(p)]
        unk_chars = sum(
            (e - s) * sum(p == tok.unk_token for p in ps) / max(len(ps), 1)
            for (s, e), ps in zip(words, pieces, strict=True)
        )
        _add(c, ids, tok, words, np.array([len(p) for p in pieces]), unk_chars)
    return c


def _counts() -> dict[str, Any]:
    keys = ("tokens", "unk", "bytes", "words", "split", "chars", "unk_chars")
    return {**dict.fromkeys(keys, 0), "ids": set()}


def _add(
    c: dict[str, Any],
    ids: Sequence[int],
    tok: Any,
    words: list,
    pieces: np.ndarray,
    unk_chars: float,
) -> None:
    c["tokens"] += len(ids)
    c["unk"] += sum(i == tok.unk_token_id for i in ids)
    c["bytes"] += sum(bool(_BYTE_PIECE.match(t or "")) for t in tok.convert_ids_to_tokens(list(ids)))
    c["words"] += len(words)
    c["split"] += int((pieces >= 2).sum())
    c["chars"] += sum(e - s for s, e in words)
    c["unk_chars"] += unk_chars
    c["ids"].update(ids)


def coverage(tokenizer: Any, texts: Sequence[str], max_length: int | None = None) -> Coverage:
    """The coverage of ``tokenizer`` on one language's ``texts`` (see the module docstring).

    Args:
        tokenizer: a Hugging Face tokenizer (``__call__``, ``unk_token_id``, ``convert_ids_to_tokens``).
        texts: the language's texts (non-empty).
        max_length: the model's input limit in tokens (default: the tokenizer's).
    """
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise ValueError("coverage needs at least one non-empty text")
    c = (_count_fast if getattr(tokenizer, "is_fast", False) else _count_slow)(tokenizer, texts)
    limit = max_length or int(getattr(tokenizer, "model_max_length", 10**9))
    lengths = [len(ids) for ids in tokenizer(list(texts), add_special_tokens=True)["input_ids"]]
    unspaced = c["chars"] / max(c["words"], 1) > NO_SPACE_CHARS
    return Coverage(
        fertility=c["tokens"] / max(c["chars"] if unspaced else c["words"], 1),
        fertility_unit="character" if unspaced else "word",
        unk_rate=c["unk"] / max(c["tokens"], 1),
        unk_char_rate=float(c["unk_chars"]) / max(c["chars"], 1),
        byte_fallback_rate=c["bytes"] / max(c["tokens"], 1),
        split_word_rate=c["split"] / max(c["words"], 1),
        truncated_rate=float(np.mean([n > limit for n in lengths])),
        vocab_share=len(c["ids"]) / max(len(tokenizer), 1),
        n_texts=len(texts),
    )
