"""The de-duplicating, on-disk embedding cache."""

from __future__ import annotations

import numpy as np
import pytest

from langgap.encoders.cache import CachedEncoder


def test_each_distinct_text_encoded_once_and_order_kept(toy, tmp_path):
    enc = toy()
    cached = CachedEncoder(enc, cache_path=tmp_path / "c.sqlite", chunk_size=2)
    texts = ["eng:1", "deu:1", "eng:1", "fra:2", "deu:1"]
    out = cached.encode(texts)
    assert sum(enc.calls) == 3
    assert np.allclose(out, enc.encode(texts))
    assert cached.stats == {"requested": 5, "distinct": 3, "from_cache": 0, "encoded": 3}


def test_second_run_encodes_nothing(toy, tmp_path):
    path = tmp_path / "c.sqlite"
    first = CachedEncoder(toy(), cache_path=path).encode(["a:1", "b:2", "c:3"])
    enc = toy()
    again = CachedEncoder(enc, cache_path=path)
    out = again.encode(["c:3", "a:1"])
    assert enc.calls == [] and again.stats["from_cache"] == 2
    assert np.array_equal(out, first[[2, 0]])


def test_key_separates_models(toy, tmp_path):
    path = tmp_path / "c.sqlite"
    CachedEncoder(toy(gap=0.0), cache_path=path).encode(["a:1"])
    other = toy(gap=1.0)
    CachedEncoder(other, cache_path=path).encode(["a:1"])
    assert other.calls == [1]


def test_crash_keeps_finished_chunks(toy, tmp_path):
    class Flaky:
        def __init__(self, fail_on=None):
            self.inner, self.n, self.fail_on = toy(), 0, fail_on

        def encode(self, texts):
            self.n += 1
            if self.n == self.fail_on:
                raise RuntimeError("boom")
            return self.inner.encode(texts)

        def cache_key(self):
            return "flaky"

    path = tmp_path / "c.sqlite"
    with pytest.raises(RuntimeError):
        CachedEncoder(Flaky(fail_on=2), cache_path=path, chunk_size=2).encode([f"x:{i}" for i in range(5)])
    resumed = CachedEncoder(Flaky(), cache_path=path, chunk_size=2)
    resumed.encode([f"x:{i}" for i in range(5)])
    assert resumed.stats["from_cache"] == 2 and resumed.stats["encoded"] == 3


def test_progress_reports_texts(toy):
    seen = []
    CachedEncoder(toy(), chunk_size=2, progress=lambda d, t: seen.append((d, t))).encode(
        ["a:1", "a:2", "a:3"]
    )
    assert seen == [(0, 3), (2, 3), (3, 3)]


def test_encoder_without_key_is_not_cached_on_disk(tmp_path):
    class NoKey:
        def encode(self, texts):
            return np.ones((len(texts), 2))

    c = CachedEncoder(NoKey(), cache_path=tmp_path / "c.sqlite")
    assert c.store is None and c.encode(["a"]).shape == (1, 2)


def test_chunk_length_moves_progress_in_whole_batches():
    from langgap.encoders.cache import CHUNK_MAX, chunk_length

    assert chunk_length(100, batch=1) == 5  # 20 chunks
    assert chunk_length(101, batch=1) == 6  # rounded up: never 21 chunks
    assert chunk_length(100, batch=8) == 8 and chunk_length(170, batch=8) == 16  # whole batches
    assert chunk_length(1000) == 64 and chunk_length(3) == 32 == chunk_length(0)  # unknown batch: 32
    assert chunk_length(10**6) == CHUNK_MAX == 512 and chunk_length(10**6, batch=384) == 384
    assert chunk_length(10**6, batch=1000) == 1000 and chunk_length(10**6, batch=100) == 500


def test_a_small_input_reports_progress_chunk_by_chunk(toy):
    class Batched:
        batch_size = 4

        def __init__(self):
            self.inner, self.sizes = toy(), []

        def encode(self, texts):
            self.sizes.append(len(texts))
            return self.inner.encode(texts)

    seen, enc = [], Batched()
    CachedEncoder(enc, progress=lambda d, t: seen.append((d, t))).encode([f"a:{i}" for i in range(50)])
    assert enc.sizes == [4] * 12 + [2]  # ceil(50 / 20) = 3, rounded up to one batch of 4
    assert seen == [(0, 50), *((min(4 * i, 50), 50) for i in range(1, 14))]
