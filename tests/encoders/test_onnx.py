"""The ONNX Runtime backend: parity with the torch forward, what ``auto`` picks, the export cache,
refusals, and what is recorded."""

from __future__ import annotations

import numpy as np
import pytest

from langgap.encoders import onnx
from langgap.encoders.st import SentenceTransformerEncoder
from langgap.errors import InputError

TEXTS = [f"w{i} w{i + 3} w{(i * 7) % 200}" + " w5" * (i % 9) for i in range(70)]  # mixed lengths


@pytest.fixture(autouse=True)
def _private_graph_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LANGGAP_ONNX_CACHE", str(tmp_path / "onnx"))


def test_onnx_equals_torch_and_auto_picks_it_on_a_cpu(tiny_model_dir):
    """Same tokenisation, same chain (transformer, pooling, normalisation): the same embeddings to
    float32 rounding, in input order across token-sorted batches."""
    torch_ = SentenceTransformerEncoder(str(tiny_model_dir), device="cpu", backend="torch", batch_size=16)
    auto = SentenceTransformerEncoder(str(tiny_model_dir), device="cpu", batch_size=16)
    assert auto.backend == "onnx" and auto.describe()["backend"] == "onnx"
    assert torch_.describe()["backend"] == "torch"
    a, b = torch_.encode(TEXTS), auto.encode(TEXTS)
    assert b.dtype == np.float32 and b.shape == a.shape
    np.testing.assert_allclose(b, a, atol=2e-5)
    assert auto.cache_key() == torch_.cache_key() + "|backend=onnx"


def test_the_graph_is_exported_once_per_model(tiny_model_dir, monkeypatch, tmp_path):
    first = SentenceTransformerEncoder(str(tiny_model_dir), device="cpu", backend="onnx")
    first.encode(TEXTS[:3])
    (graph,) = (tmp_path / "onnx").glob("*.onnx")
    assert not list((tmp_path / "onnx").glob(".*tmp*"))  # written whole
    monkeypatch.setattr(onnx, "export", lambda *a: pytest.fail("exported again"))
    again = SentenceTransformerEncoder(str(tiny_model_dir), device="cpu", backend="onnx", prompt="query: ")
    again.encode(TEXTS[:3])  # another prompt, the same graph
    assert list((tmp_path / "onnx").glob("*.onnx")) == [graph]


def test_no_export_before_something_is_encoded(tiny_model_dir, monkeypatch):
    monkeypatch.setattr(onnx, "export", lambda *a: pytest.fail("exported"))
    enc = SentenceTransformerEncoder(str(tiny_model_dir), device="cpu", backend="onnx")
    assert enc.encode([]).shape == (0, enc.dimension)


def test_auto_is_torch_without_onnxruntime_or_off_fp32(tiny_model_dir, monkeypatch, native_bf16):
    assert onnx.resolve_backend("auto", "cpu", "bf16") == "torch"
    assert onnx.resolve_backend("auto", "cuda", "fp32") == "torch"
    assert onnx.resolve_backend("auto", "mps", "fp32") == "torch"
    assert onnx.resolve_backend("auto", "cpu", "fp32") == "onnx"
    monkeypatch.setattr(onnx, "available", lambda: False)
    assert onnx.resolve_backend("auto", "cpu", "fp32") == "torch"
    with pytest.raises(InputError, match=r"--backend onnx: onnxruntime and onnx are not installed"):
        onnx.resolve_backend("onnx", "cpu", "fp32")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("onnx", "cpu", "bf16"),
            r"--backend onnx runs fp32 on a CPU \(here: bf16 on cpu\); use --backend torch",
        ),
        (("onnx", "cuda", "fp32"), r"--backend onnx runs fp32 on a CPU \(here: fp32 on cuda\)"),
        (("tensorrt", "cpu", "fp32"), r"--backend 'tensorrt': expected one of auto, torch, onnx"),
    ],
)
def test_backend_refusals(args, message):
    with pytest.raises(InputError, match=message):
        onnx.resolve_backend(*args)


def test_a_pooling_without_the_prompt_runs_on_torch(tiny_model_dir):
    """Such a pooling needs each batch's prompt length, which the graph does not take: ``auto``
    keeps torch, an explicit ``onnx`` is refused."""
    enc = SentenceTransformerEncoder(str(tiny_model_dir), device="cpu", backend="torch")
    for module in enc.model:
        if hasattr(module, "include_prompt"):
            module.include_prompt = False
    assert onnx.fits(enc.model, "onnx", asked="auto", name="m") == "torch"
    assert onnx.fits(enc.model, "torch", asked="torch", name="m") == "torch"
    with pytest.raises(InputError, match="--backend onnx: 'm' cannot run as one ONNX graph: its pooling"):
        onnx.fits(enc.model, "onnx", asked="onnx", name="m")


def test_an_export_failure_names_the_way_out(tiny_model_dir, monkeypatch):
    import torch

    def fail(*a, **k):
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(torch.onnx, "export", fail)
    enc = SentenceTransformerEncoder(str(tiny_model_dir), device="cpu", backend="onnx")
    with pytest.raises(
        InputError,
        match=r"cannot export the model to ONNX \(RuntimeError: unsupported operator\); use --backend torch",
    ):
        enc.encode(TEXTS[:2])
    assert not list(onnx.cache_dir().glob("*"))


def test_signals_during_a_native_import_are_delivered_after_it():
    """Ctrl-C while ONNX Runtime imports: held back, then raised as KeyboardInterrupt (not the
    ImportError a native init would turn it into); the handlers are restored."""
    import os
    import signal

    from langgap.encoders.onnx import signals_held

    # Python's own Ctrl-C handler, as in a terminal (a process a shell starts in the background
    # without job control inherits SIGINT ignored, and Python keeps it so)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        done = []
        with pytest.raises(KeyboardInterrupt):
            with signals_held():
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)  # twice: delivered once
                done.append("the body ran to its end")
        assert done == ["the body ran to its end"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        with signals_held():  # nothing held: nothing raised
            done.append("quiet")
        assert done[-1] == "quiet"
    finally:
        signal.signal(signal.SIGINT, previous)
