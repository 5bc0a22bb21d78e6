"""bf16 on the CPU keeps the numbers: the offline multilingual-e5-small, fp32 against bf16 weights.

The embedding-level check runs on every CPU: where the CPU lacks native bf16 it is emulated
(about 4x slower than fp32 on this project's AVX2 machine, so a small sample). The metric-level
proof (every main metric of Tatoeba, STS17, FLORES and a BUCC-style mining set within 0.005 of
fp32) encodes about 10,000 texts twice; it runs where the CPU has native bf16, which is where
``--precision auto`` picks bf16, or anywhere with ``LANGGAP_EMULATED_BF16=1`` (about 15 minutes
on 2 AVX2 cores).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, real_models_dir
from langgap.encoders.precision import native_cpu

pytestmark = pytest.mark.real_model
NATIVE = native_cpu("bf16")  # the real CPU: read at import, before conftest's fixture patches it
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def me5() -> Path:
    path = real_models_dir() / "multilingual-e5-small"
    assert (path / "config.json").is_file(), f"{path} missing: run scripts/setup.sh"
    return path


def _rows(path: Path, n: int) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[:n]]


def test_bf16_embeddings_of_real_text_at_cosine_0999_to_fp32(me5, native_bf16):
    """96 texts in five languages and three scripts (Latin, Han, Arabic), both precisions."""
    from langgap.encoders.st import SentenceTransformerEncoder

    texts = [t for r in _rows(DATA / "tatoeba" / "deu-eng.tsv", 16) for t in r[:2]]
    texts += [t for r in _rows(DATA / "tatoeba" / "cmn-eng.tsv", 16) for t in r[:2]]
    texts += [t for r in _rows(DATA / "sts17" / "ar-ar.tsv", 16) for t in r[1:3]]
    fp32 = SentenceTransformerEncoder(str(me5), prompt="query: ", device="cpu", precision="fp32")
    bf16 = SentenceTransformerEncoder(str(me5), prompt="query: ", device="cpu")  # auto
    assert bf16.describe()["precision"] == "bf16"
    a, b = fp32.encode(texts), bf16.encode(texts)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert not np.array_equal(a, b) and cos.min() >= 0.999, cos.min()


PROOF = {  # task name prefix -> the metrics compared
    "bitext": ("accuracy_src2tgt", "accuracy_tgt2src", "margin_accuracy_src2tgt", "margin_accuracy_tgt2src",
               "pair_cosine", "random_cosine"),
    "sts": ("spearman",),
    "multiway": ("xsim_error",),
    "mining": ("mining_f1", "mining_f1_default"),
}  # fmt: skip


@pytest.mark.skipif(
    not NATIVE and os.environ.get("LANGGAP_EMULATED_BF16") != "1",
    reason="this CPU has no native bf16 (auto runs fp32 here); LANGGAP_EMULATED_BF16=1 runs it emulated",
)
def test_bf16_keeps_every_metric_within_0005_of_fp32(cli, me5, tmp_path, monkeypatch):
    from langgap.encoders import precision

    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    script = ROOT / "bench" / "make_bucc.py"
    cmd = [sys.executable, str(script), "--data", str(DATA), "--langs", "deu", "--distractors", "300"]
    subprocess.run([*cmd, "--out", str(tmp_path / "bucc")], check=True, capture_output=True)
    data = ["--bitext", DATA / "tatoeba" / "deu-eng.tsv", "--bitext", DATA / "tatoeba" / "cmn-eng.tsv",
            "--sts", DATA / "sts17" / "en-de.tsv", "--sts", DATA / "sts17" / "ar-ar.tsv",
            "--multiway", DATA / "flores200_sib" / "dev", "--langs", "eng_Latn,deu_Latn,zho_Hans,arb_Arab",
            "--mining", tmp_path / "bucc" / "deu-eng"]  # fmt: skip
    results = {}
    for name in ("fp32", "bf16"):
        code, _, err = cli(
            ["measure", "--model", me5, *data, "--precision", name, "--out", tmp_path / name, "-q"]
        )
        assert code == 0, err
        results[name] = json.loads((tmp_path / name / "results.json").read_text())
        assert results[name]["model"]["precision"] == name
    checked: dict[str, int] = {}
    for a, b in zip(results["fp32"]["tasks"], results["bf16"]["tasks"], strict=True):
        assert a["name"] == b["name"]
        for key in PROOF[a["kind"]]:
            if key in a["metrics"]:
                assert abs(a["metrics"][key] - b["metrics"][key]) <= 0.005, (a["name"], key)
                checked[a["kind"]] = checked.get(a["kind"], 0) + 1
    assert checked == {"bitext": 12, "sts": 2, "multiway": 1, "mining": 2}
