"""Inference precision: detection of native bf16, what ``auto`` picks, the CPU bf16 path (cast
weights, float32 out), refusals, and the training-time evaluation's bf16 copy."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest
import torch

from langgap.encoders import precision as P
from langgap.encoders.precision import cpu_flags as real_cpu_flags  # before conftest patches it
from langgap.encoders.st import SentenceTransformerEncoder
from langgap.errors import InputError
from langgap.training.evaluate import StudentEncoder

TEXTS = [f"w{i} w{i + 3} w{(i * 7) % 200}" for i in range(40)]


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.mark.skipif(not Path("/proc/cpuinfo").is_file(), reason="reads Linux's /proc/cpuinfo")
def test_detection_agrees_with_proc_cpuinfo():
    """torch's cpuinfo probe against the kernel's own flag list, on whatever CPU runs this."""
    flags: set[str] = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            break
    found = real_cpu_flags()
    for name in ("avx512_bf16", "amx_bf16", "avx512_fp16", "amx_fp16", "avx2"):
        assert (name in found) == (name in flags), name


@pytest.mark.parametrize(
    ("flags", "bf16", "fp16"),
    [
        (set(), False, False),
        ({"avx2", "avx512f"}, False, False),
        ({"avx512_bf16"}, True, False),
        ({"amx_bf16"}, True, False),
        ({"amx_fp16"}, False, True),
        ({"avx512_fp16"}, False, True),
    ],
)
def test_native_cpu_reads_the_bf16_and_fp16_flags(monkeypatch, flags, bf16, fp16):
    monkeypatch.setattr(P, "cpu_flags", lambda: frozenset(flags))
    assert (P.native_cpu("bf16"), P.native_cpu("fp16")) == (bf16, fp16)


def test_auto_is_fp32_on_a_cpu_without_native_bf16():
    assert P.resolve_precision("auto", "cpu") == "fp32"
    assert P.resolve_precision("fp32", "cpu") == "fp32"


def test_auto_is_bf16_on_a_cpu_with_it(native_bf16):
    assert P.resolve_precision("auto", "cpu") == "bf16"
    assert P.resolve_precision("auto", torch.device("cpu")) == "bf16"
    assert P.resolve_precision("bf16", "cpu") == "bf16"


def test_auto_on_cuda_and_mps(monkeypatch, native_bf16):
    """GPU rules are unchanged (bf16 where supported, else fp16); MPS runs fp32 whatever the CPU."""
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert P.resolve_precision("auto", "cuda") == "fp16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert P.resolve_precision("auto", "cuda") == "bf16"
    assert P.resolve_precision("auto", "mps") == "fp32"
    with pytest.raises(InputError, match="--precision bf16: not supported on mps; use fp32"):
        P.resolve_precision("bf16", "mps")


@pytest.mark.parametrize(
    ("wanted", "message"),
    [
        ("bf16", r"--precision bf16: this CPU has no native bf16 \(AVX512-BF16 or AMX-BF16\), where it runs "
         r"far slower than fp32; use --precision fp32 or auto"),
        ("fp16", r"--precision fp16: this CPU has no native fp16 \(AVX512-FP16 or AMX-FP16\)"),
    ],
)  # fmt: skip
def test_low_precision_refused_on_a_cpu_without_it(wanted, message):
    with pytest.raises(InputError, match=message):
        P.resolve_precision(wanted, "cpu")


@pytest.mark.filterwarnings("ignore:CUDA is not available")
def test_autocast_only_on_a_gpu():
    assert isinstance(P.autocast("bf16", "cpu"), contextlib.nullcontext)
    assert isinstance(P.autocast("fp32", "cuda"), contextlib.nullcontext)
    ctx = P.autocast("fp16", "cuda")
    assert isinstance(ctx, torch.autocast) and ctx.fast_dtype == torch.float16
    assert P.autocast("bf16", "cuda").fast_dtype == torch.bfloat16


def test_cpu_bf16_casts_the_weights_and_returns_float32(tiny_model_dir, native_bf16):
    """On a CPU with native bf16, ``auto`` runs bf16 weights (not autocast): recorded in
    ``describe()`` and the cache key; float32 embeddings close to fp32's, yet really different."""
    auto = SentenceTransformerEncoder(str(tiny_model_dir), device="cpu")
    fp32 = SentenceTransformerEncoder(str(tiny_model_dir), device="cpu", precision="fp32")
    assert auto.precision == "bf16" and auto.describe()["precision"] == "bf16"
    assert {p.dtype for p in auto.model.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in fp32.model.parameters()} == {torch.float32}
    assert auto.cache_key().endswith("|precision=bf16") and "precision" not in fp32.cache_key()
    a, b = fp32.encode(TEXTS), auto.encode(TEXTS)
    assert b.dtype == np.float32 and b.shape == a.shape and not np.array_equal(a, b)
    assert _cos(a, b).min() > 0.995


def test_cpu_without_bf16_keeps_fp32_weights(tiny_model_dir):
    enc = SentenceTransformerEncoder(str(tiny_model_dir), device="cpu")
    assert enc.precision == "fp32" and {p.dtype for p in enc.model.parameters()} == {torch.float32}


def test_student_evaluates_on_a_bf16_copy_and_training_keeps_fp32(tiny_model_dir, native_bf16):
    st = SentenceTransformerEncoder(str(tiny_model_dir), device="cpu", precision="fp32").model
    st.train()
    student = StudentEncoder(st, "")
    assert student.precision == "bf16" and student.describe()["precision"] == "bf16"
    got = student.encode(TEXTS)
    again = student.encode(TEXTS[:5])  # the same copy: made once per evaluation
    assert {p.dtype for p in st.parameters()} == {torch.float32} and st.training
    assert got.dtype == np.float32 and np.array_equal(again, got[:5])
    exact = StudentEncoder(st, "", precision="fp32").encode(TEXTS)
    assert not np.array_equal(got, exact) and _cos(got, exact).min() > 0.995
    assert StudentEncoder(st, "", precision="fp32")._runs is None  # nothing copied before encoding


def test_cpu_bf16_refused_before_the_model_loads(tiny_model_dir, monkeypatch):
    monkeypatch.setattr("langgap.encoders.st.load_model", lambda *a, **k: pytest.fail("model loaded"))
    with pytest.raises(InputError, match="--precision bf16: this CPU has no native bf16"):
        SentenceTransformerEncoder(str(tiny_model_dir), device="cpu", precision="bf16")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(InputError, match="--precision bf16: this CPU has no native bf16"):
        SentenceTransformerEncoder(str(tiny_model_dir), precision="bf16")  # no --device: the CPU


@pytest.mark.parametrize("command", ["measure", "embed", "mine"])
def test_cli_bf16_on_a_cpu_without_it_is_one_line_and_exit_2(cli, tmp_path, tiny_model_dir, command):
    (tmp_path / "x.txt").write_text("a\nb\n", encoding="utf-8")
    (tmp_path / "y.txt").write_text("c\nd\n", encoding="utf-8")
    args = {"measure": ["measure", "--sample"], "embed": ["embed", tmp_path / "x.txt"],
            "mine": ["mine", tmp_path / "x.txt", tmp_path / "y.txt", "--src-lang", "deu", "--tgt-lang", "eng", "--k", "1"]}[command]  # fmt: skip
    code, out, err = cli([*args, "--model", tiny_model_dir, "--device", "cpu", "--precision", "bf16",
                          "--out", tmp_path / "run"])  # fmt: skip
    assert code == 2 and not (tmp_path / "run").exists()
    assert err.strip().splitlines()[-1].endswith("use --precision fp32 or auto"), err
    assert "Traceback" not in err
