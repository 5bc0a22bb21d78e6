"""Hugging Face tokenizers: loading one by model id or path, with transformers' loading bars off.

Kept apart from :mod:`langgap.encoders.st` (the sentence-transformers adapter): reading a model's
tokenizer (``langgap tokens``, the vocabulary transplant) needs neither sentence-transformers nor
the model's weights.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langgap.encoders.resolve import resolve_model
from langgap.errors import InputError

# what a Hugging Face tokenizer is saved as (fast, sentencepiece, WordPiece/BPE vocabularies)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "*.model", "vocab.txt", "vocab.json")


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """transformers' weight-loading progress bar off while loading, as it was before after."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def load_tokenizer(name_or_path: str, what: str = "tokenizer") -> tuple[Any, int | None]:
    """The tokenizer of a model id or path (the fast one when it exists) and the model's input
    limit in tokens (a sentence-transformers folder's ``max_seq_length``, else the tokenizer's);
    ``what`` names it in the errors (``langgap tokens`` reads a model's: ``"model"``)."""
    from transformers import AutoTokenizer

    load_from, _ = resolve_model(name_or_path, what)
    folder = Path(load_from)
    if folder.is_dir() and not any(next(folder.glob(pattern), None) for pattern in TOKENIZER_FILES):
        raise InputError(
            f"cannot load a tokenizer from {name_or_path!r}: the folder holds no tokenizer files "
            f"({', '.join(TOKENIZER_FILES)})"
        )
    try:
        with quiet_loading():
            tok = AutoTokenizer.from_pretrained(load_from)
    except (OSError, ValueError, TypeError) as e:
        raise InputError(f"cannot load a tokenizer from {name_or_path!r}: {str(e).splitlines()[0]}") from None
    limit = getattr(tok, "model_max_length", None)
    st_config = Path(load_from) / "sentence_bert_config.json"
    if st_config.is_file():
        limit = json.loads(st_config.read_text(encoding="utf-8")).get("max_seq_length", limit)
    return tok, int(limit) if limit and limit < 10**6 else None
