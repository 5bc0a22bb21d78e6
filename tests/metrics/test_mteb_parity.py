"""Parity of langgap's bitext and STS metrics with mteb's own evaluators.

Both sides see the same embeddings: :class:`PrecomputedMtebModel` is a minimal mteb encoder
(``EncoderProtocol`` in ``mteb/models/models_protocols.py``) that answers mteb's ``encode``
calls from a text -> vector table. The real mteb evaluator classes then run end to end
(dataloaders, encoding, similarity search, scoring):

- bitext: ``mteb._evaluators.BitextMiningEvaluator`` finds each query's nearest neighbour, and
  ``AbsTaskBitextMining._compute_metrics`` (``mteb/abstasks/text/bitext_mining.py``), called on
  the real ``Tatoeba`` task object, turns the neighbours into accuracy/f1 exactly as a run of
  ``Tatoeba`` does;
- STS: ``mteb._evaluators.AnySTSEvaluator`` computes the pair cosines and
  ``AbsTaskSTS._calculate_scores`` / ``AbsTaskSTS._normalize`` (``mteb/abstasks/sts.py``), called
  on the real ``STS17`` task object, give ``cosine_spearman``.

Only task metadata is taken from mteb's registry (``mteb.get_task`` builds it in code); no
dataset is loaded from the Hub.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import datasets  # noqa: E402
import mteb  # noqa: E402
import numpy as np
import pytest
from mteb._evaluators import AnySTSEvaluator, BitextMiningEvaluator  # noqa: E402
from mteb.models import EncoderProtocol, ModelMeta  # noqa: E402
from mteb.similarity_functions import cos_sim, pairwise_cos_sim  # noqa: E402
from mteb.timing import TimingStack  # noqa: E402

from langgap.data import read_bitext, read_sts  # noqa: E402
from langgap.metrics.bitext import retrieval_correct  # noqa: E402
from langgap.metrics.similarity import topk_cosine  # noqa: E402
from langgap.metrics.sts import sts_spearman  # noqa: E402

TATOEBA_DEU_ENG = Path("/work/shared/data/tatoeba/deu-eng.tsv")
STS17_EN_DE = Path("/work/shared/data/sts17/en-de.tsv")
ENCODE_KWARGS: dict[str, Any] = {"batch_size": 16, "show_progress_bar": False}

# mteb's similarity search wraps the model's similarity matrix in torch.tensor(...)
pytestmark = pytest.mark.filterwarnings("ignore:To copy construct from a tensor:UserWarning")


class PrecomputedMtebModel:
    """An mteb encoder (``EncoderProtocol``) whose embeddings are looked up by text.

    Args:
        table: ``{text: (D,) vector}``; every text mteb asks for must be in it.
    """

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        self.table = table
        self.calls: list[int] = []  # texts per encode call, to check mteb really asked
        self.mteb_model_meta = ModelMeta.create_empty(overwrites={"name": "langgap/precomputed"})

    def encode(
        self,
        inputs: Any,
        *,
        task_metadata: Any,
        hf_split: str,
        hf_subset: str,
        prompt_type: Any = None,
        **kwargs: Any,
    ) -> np.ndarray:
        """Iterate mteb's DataLoader (batches are dicts with a ``text`` list); (N, D) float32."""
        texts = [t for batch in inputs for t in batch["text"]]
        self.calls.append(len(texts))
        return np.stack([self.table[t] for t in texts]).astype(np.float32)  # (N, D)

    def similarity(self, embeddings1: Any, embeddings2: Any) -> Any:
        """Cosine matrix ``out[i, j] = cos(a[i], b[j])`` (mteb's own ``cos_sim``)."""
        return cos_sim(embeddings1, embeddings2)

    def similarity_pairwise(self, embeddings1: Any, embeddings2: Any) -> Any:
        """``out[i] = cos(a[i], b[i])`` (mteb's own ``pairwise_cos_sim``)."""
        return pairwise_cos_sim(embeddings1, embeddings2)


def table_of(texts: list[str], emb: np.ndarray) -> dict[str, np.ndarray]:
    """``{text: row}``; duplicate texts must carry identical rows (they come from one encoder)."""
    out: dict[str, np.ndarray] = {}
    for t, v in zip(texts, emb, strict=True):
        if t in out and not np.array_equal(out[t], v):
            raise ValueError(f"text {t!r} has two different embeddings")
        out[t] = v
    return out


def mteb_bitext(src_texts: list[str], tgt_texts: list[str], model: PrecomputedMtebModel) -> dict[str, Any]:
    """Run mteb's Tatoeba machinery in both directions.

    Returns:
        ``{"src2tgt"|"tgt2src": {"metrics": BitextMiningMetrics, "pred": (N,) int}}``.
    """
    task = mteb.get_task("Tatoeba")
    ds = datasets.Dataset.from_dict({"sentence1": src_texts, "sentence2": tgt_texts})
    evaluator = BitextMiningEvaluator(
        ds,
        task_metadata=task.metadata,
        hf_split="test",
        hf_subset="deu-eng",
        # the task's default pair plus the swapped pair: sentence2 queries, sentence1 corpus
        pair_columns=[("sentence1", "sentence2"), ("sentence2", "sentence1")],
        timer=TimingStack(),
    )
    neighbours = evaluator(model, encode_kwargs=ENCODE_KWARGS)
    n = len(src_texts)
    gold = list(zip(range(n), range(n), strict=True))  # what _evaluate_subset builds without "gold"
    out = {}
    for direction, key in (("src2tgt", "sentence1-sentence2"), ("tgt2src", "sentence2-sentence1")):
        out[direction] = {
            "metrics": task._compute_metrics(neighbours[key], gold),
            "pred": np.array([nb["corpus_id"] for nb in neighbours[key]]),
        }
    return out


def mteb_sts(s1: list[str], s2: list[str], gold: np.ndarray, model: PrecomputedMtebModel) -> dict[str, float]:
    """Run mteb's STS17 machinery; returns its ``STSMetrics``."""
    task = mteb.get_task("STS17")
    ds = datasets.Dataset.from_dict({"sentence1": s1, "sentence2": s2, "score": [float(x) for x in gold]})
    evaluator = AnySTSEvaluator(
        ds,
        task.column_names,
        task_metadata=task.metadata,
        hf_split="test",
        hf_subset="en-de",
        input1_prompt_type=task.input1_prompt_type,
        input2_prompt_type=task.input2_prompt_type,
        timer=TimingStack(),
    )
    scores = evaluator(model, encode_kwargs=ENCODE_KWARGS)
    # as AbsTaskSTS._evaluate_subset: normalise gold to [0, 1] with the task's min/max score
    normalized = [task._normalize(x) for x in ds["score"]]
    return dict(task._calculate_scores(scores, normalized))


def assert_bitext_parity(
    src_texts: list[str], tgt_texts: list[str], src: np.ndarray, tgt: np.ndarray
) -> None:
    """langgap accuracy == mteb accuracy in both directions, and the same predicted rows."""
    model = PrecomputedMtebModel(table_of(src_texts + tgt_texts, np.concatenate([src, tgt])))
    assert isinstance(model, EncoderProtocol)
    ref = mteb_bitext(src_texts, tgt_texts, model)
    assert model.calls == [len(src_texts), len(tgt_texts)]
    for direction, (q, c) in {"src2tgt": (src, tgt), "tgt2src": (tgt, src)}.items():
        ours = retrieval_correct(q, c, "cosine")
        pred = topk_cosine(q, c, 1)[1][:, 0]
        differ = np.flatnonzero(pred != ref[direction]["pred"])
        assert differ.size == 0, (
            f"{direction}: nearest neighbour differs at rows {differ.tolist()}: "
            f"langgap {pred[differ].tolist()} vs mteb {ref[direction]['pred'][differ].tolist()}"
        )
        assert ours.mean() == ref[direction]["metrics"]["accuracy"], direction


# ---------------------------------------------------------------- synthetic embeddings


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("noise", [0.8, 1.2, 1.6])
def test_bitext_accuracy_matches_mteb(noise: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, d = 60, 16
    src = rng.standard_normal((n, d)).astype(np.float32)
    tgt = (src + noise * rng.standard_normal((n, d))).astype(np.float32)
    src_texts = [f"src sentence {i}" for i in range(n)]
    tgt_texts = [f"tgt sentence {i}" for i in range(n)]
    for q, c in ((src, tgt), (tgt, src)):
        acc = retrieval_correct(q, c, "cosine").mean()
        assert 0.3 <= acc <= 0.95, f"planted structure too easy or too hard: accuracy {acc}"
    assert_bitext_parity(src_texts, tgt_texts, src, tgt)


def test_bitext_more_targets_than_sources_matches_mteb() -> None:
    """Extra distractor targets (M > N), as in BUCC-style corpora: mteb searches all M."""
    rng = np.random.default_rng(7)
    n, m, d = 40, 70, 16
    tgt = rng.standard_normal((m, d)).astype(np.float32)
    src = (tgt[:n] + 0.9 * rng.standard_normal((n, d))).astype(np.float32)
    task = mteb.get_task("Tatoeba")
    model = PrecomputedMtebModel(
        table_of([f"s{i}" for i in range(n)] + [f"t{j}" for j in range(m)], np.concatenate([src, tgt]))
    )
    # the evaluator's columns must be equally long, so call its own similarity search
    # (BitextMiningEvaluator._similarity_search) on the N queries and the full M-row corpus
    evaluator = BitextMiningEvaluator(
        datasets.Dataset.from_dict({"sentence1": ["s0"], "sentence2": ["t0"]}),
        task_metadata=task.metadata,
        hf_split="test",
        hf_subset="deu-eng",
        pair_columns=[("sentence1", "sentence2")],
        timer=TimingStack(),
    )
    neighbours = evaluator._similarity_search(src, tgt, model)
    gold = list(zip(range(n), range(n), strict=True))
    ref = task._compute_metrics(neighbours, gold)["accuracy"]
    assert retrieval_correct(src, tgt, "cosine").mean() == ref


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sts_spearman_matches_mteb(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, d = 80, 16
    e1 = rng.standard_normal((n, d)).astype(np.float32)
    # gold on STS's 0..5 scale in steps of 0.2 (ties, as in STS17), planted into e2
    gold = np.round(rng.uniform(0, 5, n) * 5) / 5
    e2 = (e1 * (gold[:, None] - 2.0) + 2.0 * rng.standard_normal((n, d))).astype(np.float32)
    s1 = [f"first {i}" for i in range(n)]
    s2 = [f"second {i}" for i in range(n)]
    ours, _ = sts_spearman(e1, e2, gold)
    ref = mteb_sts(s1, s2, gold, PrecomputedMtebModel(table_of(s1 + s2, np.concatenate([e1, e2]))))
    assert 0.2 < ours < 0.95, f"planted structure too weak or too strong: spearman {ours}"
    assert ours == pytest.approx(ref["cosine_spearman"], abs=1e-9)


# ---------------------------------------------------------------- real model, real data


def model_dir() -> Path:
    """The offline multilingual-e5-small: ``$LANGGAP_MODELS_DIR`` or ``~/.cache/langgap/models``."""
    from conftest import real_models_dir

    return real_models_dir() / "multilingual-e5-small"


@pytest.fixture(scope="module")
def e5() -> Iterator[Any]:
    path = model_dir()
    assert (path / "config.json").is_file(), f"offline model not found at {path} (run scripts/setup.sh)"
    from sentence_transformers import SentenceTransformer

    yield SentenceTransformer(str(path), device="cpu")


@pytest.mark.real_model
def test_real_tatoeba_and_sts17_match_mteb(e5: Any) -> None:
    assert TATOEBA_DEU_ENG.is_file() and STS17_EN_DE.is_file(), "shared Tatoeba/STS17 data not found"
    bitext = read_bitext(TATOEBA_DEU_ENG)
    src_texts, tgt_texts = bitext.src[:150], bitext.tgt[:150]
    emb = e5.encode(src_texts + tgt_texts, prompt="query: ", batch_size=32, convert_to_numpy=True)
    src, tgt = emb[:150], emb[150:]
    assert_bitext_parity(src_texts, tgt_texts, src, tgt)

    sts = read_sts(STS17_EN_DE)
    s1, s2, gold = sts.s1[:100], sts.s2[:100], sts.scores[:100]
    emb = e5.encode(s1 + s2, prompt="query: ", batch_size=32, convert_to_numpy=True)
    e1, e2 = emb[:100], emb[100:]
    ours, _ = sts_spearman(e1, e2, gold)
    ref = mteb_sts(s1, s2, gold, PrecomputedMtebModel(table_of(s1 + s2, emb)))
    assert ours == pytest.approx(ref["cosine_spearman"], abs=1e-9)
