"""ONNX Runtime adapter: the one module that imports ``onnxruntime`` and exports with ``torch.onnx``.

A sentence-transformers model's whole chain (transformer, pooling, dense layers, normalisation)
is exported once to an ONNX graph of ``(input_ids, attention_mask[, token_type_ids]) ->
sentence_embedding`` and run by ONNX Runtime on the CPU. The graph is the same arithmetic as the
torch forward in fp32 (embeddings at cosine >= 0.99999 to it, tested); ONNX Runtime's kernels and
fused graph ran multilingual-e5-small's forward faster than torch eager on this project's 2-core
AVX2 CPU (``docs/benchmarks.md``, "Using the whole machine").

Exports are cached under ``$LANGGAP_ONNX_CACHE`` (default ``~/.cache/langgap/onnx``), one file per
model identity (:func:`graph_path`), written atomically, so the export (about 20 s for e5-small)
happens once per model and machine. The attention is exported in its plain ("eager") form, which
ONNX Runtime fuses; the torch model in use is not changed (a copy is exported).
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import os
import signal
import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np

from langgap import atomic
from langgap.errors import InputError

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


def available() -> bool:
    """Whether ``onnxruntime`` and ``onnx`` (which the exporter needs) are installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def cache_dir() -> Path:
    return Path(os.environ.get("LANGGAP_ONNX_CACHE", Path.home() / ".cache" / "langgap" / "onnx"))


def graph_path(identity: str) -> Path:
    """Where the graph of the model with this ``identity`` (its cache key) is kept."""
    return cache_dir() / f"{hashlib.sha256(identity.encode()).hexdigest()[:24]}.onnx"


Backend = Literal["auto", "torch", "onnx"]
BACKENDS = ("auto", "torch", "onnx")


def resolve_backend(backend: str, device: str, precision: str) -> str:
    """``torch`` or ``onnx`` for ``backend`` on ``device`` at the resolved ``precision``.

    ``auto`` is ``onnx`` for fp32 on a CPU where ONNX Runtime is installed (the faster path
    there), else ``torch``. An explicit ``onnx`` elsewhere is refused.
    """
    import torch

    if backend not in BACKENDS:
        raise InputError(f"--backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    cpu_fp32 = torch.device(device).type == "cpu" and precision == "fp32"
    if backend == "auto":
        return "onnx" if cpu_fp32 and available() else "torch"
    if backend == "onnx" and not cpu_fp32:
        raise InputError(
            f"--backend onnx runs fp32 on a CPU (here: {precision} on {device}); use --backend torch"
        )
    if backend == "onnx" and not available():
        raise InputError(
            "--backend onnx: onnxruntime and onnx are not installed (pip install onnxruntime onnx)"
        )
    return backend


def unsupported(st: Any) -> str | None:
    """Why ``st`` cannot run through the exported graph, or ``None``: a pooling that leaves the
    prompt's tokens out needs the prompt length per batch, which the graph does not take."""
    for module in st:
        if getattr(module, "include_prompt", True) is False:
            return "its pooling leaves the prompt's tokens out"
    return None


def fits(st: Any, backend: str, *, asked: str, name: str) -> str:
    """The backend ``st`` runs on: ``onnx`` unless it cannot (then ``torch`` where ``auto`` was
    asked for, a refusal where ``onnx`` was)."""
    why = unsupported(st) if backend == "onnx" else None
    if why is not None and asked == "onnx":
        raise InputError(f"--backend onnx: {name!r} cannot run as one ONNX graph: {why}")
    return "torch" if why is not None else backend


class _Chain:
    """``st``'s forward as a module of tensors (what the exporter traces)."""

    def __init__(self, st: Any, names: tuple[str, ...]) -> None:
        import torch

        class Wrapped(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.st = st

            def forward(self, *tensors: Any) -> Any:
                return self.st(dict(zip(names, tensors, strict=True)))["sentence_embedding"]

        self.module = Wrapped()


def export(st: Any, path: Path, names: tuple[str, ...]) -> None:
    """Write ``st``'s chain as an ONNX graph at ``path`` (atomically), inputs ``names``."""
    import torch

    twin = copy.deepcopy(st).float().cpu().eval()
    inner = twin[0].auto_model
    if hasattr(inner, "set_attn_implementation"):
        inner.set_attn_implementation("eager")  # the plain form ONNX Runtime fuses
    example = twin.tokenizer(["a b c", "d e"], padding=True, return_tensors="pt")
    tensors = tuple(example[n] for n in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"sentence_embedding": {0: "batch"}}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.clean_stale_files(path.parent)  # graphs in flight of processes that were killed
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on constant branches, for the developer
            torch.onnx.export(
                _Chain(twin, names).module,
                tensors,
                str(tmp),
                input_names=list(names),
                output_names=["sentence_embedding"],
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
        os.replace(tmp, path)  # whole or not at all: a reader never sees half a graph
    except Exception as e:
        raise InputError(
            f"cannot export the model to ONNX ({type(e).__name__}: {e}); use --backend torch"
        ) from None
    finally:
        tmp.unlink(missing_ok=True)  # an interrupted export leaves nothing


@contextmanager
def signals_held(signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """Hold ``signals`` back while the body runs, then deliver them to the handlers that were set.

    Importing a native extension (ONNX Runtime's ``initialization failed``, numpy's ``import numpy
    failed``) turns a KeyboardInterrupt raised inside it into an ImportError, so Ctrl-C at that
    moment would end the command with a traceback and exit 1 instead of 130. Off the main thread
    (where handlers cannot be set) the body just runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    old = {sig: signal.signal(sig, lambda number, frame: held.append(number)) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(held):
            signal.raise_signal(sig)


class OnnxSession:
    """An ONNX Runtime session over an exported graph, on the CPU with ``threads`` threads."""

    def __init__(self, path: Path, threads: int) -> None:
        with signals_held():  # Ctrl-C inside its native init would surface as "ImportError"
            import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.names = tuple(i.name for i in self.session.get_inputs())

    def run(self, features: Mapping[str, Any]) -> np.ndarray:
        """(B, D) float32 embeddings of tokenised ``features`` (torch tensors or arrays)."""
        feed = {
            n: np.asarray(features[n].cpu() if hasattr(features[n], "cpu") else features[n], dtype=np.int64)
            for n in self.names
        }
        return np.asarray(self.session.run(None, feed)[0], dtype=np.float32)


def open_session(st: Any, identity: str) -> OnnxSession:
    """The session of ``st``'s graph (exported now unless the cache holds it), with as many
    threads as torch uses."""
    import torch

    names = tuple(n for n in INPUTS if n in st.tokenizer(["a"], return_tensors="pt"))
    path = graph_path(f"{identity}|inputs={','.join(names)}|opset={OPSET}")
    if not path.is_file():
        export(st, path, names)
    return OnnxSession(path, torch.get_num_threads())
