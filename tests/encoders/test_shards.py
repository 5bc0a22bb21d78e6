"""The shard folder format: a streaming scan of the input, atomic shards, a ShardSet reader."""

from __future__ import annotations

import numpy as np
import pytest

from langgap.encoders import shards as sh
from langgap.errors import InputError


def _folder(tmp_path, n=10, per=4, dim=3):
    text = tmp_path / "swh.txt"
    text.write_text("".join(f"sentence {i}\n" for i in range(n)), encoding="utf-8")
    sha, lines, table = sh.scan_input(text, per)
    out = tmp_path / "emb" / "swh"
    out.mkdir(parents=True)
    m = sh.Manifest(
        {"name": "toy", "prompt": "", "max_length": 8, "dimension": dim},
        {"path": str(text), "sha256": sha, "lines": lines},
        per,
        "float16",
        table,
    )
    sh.write_manifest(out, m)
    full = np.arange(n * dim, dtype=np.float32).reshape(n, dim)
    for s in table:
        a = int(s["first_line"])
        sh.write_shard(out, str(s["file"]), full[a : a + int(s["rows"])].astype(np.float16))
    return text, out, full


def test_scan_gives_offsets_that_read_back_each_shard(tmp_path):
    text, out, _ = _folder(tmp_path)
    _, lines, table = sh.scan_input(text, 4)
    assert (
        lines == 10
        and [s["rows"] for s in table] == [4, 4, 2]
        and [s["first_line"] for s in table] == [0, 4, 8]
    )
    assert sh.read_lines(text, int(table[1]["offset"]), 4) == [f"sentence {i}" for i in range(4, 8)]


def test_shardset_blocks_texts_and_array(tmp_path):
    text, out, full = _folder(tmp_path)
    s = sh.ShardSet(out)
    assert len(s) == 10 and s.dim == 3 and s.name == "swh"
    np.testing.assert_array_equal(s.array(), full)
    blocks = list(s.blocks(rows=3))
    assert [b[0] for b in blocks] == [0, 3, 4, 7, 8] and all(b.dtype == np.float32 for _, b in blocks)
    assert list(s.texts()) == [f"sentence {i}" for i in range(10)]
    s.check_input()
    text.write_text(text.read_text() + "one more\n")
    with pytest.raises(InputError, match="changed since"):
        s.check_input()


def test_incomplete_or_foreign_folders_refused(tmp_path):
    _, out, _ = _folder(tmp_path)
    (out / "shard-00001.npy").unlink()
    with pytest.raises(InputError, match="shard-00001.npy: missing or incomplete"):
        sh.ShardSet(out)
    with pytest.raises(InputError, match="no manifest.json"):
        sh.ShardSet(tmp_path)


@pytest.mark.parametrize(
    "content,message",
    [(b"", "file is empty"), (b"a\n\nb\n", ":2: empty line"), (b"a\n\xff\n", ":2: invalid UTF-8")],
)
def test_bad_input(tmp_path, content, message):
    f = tmp_path / "x.txt"
    f.write_bytes(content)
    with pytest.raises(InputError, match=message):
        sh.scan_input(f, 4)
