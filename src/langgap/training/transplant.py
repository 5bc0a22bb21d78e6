"""Vocabulary transplant: give a model another tokenizer before training (``--tokenizer OTHER``).

An English tokenizer turns Amharic or Japanese into ``[UNK]``: no training teaches a model a
language it cannot read. The student therefore gets a new tokenizer, and its input-embedding
matrix a row per new token, initialised as in Fast Vocabulary Transfer (Gee et al. 2022):

1. special tokens are mapped by role (start/CLS/BOS, end/SEP/EOS, padding, unknown, mask) onto
   the old tokenizer's; a role the old tokenizer lacks is an error;
2. a token both vocabularies share (the same piece, written in each tokenizer's convention:
   ``▁the`` / ``the``, ``ing`` / ``##ing``) keeps its old row, so an unchanged tokenizer changes
   nothing;
3. every other token gets the mean of the old rows of its surface string's pieces under the old
   tokenizer (a word-start piece is tokenized as a word; a continuation piece, too, as FVT does);
4. a token whose surface has no old piece (the bare word boundary ``▁``) gets the mean of all
   old rows.

``init="mapped"`` (``--init mapped --init-from SOURCE``) replaces rules 3 and 4 with rows that
start aligned: SOURCE is a model that already reads the new tokenizer (a multilingual model with
that very tokenizer, e.g. multilingual-e5-small's own input embeddings), and a map fitted on the
pieces both vocabularies share (rule 2's pairs: SOURCE's row of the piece -> the model's row)
carries every other piece's SOURCE row into the model's input space (:func:`fit_map`: least
squares with a bias, or a scaled orthogonal map, Procrustes, for equal hidden sizes). A piece
SOURCE has no row for falls back to rule 3.

FVT is the simplest of the published initialisations; FOCUS (Dobler & de Melo 2023) and WECHSEL
(Minixhofer et al. 2022) weight neighbours in an auxiliary embedding space and do better on
low-resource languages, at the cost of an extra model.

``trim`` keeps only the tokens the training and evaluation texts use (plus every special token):
a 250k-row multilingual vocabulary would otherwise dwarf a small model (MiniLM: 30k rows). The
kept pieces tokenize those texts exactly as before (Unigram and WordPiece pick among the pieces
they have; the ones they picked are all kept); unseen texts may split finer.

References:
    Gee, Rigutini, Ernandes, Zugarini 2022, "Fast Vocabulary Transfer for Language Model
    Compression" (EMNLP industry). Dobler & de Melo 2023, "FOCUS" (EMNLP). Minixhofer, Paischer,
    Rekabsaz 2022, "WECHSEL" (NAACL).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from langgap.encoders.hf import load_tokenizer
from langgap.encoders.st import input_rows, set_vocabulary
from langgap.errors import InputError

ROLES = {  # role: the tokenizer attributes that may hold it, in preference order
    "start": ("cls_token", "bos_token"),
    "end": ("sep_token", "eos_token"),
    "padding": ("pad_token",),
    "unknown": ("unk_token",),
    "mask": ("mask_token",),
}


@dataclass(frozen=True)
class TransplantStats:
    """How the new rows were made."""

    vocab_size: int  # rows of the new matrix
    special: int  # mapped by role
    shared: int  # copied: the same piece in both vocabularies
    averaged: int  # mean of the old pieces of the surface string
    unseen: int  # no old piece: the mean of all old rows
    trimmed_from: int | None = None  # the new tokenizer's full size when trimmed
    mapped: int = 0  # --init mapped: the source model's row through the fitted map
    map_fit: float | None = None  # its R² on the shared pieces it was fitted on


MapKind = str  # "lstsq" | "orthogonal"


def fit_map(x: np.ndarray, y: np.ndarray, how: MapKind) -> tuple[np.ndarray, np.ndarray, float]:
    """``(W, b, R²)`` with ``x @ W + b ≈ y`` over rows ``x`` (n, Hs) -> ``y`` (n, Ho).

    ``lstsq``: ordinary least squares with a bias (any sizes; n should exceed Hs). ``orthogonal``:
    ``W = s · R`` with R orthogonal (Procrustes on the centred rows, Schönemann 1966) and s the
    best scale; needs Hs == Ho. R² = 1 - residual / total sum of squares of ``y``.
    """
    if how not in ("lstsq", "orthogonal"):
        raise InputError(f"--init-map {how!r}: expected lstsq or orthogonal")
    if how == "orthogonal" and x.shape[1] != y.shape[1]:
        raise InputError(
            f"--init-map orthogonal needs the source's hidden size to equal the model's ({x.shape[1]} vs "
            f"{y.shape[1]}); use --init-map lstsq"
        )
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    mx, my = x64.mean(axis=0), y64.mean(axis=0)
    xc, yc = x64 - mx, y64 - my
    if how == "lstsq":
        w = np.linalg.lstsq(xc, yc, rcond=None)[0]  # (Hs, Ho)
    else:
        u, sv, vt = np.linalg.svd(xc.T @ yc)
        w = (u @ vt) * (sv.sum() / max(float((xc**2).sum()), 1e-12))
    b = my - mx @ w
    resid = float(((xc @ w - yc) ** 2).sum())
    total = max(float((yc**2).sum()), 1e-12)
    return w.astype(np.float32), b.astype(np.float32), 1.0 - resid / total


def _style(tok: Any) -> str:
    """``wordpiece`` (``##`` continuations), ``metaspace`` (``▁`` word starts), ``bytelevel``
    (``Ġ``) or ``plain``, from the fast tokenizer's model and pre-tokenizer."""
    backend = json.loads(tok.backend_tokenizer.to_str())
    if backend["model"]["type"] == "WordPiece":
        return "wordpiece"
    text = json.dumps(backend.get("pre_tokenizer")) + json.dumps(backend.get("decoder"))
    return "metaspace" if "Metaspace" in text else "bytelevel" if "ByteLevel" in text else "plain"


def surface(piece: str, style: str, tok: Any) -> tuple[str, bool]:
    """``(text, starts a word)`` of a piece written in ``style``."""
    if style == "wordpiece":
        return (piece[2:], False) if piece.startswith("##") else (piece, True)
    if style == "metaspace":
        return (piece[1:], True) if piece.startswith("▁") else (piece, False)
    if style == "bytelevel":
        text = tok.convert_tokens_to_string([piece])
        return text.lstrip(" "), text.startswith(" ")
    return piece, True


def written(text: str, word_start: bool, style: str) -> str | None:
    """The piece ``text`` would be in ``style`` (``None``: byte-level, looked up by tokenizing)."""
    if style == "wordpiece":
        return text if word_start else "##" + text
    if style == "metaspace":
        return "▁" + text if word_start else text
    return None if style == "bytelevel" else text


def special_map(old: Any, new: Any) -> dict[int, int]:
    """``{new special token id: old special token id}`` by role; an unmappable role is an error."""
    out: dict[int, int] = {}
    for role, attrs in ROLES.items():
        new_tokens = sorted(str(t) for t in {getattr(new, a, None) for a in attrs} if t is not None)
        if not new_tokens:
            continue
        old_token = next((getattr(old, a) for a in attrs if getattr(old, a, None) is not None), None)
        if old_token is None:
            raise InputError(
                f"--tokenizer: its {role} token {new_tokens[0]!r} has no counterpart in the model's "
                f"tokenizer (no {' / '.join(a.removesuffix('_token') for a in attrs)} token); cannot map it"
            )
        for t in new_tokens:
            out[int(new.convert_tokens_to_ids(t))] = int(old.convert_tokens_to_ids(old_token))
    return out


def _shared(piece: str | None, new: Any, styles: tuple[str, str], old_vocab: dict[str, int]) -> int | None:
    """The old id of a new ``piece`` both vocabularies share (rule 2), else ``None``."""
    if piece is None:
        return None
    text, start = surface(piece, styles[1], new)
    same = written(text, start, styles[0])
    return old_vocab.get(same) if same is not None else None


def _fitted_map(
    old_rows: np.ndarray, source_rows: np.ndarray, old: Any, new: Any, how: MapKind
) -> tuple[np.ndarray, np.ndarray, float]:
    """The map from the source's rows to the model's, fitted on every shared piece of the full
    new vocabulary (special tokens left out)."""
    styles, old_vocab, specials = (_style(old), _style(new)), old.get_vocab(), set(new.all_special_ids)
    ids = [i for i in range(min(len(source_rows), max(new.get_vocab().values()) + 1)) if i not in specials]
    olds = [_shared(piece, new, styles, old_vocab) for piece in new.convert_ids_to_tokens(ids)]
    pairs = [(i, j) for i, j in zip(ids, olds, strict=True) if j is not None]
    if len(pairs) < 2:
        raise InputError(
            "--init mapped: the two vocabularies share fewer than 2 pieces; nothing to fit a map on"
        )
    src, dst = zip(*pairs, strict=True)
    return fit_map(source_rows[list(src)], old_rows[list(dst)], how)


def transplant_rows(
    old_rows: np.ndarray,
    old: Any,
    new: Any,
    ids: Iterable[int] | None = None,
    source_rows: np.ndarray | None = None,
    how: MapKind = "lstsq",
) -> tuple[np.ndarray, TransplantStats]:
    """The new input-embedding matrix: one row per id of ``new`` (or per id in ``ids``, in that
    order, for a trimmed vocabulary), made as the module docstring says.

    Args:
        old_rows: (V_old, H) the model's input embeddings under tokenizer ``old``.
        old, new: fast Hugging Face tokenizers.
        source_rows: (V_new, Hs) ``--init mapped``: a source model's input embeddings under ``new``.
        how: the map, ``lstsq`` or ``orthogonal`` (:func:`fit_map`).
    """
    specials = special_map(old, new)
    styles, old_vocab, mean_row = (_style(old), _style(new)), old.get_vocab(), old_rows.mean(axis=0)
    new_ids = list(range(max(new.get_vocab().values()) + 1)) if ids is None else [int(i) for i in ids]
    fitted = _fitted_map(old_rows, source_rows, old, new, how) if source_rows is not None else None
    out = np.empty((len(new_ids), old_rows.shape[1]), dtype=old_rows.dtype)
    counts = {"special": 0, "shared": 0, "averaged": 0, "unseen": 0, "mapped": 0}
    for row, (i, piece) in enumerate(zip(new_ids, new.convert_ids_to_tokens(new_ids), strict=True)):
        same = None if i in specials else _shared(piece, new, styles, old_vocab)
        if i in specials:
            out[row], kind = old_rows[specials[i]], "special"
        elif same is not None:
            out[row], kind = old_rows[same], "shared"
        elif fitted is not None and source_rows is not None and i < len(source_rows):
            out[row], kind = source_rows[i] @ fitted[0] + fitted[1], "mapped"
        elif piece is None:  # an id the vocabulary skips
            out[row], kind = mean_row, "unseen"
        else:
            text = surface(piece, styles[1], new)[0]
            found = old(text, add_special_tokens=False)["input_ids"] if text.strip() else []
            out[row], kind = (old_rows[found].mean(axis=0), "averaged") if found else (mean_row, "unseen")
        counts[kind] += 1
    fit = None if fitted is None else fitted[2]
    return out, TransplantStats(len(new_ids), **counts, map_fit=fit)


def used_ids(tok: Any, texts: Iterable[str]) -> list[int]:
    """The sorted ids ``tok`` gives ``texts``, with every special and added token's."""
    keep = {int(i) for i in tok.all_special_ids} | {int(i) for i in tok.get_added_vocab().values()}
    batch: list[str] = []
    for text in texts:
        batch.append(text)
        if len(batch) == 4096:
            keep.update(i for ids in tok(batch, add_special_tokens=False)["input_ids"] for i in ids)
            batch = []
    if batch:
        keep.update(i for ids in tok(batch, add_special_tokens=False)["input_ids"] for i in ids)
    return sorted(keep)


def trim_tokenizer(tok: Any, keep: list[int]) -> Any:
    """A copy of ``tok`` with only the pieces ``keep`` (sorted old ids), renumbered in that order.

    Unigram and WordPiece models; every special token must be kept (else an error names it).
    """
    backend = json.loads(tok.backend_tokenizer.to_str())
    model, remap = backend["model"], {old: new for new, old in enumerate(keep)}
    dropped = sorted(set(tok.all_special_ids) - set(remap))
    if dropped:
        raise InputError(f"--trim-vocab would drop the special token(s) {tok.convert_ids_to_tokens(dropped)}")
    if model["type"] == "Unigram":
        model["vocab"] = [model["vocab"][i] for i in keep]
        if model.get("unk_id") is not None:
            model["unk_id"] = remap[model["unk_id"]]
    elif model["type"] in ("WordPiece", "WordLevel"):
        by_id = {i: p for p, i in model["vocab"].items()}
        model["vocab"] = {by_id[i]: remap[i] for i in keep}
    else:
        raise InputError(
            f"--trim-vocab works on Unigram, WordPiece and WordLevel tokenizers, not {model['type']}"
        )
    for added in backend.get("added_tokens", []):
        added["id"] = remap[added["id"]]
    _remap_ids(backend.get("post_processor"), remap)
    if backend.get("padding"):
        backend["padding"]["pad_id"] = remap[backend["padding"]["pad_id"]]
    with tempfile.TemporaryDirectory() as tmp:
        tok.save_pretrained(tmp)
        with open(f"{tmp}/tokenizer.json", "w", encoding="utf-8") as f:
            json.dump(backend, f, ensure_ascii=False)
        return load_tokenizer(tmp)[0]


def _remap_ids(node: Any, remap: dict[int, int]) -> None:
    """Renumber the token ids a post-processor holds (TemplateProcessing ``ids``; BERT/RoBERTa
    processors' ``[token, id]`` pairs), recursively."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "ids" and isinstance(value, list):
                node[key] = [remap[int(i)] for i in value]
            elif key in ("sep", "cls") and isinstance(value, list) and len(value) == 2:
                node[key] = [value[0], remap[int(value[1])]]
            else:
                _remap_ids(value, remap)
    elif isinstance(node, list):
        for value in node:
            _remap_ids(value, remap)


def source_rows(source: Any, new: Any, tokenizer: str, name: str) -> np.ndarray:
    """``--init-from``: the source model's input embeddings, checked to be rows of ``new``'s pieces
    (the source's tokenizer must have the vocabulary of ``--tokenizer``)."""
    if source.tokenizer.get_vocab() != new.get_vocab():
        raise InputError(
            f"--init-from {name}: its tokenizer is not --tokenizer {tokenizer} (different vocabularies); "
            "the source must read the new tokenizer's pieces"
        )
    return input_rows(source)


def transplant(
    st: Any,
    tokenizer: str,
    trim_texts: Iterable[str] | None = None,
    *,
    source: Any = None,
    source_name: str = "",
    how: MapKind = "lstsq",
) -> TransplantStats:
    """Give the sentence-transformers model ``st`` the tokenizer of ``tokenizer`` (an id or path),
    its embedding rows made as the module docstring says; ``trim_texts``: keep only their tokens;
    ``source``: a loaded model whose input embeddings start the new rows aligned (``--init mapped``)."""
    new, _ = load_tokenizer(tokenizer)
    if not getattr(new, "is_fast", False):
        raise InputError(f"--tokenizer {tokenizer}: a fast (tokenizers-backed) tokenizer is needed")
    old = st.tokenizer
    full = len(new)
    rows_from = source_rows(source, new, tokenizer, source_name) if source is not None else None
    keep = used_ids(new, trim_texts) if trim_texts is not None else None
    rows, stats = transplant_rows(input_rows(st), old, new, keep, rows_from, how)
    if keep is not None:
        new = trim_tokenizer(new, keep)
        stats = TransplantStats(**{**stats.__dict__, "trimmed_from": full})
    set_vocabulary(st, new, rows)
    return stats
