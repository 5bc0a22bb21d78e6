"""``embed_file``: a text file into shards that equal a direct encode, streamed, resumable, and
refusing to continue a folder with other settings or on a changed input."""

from __future__ import annotations

import hashlib
import json
import tracemalloc

import numpy as np
import pytest

from conftest import ToyEncoder
from faults.helpers import FailingWrite, snapshot
from langgap import atomic
from langgap import embed as em
from langgap.encoders import shards as sh
from langgap.encoders.st import SentenceTransformerEncoder
from langgap.errors import InputError


class One:
    """A single process, without Accelerate (the launcher tests use the real ``processes()``)."""

    index, count, main = 0, 1, True

    def wait(self) -> None:
        pass

    def share(self, obj):
        return obj


def lines_file(tmp_path, n=23, name="in.txt"):
    path = tmp_path / name
    path.write_text(
        "".join(f"w{i % 200} w{(i * 7) % 200} w{(i * 3) % 50}\n" for i in range(n)), encoding="utf-8"
    )
    return path


def run(enc, path, out, **kw):
    return em.embed_file(enc, path, out, procs=One(), **{"rows_per_shard": 5, **kw})


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    return SentenceTransformerEncoder(str(tiny_model_dir), prompt="query: ", max_length=16, batch_size=4)


def test_manifest_records_model_input_and_shards(tmp_path, tiny):
    path = lines_file(tmp_path)
    res = run(tiny, path, tmp_path / "out")
    m = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert m["format"] == "langgap.embed/1" and m["rows_per_shard"] == 5 and m["dtype"] == "float16"
    assert {k: m["model"][k] for k in ("prompt", "max_length", "precision", "dimension")} == {
        "prompt": "query: ",
        "max_length": 16,
        "precision": "fp32",
        "dimension": 32,
    }
    assert m["model"]["name"] == tiny.name and m["model"]["cache_key"] == tiny.cache_key()
    assert "device" not in m["model"]  # per process
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert m["input"] == {"path": str(path.resolve()), "sha256": sha, "lines": 23}
    assert [(s["file"], s["first_line"], s["rows"]) for s in m["shards"]] == [
        (f"shard-0000{i}.npy", 5 * i, 5 if i < 4 else 3) for i in range(5)
    ]
    assert (res.shards, res.complete, res.written, res.skipped, res.rows) == (5, 5, 5, 0, 23)


def test_shards_equal_a_direct_encode_and_float16_is_float32_rounded(tmp_path, tiny):
    """Row alignment across shard boundaries and chunks, the last short shard, both dtypes."""
    path = lines_file(tmp_path)
    texts = path.read_text().splitlines()
    run(tiny, path, tmp_path / "f32", dtype="float32", chunk_rows=3)
    run(tiny, path, tmp_path / "f16", chunk_rows=3)
    f32, f16 = sh.ShardSet(tmp_path / "f32"), sh.ShardSet(tmp_path / "f16")
    np.testing.assert_allclose(f32.array(), tiny.encode(texts), atol=1e-5)
    assert list(f32.texts()) == texts and len(f32) == 23 and f32.dim == 32
    raw16 = np.concatenate([np.load(tmp_path / "f16" / s["file"]) for s in f16.manifest.shards])
    raw32 = np.concatenate([np.load(tmp_path / "f32" / s["file"]) for s in f32.manifest.shards])
    assert raw16.dtype == np.float16 and raw32.dtype == np.float32
    np.testing.assert_array_equal(raw16, raw32.astype(np.float16))
    assert (tmp_path / "f16" / "shard-00000.npy").stat().st_size < (
        tmp_path / "f32" / "shard-00000.npy"
    ).stat().st_size


def test_rerun_skips_finished_shards(tmp_path):
    path, out = lines_file(tmp_path), tmp_path / "out"
    first = ToyEncoder()
    run(first, path, out)
    assert first.calls == [5, 5, 5, 5, 3]  # one encode per shard (chunks larger than a shard)
    again = ToyEncoder()
    res = run(again, path, out)
    assert again.calls == [] and (res.written, res.skipped, res.rows, res.complete) == (0, 5, 0, 5)
    (out / "shard-00003.npy").unlink()
    before = snapshot(out)
    third = ToyEncoder()
    res = run(third, path, out)
    assert third.calls == [5] and (res.written, res.skipped) == (1, 4)
    after = snapshot(out)
    assert {k: v for k, v in after.items() if k != "shard-00003.npy"} == before


class Dies(ToyEncoder):
    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    def encode(self, texts):
        if len(self.calls) == self.after:
            raise RuntimeError("killed")
        return super().encode(texts)

    def describe(self):
        return {"name": "ToyEncoder"}  # the same model as ToyEncoder's, so the rerun continues


def test_a_kill_loses_only_the_shard_in_flight(tmp_path):
    path = lines_file(tmp_path)
    run(ToyEncoder(), path, tmp_path / "whole")
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="killed"):
        run(Dies(after=3), path, out)  # shards 0-2 written, shard 3 in flight
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        *[f"shard-0000{i}.npy" for i in range(3)],
    ]
    resumed = ToyEncoder()
    res = run(resumed, path, out)
    assert resumed.calls == [5, 3] and res.skipped == 3
    assert snapshot(out) == snapshot(tmp_path / "whole")


def test_a_write_that_fails_leaves_no_partial_shard_and_stale_temp_files_go(tmp_path, monkeypatch):
    path, out = lines_file(tmp_path), tmp_path / "out"
    fail = FailingWrite(atomic.write_bytes, at=3, exc=KeyboardInterrupt())  # manifest, shard 0, shard 1
    monkeypatch.setattr(atomic, "write_bytes", fail)
    with pytest.raises(KeyboardInterrupt):
        run(ToyEncoder(), path, out)
    monkeypatch.undo()
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "shard-00000.npy"]
    assert em.complete_shards(out) == (1, 5)
    stale = out / ".shard-00001.npy.tmp-4194999-abcd"  # a killed process's (no such pid)
    stale.write_bytes(b"half a shard")
    run(ToyEncoder(), path, out)
    assert not stale.exists() and em.complete_shards(out) == (5, 5)


@pytest.mark.parametrize(
    "change,message",
    [
        ({"rows_per_shard": 4}, r"was embedded with --rows-per-shard 5, this run asks for 4"),
        ({"dtype": "float32"}, r"was embedded with --dtype float16, this run asks for float32"),
        ({"prompt": "passage: "}, r"other model settings: prompt 'query: ' \(this run: 'passage: '\)"),
        ({"max_length": 8}, r"other model settings: max length 16 \(this run: 8\)"),
        ({"precision": "bf16"}, r"other model settings: precision 'fp32' \(this run: 'bf16'\)"),
    ],
)
def test_other_settings_are_refused_and_nothing_changes(
    tmp_path, tiny_model_dir, change, message, native_bf16
):
    """(On a CPU reporting native bf16, so that ``precision='bf16'`` runs.)"""
    path, out = lines_file(tmp_path, n=12), tmp_path / "out"
    opts = {"prompt": "query: ", "max_length": 16, "precision": "fp32"}
    run(SentenceTransformerEncoder(str(tiny_model_dir), **opts), path, out)
    (out / "shard-00001.npy").unlink()  # an unfinished folder: the case a rerun would continue
    before = snapshot(out)
    run_kw = {k: change[k] for k in ("rows_per_shard", "dtype") if k in change}
    enc = SentenceTransformerEncoder(
        str(tiny_model_dir), **{**opts, **{k: v for k, v in change.items() if k in opts}}
    )
    with pytest.raises(InputError, match=message):
        run(enc, path, out, **run_kw)
    assert snapshot(out) == before


def test_a_changed_or_other_input_is_refused(tmp_path):
    path, out = lines_file(tmp_path), tmp_path / "out"
    run(ToyEncoder(), path, out)
    before = snapshot(out)
    path.write_text(path.read_text() + "w1 w2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"in\.txt: changed since .*out was embedded from it \(sha256 "):
        run(ToyEncoder(), path, out)
    other = lines_file(tmp_path, n=7, name="other.txt")
    with pytest.raises(InputError, match=r"out holds the embeddings of another file \(.*in\.txt\)"):
        em.plan_input(other, out, rows_per_shard=5, procs=One())
    assert snapshot(out) == before


class Zeros:
    """A free encoder: the test measures the pipeline's memory, not a model's."""

    def encode(self, texts):
        return np.zeros((len(texts), 8), np.float32)


def test_streaming_reads_one_shard_at_a_time(tmp_path, monkeypatch):
    """Memory holds one shard's texts, never the file: ``read_lines`` is asked for each shard's
    rows at its byte offset, and the peak of Python allocations stays far below the file's size."""
    path = tmp_path / "big.txt"
    with open(path, "w", encoding="utf-8") as f:
        for i in range(40_000):
            f.write(f"sentence {i:06d} " + "x" * 80 + "\n")
    size = path.stat().st_size  # 4 MB
    seen = []
    real = em.read_lines
    monkeypatch.setattr(
        em, "read_lines", lambda p, off, n, first: seen.append((off, n)) or real(p, off, n, first)
    )
    tracemalloc.start()
    try:
        res = em.embed_file(Zeros(), path, tmp_path / "out", rows_per_shard=1000, procs=One())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    table = sh.read_manifest(tmp_path / "out").shards
    assert seen == [(s["offset"], s["rows"]) for s in table] and res.complete == 40
    assert peak < size / 5, (peak, size)  # about 4 shards of text; the file is 40
