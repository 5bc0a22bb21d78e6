"""Embed each distinct text once, and keep embeddings on disk across runs.

:class:`CachedEncoder` wraps any encoder. ``encode(texts)`` de-duplicates the texts, looks
them up in an SQLite file keyed by ``(encoder cache key, sha256(text))``, encodes only the
missing ones (longest first, in chunks, committing each chunk so a crash loses at most one
chunk), and reports progress. A second run with the same model and prompt encodes nothing.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from langgap.paths import cache_home
from langgap.types import Encoder, ProgressFn, describe_encoder


def default_cache_path() -> Path:
    """``$LANGGAP_CACHE`` or ``~/.cache/langgap/embeddings.sqlite``."""
    env = os.environ.get("LANGGAP_CACHE")
    return Path(env) if env else cache_home() / "embeddings.sqlite"


def _text_hash(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingStore:
    """SQLite table ``(key, text_sha256) -> float32 vector``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=60)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS emb (key TEXT, h BLOB, dim INTEGER, vec BLOB, PRIMARY KEY (key, h))"
        )

    def get(self, key: str, hashes: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(hashes), 500):
            chunk = list(hashes[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT h, vec FROM emb WHERE key = ? AND h IN ({marks})", [key, *chunk])
            for h, vec in rows:
                found[h] = np.frombuffer(vec, dtype=np.float32)
        return found

    def put(self, key: str, hashes: Sequence[bytes], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO emb VALUES (?, ?, ?, ?)",
                [(key, h, vectors.shape[1], v.tobytes()) for h, v in zip(hashes, vectors, strict=True)],
            )

    def close(self) -> None:
        self.db.close()


CHUNK_MAX = 512  # texts per committed chunk at most: a crash loses no more
PROGRESS_STEPS = 20  # chunks a small input is cut into, so that its progress moves
UNKNOWN_BATCH = 32  # the batch of an encoder that does not say (no call for a handful of texts)


def chunk_length(todo: int, batch: int | None = None) -> int:
    """Texts per encoder call for ``todo`` texts: about :data:`PROGRESS_STEPS` chunks of whole
    batches of the encoder's ``batch`` size (no half-full forward pass; :data:`UNKNOWN_BATCH` if it
    has none), at most :data:`CHUNK_MAX` (or one batch, where a batch is larger)."""
    batch = batch or UNKNOWN_BATCH
    step = -(-max(todo, 1) // PROGRESS_STEPS)
    return min(max(batch, CHUNK_MAX // batch * batch), -(-step // batch) * batch)


class CachedEncoder:
    """Wrap an encoder: de-duplicate texts, cache on disk, encode in chunks with progress.

    Args:
        encoder: any :class:`~langgap.types.Encoder`. It is cached on disk only if it has a
            ``cache_key()`` method returning a string.
        cache_path: SQLite file; ``None`` keeps the de-duplication but no disk cache.
        chunk_size: texts per call to the wrapped encoder (and per committed chunk); ``None``:
            :func:`chunk_length` (progress moves on small inputs too, at most 512).
        progress: ``progress(done, total)`` after each chunk, counted in texts to encode.
    """

    def __init__(
        self,
        encoder: Encoder,
        *,
        cache_path: str | Path | None = None,
        chunk_size: int | None = None,
        progress: ProgressFn | None = None,
    ) -> None:
        self.encoder = encoder
        key_fn = getattr(encoder, "cache_key", None)
        self.key: str | None = key_fn() if callable(key_fn) else None
        self.store = EmbeddingStore(cache_path) if cache_path is not None and self.key else None
        self.chunk_size = chunk_size
        self.progress = progress
        self.stats = {"requested": 0, "distinct": 0, "from_cache": 0, "encoded": 0}

    def describe(self) -> dict[str, Any]:
        return describe_encoder(self.encoder)

    @property
    def tokenizer(self) -> Any:
        """The wrapped encoder's tokenizer, if it has one (``None``: an endpoint, arrays)."""
        return getattr(self.encoder, "tokenizer", None)

    @property
    def max_length(self) -> int | None:
        return getattr(self.encoder, "max_length", None)

    def close(self) -> None:
        """Close the on-disk cache (if any); encoding afterwards uses no disk cache."""
        if self.store is not None:
            self.store.close()
            self.store = None

    def __enter__(self) -> CachedEncoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings for ``texts`` (N, D) in input order; each distinct text encoded at most once."""
        distinct = list(dict.fromkeys(texts))
        hashes = [_text_hash(t) for t in distinct]
        vectors: dict[bytes, np.ndarray] = self.store.get(self.key, hashes) if self.store and self.key else {}
        todo = [i for i, h in enumerate(hashes) if h not in vectors]
        self.stats["requested"] += len(texts)
        self.stats["distinct"] += len(distinct)
        self.stats["from_cache"] += len(distinct) - len(todo)
        # longest first: similar lengths batch together and the slowest chunk shows up early;
        # an encoder that can count tokens (sentence-transformers) sorts by tokens, not characters
        lengths_fn = getattr(self.encoder, "token_lengths", None)
        todo_texts = [distinct[i] for i in todo]
        lengths = lengths_fn(todo_texts) if callable(lengths_fn) and todo else [len(t) for t in todo_texts]
        todo = [i for _, i in sorted(zip(lengths, todo, strict=True), key=lambda p: -p[0])]
        if self.progress:
            self.progress(0, len(todo))
        size = self.chunk_size or chunk_length(len(todo), getattr(self.encoder, "batch_size", None))
        for start in range(0, len(todo), size):
            ids = todo[start : start + size]
            emb = np.asarray(self.encoder.encode([distinct[i] for i in ids]), dtype=np.float32)
            if emb.shape[0] != len(ids) or emb.ndim != 2:
                raise ValueError(f"encoder returned shape {emb.shape} for {len(ids)} texts")
            chunk_hashes = [hashes[i] for i in ids]
            if self.store and self.key:
                self.store.put(self.key, chunk_hashes, emb)
            vectors.update(zip(chunk_hashes, emb, strict=True))
            self.stats["encoded"] += len(ids)
            if self.progress:
                self.progress(min(start + size, len(todo)), len(todo))
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        by_text = {t: vectors[h] for t, h in zip(distinct, hashes, strict=True)}
        return np.stack([by_text[t] for t in texts])
