"""Shared fixtures: isolation of caches and the Hub, tiny models built in code, synthetic data."""

from __future__ import annotations

import hashlib
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest

# the shared data next to the checkout (../shared); LANGGAP_SHARED_DIR overrides it for copies of the
# tree one level deeper (bench/mutation.sh runs the tests in mutmut's mutants/)
SHARED = Path(os.environ.get("LANGGAP_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
DATA = SHARED / "data"


def real_models_dir() -> Path:
    """Where scripts/setup.sh put the offline model copies."""
    env = os.environ.get("LANGGAP_REAL_MODELS_DIR") or os.environ.get("LANGGAP_MODELS_DIR")
    return Path(env) if env else Path.home() / ".cache" / "langgap" / "models"


def pytest_collection_modifyitems(config, items):
    """Under mutmut (bench/mutation.sh) the golden runs go last. mutmut orders a mutant's tests by
    their measured call time, which leaves out the golden fixture's ~25 s set-up: first, they would
    cost every metric mutant 25 s that a unit test kills in one."""
    if os.environ.get("MUTANT_UNDER_TEST"):
        items.sort(key=lambda item: item.nodeid.startswith("tests/test_golden.py"))  # stable


@pytest.fixture(autouse=True)
def _mutmut_stats_stay_in_this_process(monkeypatch):
    """mutmut's first pass (MUTANT_UNDER_TEST=stats) records which tests reach which function in
    this process; a ``langgap`` process a test starts would inherit the variable and fail to import
    (it has no recorder). Keep "stats" in-process only: the children run the original code."""
    if os.environ.get("MUTANT_UNDER_TEST") != "stats":
        return
    from mutmut.mutation import trampoline

    monkeypatch.setattr(trampoline, "_mutant_under_test", "stats")
    monkeypatch.delenv("MUTANT_UNDER_TEST")


@pytest.fixture(scope="session")
def _onnx_graphs(tmp_path_factory) -> Path:
    """One ONNX graph cache for the session: each model is exported once, not once per test."""
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(autouse=True)
def _isolate(tmp_path_factory, monkeypatch, _onnx_graphs):
    """Every test: a private embedding cache, no Hub access, no stray offline-model lookup, ONNX
    graphs outside the home folder."""
    monkeypatch.setenv("LANGGAP_ONNX_CACHE", str(_onnx_graphs))
    if "LANGGAP_REAL_MODELS_DIR" not in os.environ:
        monkeypatch.setenv("LANGGAP_REAL_MODELS_DIR", str(real_models_dir()))
    monkeypatch.setenv("LANGGAP_CACHE", str(tmp_path_factory.mktemp("cache") / "emb.sqlite"))
    monkeypatch.setenv("LANGGAP_MODELS_DIR", str(tmp_path_factory.mktemp("models")))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _cpu_without_native_bf16(monkeypatch):
    """Every test sees a CPU without native bf16/fp16, whatever CPU runs the suite, so
    ``--precision auto`` means fp32 and results do not depend on which machine CI gets. Tests of
    the bf16 path ask for :func:`native_bf16`; ``tests/encoders/test_precision.py`` checks the real
    detection against ``/proc/cpuinfo``."""
    from langgap.encoders import precision

    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset())


@pytest.fixture
def native_bf16(monkeypatch):
    """A CPU that reports AVX512-BF16 (the bf16 path runs for real, emulated where the CPU lacks it)."""
    from langgap.encoders import precision

    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512_bf16"}))


class ToyEncoder:
    """Deterministic numpy encoder: a text's vector is a hash-seeded direction.

    Texts of the form ``"<lang>:<id>"`` share a meaning vector per ``id`` plus a language
    offset of size ``gap`` per ``lang``: ``gap=0`` is a model with no language gap.
    """

    def __init__(self, dim: int = 32, gap: float = 0.0, noise: float = 0.3) -> None:
        self.dim, self.gap, self.noise = dim, gap, noise
        self.calls: list[int] = []

    def _vec(self, key: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "little")
        return np.random.default_rng(seed).standard_normal(self.dim)

    def encode(self, texts):
        self.calls.append(len(texts))
        out = []
        for t in texts:
            lang, _, ident = t.partition(":")
            v = self._vec("m" + ident) + self.gap * self._vec("L" + lang) + self.noise * self._vec("n" + t)
            out.append(v)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)

    def cache_key(self) -> str:
        return f"toy|{self.dim}|{self.gap}|{self.noise}"


@pytest.fixture
def toy():
    return ToyEncoder


def write_multiway(folder: Path, langs: list[str], n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for lang in langs:
        (folder / f"{lang}.txt").write_text("".join(f"{lang}:{i}\n" for i in range(n)), encoding="utf-8")
    return folder


def write_bitext(path: Path, src: str, tgt: str, n: int) -> Path:
    path.write_text("".join(f"{src}:{i}\t{tgt}:{i}\n" for i in range(n)), encoding="utf-8")
    return path


def write_mining(folder: Path, src: str, tgt: str, gold: int, distractors: int, seed: int = 0) -> Path:
    """A BUCC-style folder for :class:`ToyEncoder`: ``gold`` translations ``<src>:<i>`` /
    ``<tgt>:<i>`` hidden among ``distractors`` sentences per side that translate nothing
    (``<src>:s<j>``, ``<tgt>:t<j>``), each side in a seeded random order."""
    rng = np.random.default_rng(seed)
    src_lines = [f"{src}:{i}" for i in range(gold)] + [f"{src}:s{j}" for j in range(distractors)]
    tgt_lines = [f"{tgt}:{i}" for i in range(gold)] + [f"{tgt}:t{j}" for j in range(distractors)]
    src_order, tgt_order = rng.permutation(len(src_lines)), rng.permutation(len(tgt_lines))
    src_pos = {int(o): p for p, o in enumerate(src_order)}  # line of original row o
    tgt_pos = {int(o): p for p, o in enumerate(tgt_order)}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "src.txt").write_text("".join(src_lines[o] + "\n" for o in src_order), encoding="utf-8")
    (folder / "tgt.txt").write_text("".join(tgt_lines[o] + "\n" for o in tgt_order), encoding="utf-8")
    pairs = "".join(f"{src_pos[i] + 1}\t{tgt_pos[i] + 1}\n" for i in range(gold))
    (folder / "gold.tsv").write_text(pairs, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tiny_hf_dir(tmp_path_factory) -> Path:
    """A tiny plain Hugging Face BERT folder built in code (word-level tokenizer, 2 layers)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "query", ":"]
    words += [f"w{i}" for i in range(200)] + [f"{lang}" for lang in ("eng", "deu", "fra", "xx", "yy")]
    words += [str(i) for i in range(300)]
    vocab = {w: i for i, w in enumerate(words)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()]
    )
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=64,
    )
    import torch

    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    hf_dir = tmp_path_factory.mktemp("tiny_hf")
    BertModel(cfg).save_pretrained(hf_dir)
    fast.save_pretrained(hf_dir)
    return hf_dir


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_hf_dir, tmp_path_factory) -> Path:
    """The tiny model as a sentence-transformers folder: mean pooling, query/passage prompts."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import models as st_models

    hf_dir = tiny_hf_dir
    st_dir = tmp_path_factory.mktemp("tiny_st")
    word = st_models.Transformer(str(hf_dir), max_seq_length=64)
    pool = st_models.Pooling(32, "mean")
    st = SentenceTransformer(modules=[word, pool], prompts={"query": "query: ", "passage": "passage: "})
    st.save(str(st_dir))
    return st_dir


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run the real console entry point ``langgap.cli.main`` with ``args``."""
    from langgap.cli import main

    old, handler = sys.argv, signal.getsignal(signal.SIGTERM)
    sys.argv = ["langgap", *args]
    code = 0
    try:
        main()
    except SystemExit as e:
        code = int(e.code or 0) if not isinstance(e.code, str) else 1
    finally:
        sys.argv = old
        signal.signal(signal.SIGTERM, handler)  # main() leaves SIGTERM ignored for the teardown
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cli(capsys):
    return lambda args: run_cli([str(a) for a in args], capsys)


@pytest.fixture
def data(tmp_path) -> dict[str, Path]:
    """A 24-row bitext and an STS file in the tiny model's vocabulary (the fault-injection tests)."""
    from faults.helpers import small_data

    return small_data(tmp_path / "data")


# -- a simulated process group for the gather paths of the losses ---------------------------------
# The real thing is tested with 2 gloo processes (losses/test_loss_distributed.py); this fake lets
# the fast in-process tests (and mutmut, which only sees code run in its own process) reach the
# lines that only run under torch.distributed: which rows the candidates are, where the positives
# sit (rank * B + i), and that every wrapper passes ``gather`` on.


class FakeWorld:
    """``torch.distributed`` as rank ``rank`` of ``world`` processes sees it.

    Where this process all-gathers ``x``, process ``r`` holds :meth:`peer` ``(x, r)``: unit rows
    (every gather in ``losses/`` is of L2-normalised embeddings) that differ per process, or ``x``
    itself for integer tensors (the shape check: equal shapes everywhere). ``all_reduce`` sums
    ``world`` equal contributions.
    """

    def __init__(self, rank: int, world: int) -> None:
        self.rank, self.world = rank, world

    @staticmethod
    def peer(x, r: int):
        import torch.nn.functional as F

        if not x.is_floating_point():
            return x.clone()
        return F.normalize(x.flip(0) * (r + 1) + 0.5 * (r + 1), dim=-1)

    def all_gather(self, out, x) -> None:
        for r, slot in enumerate(out):
            slot.copy_(x if r == self.rank else self.peer(x, r))

    def all_reduce(self, t, op: object = None) -> None:
        t.mul_(self.world)


@pytest.fixture
def fake_world(monkeypatch):
    """``fake_world(rank, world=2)``: from then on this process is that rank (undone after the test)."""
    import torch.distributed as dist

    def enter(rank: int, world: int = 2) -> FakeWorld:
        w = FakeWorld(rank, world)
        monkeypatch.setattr(dist, "is_available", lambda: True)
        monkeypatch.setattr(dist, "is_initialized", lambda: True)
        monkeypatch.setattr(dist, "get_rank", lambda *a, **k: w.rank)
        monkeypatch.setattr(dist, "get_world_size", lambda *a, **k: w.world)
        monkeypatch.setattr(dist, "all_gather", lambda out, x, *a, **k: w.all_gather(out, x))
        monkeypatch.setattr(dist, "all_reduce", lambda t, *a, **k: w.all_reduce(t))
        return w

    return enter
