"""The frozen teacher: how it is loaded, its dimension check, its cache, the priority order.

(The objectives built on it are tested in ``test_objective.py``.)
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import ToyEncoder
from langgap.errors import InputError
from langgap.training.config import ModelConfig, ObjectiveConfig
from langgap.training.teacher import TeacherCache, check_teacher_dim

B, D = 6, 16
FIRST = [f"eng:{i}" for i in range(B)]
SECOND = [f"deu:{i}" for i in range(B)]


class _RecordingEncoder:
    """Stands in for SentenceTransformerEncoder: records how load_teacher builds the teacher."""

    def __init__(self, name, *, prompt=None, max_length=None, device=None, **kw):
        self.name, self.prompt, self.max_length, self.device, self.kw = name, prompt, max_length, device, kw


@pytest.mark.parametrize(
    "teacher, teacher_prompt, want_name, want_prompt",
    [
        ("SAME", None, "student-model", "query: "),  # the starting model with the student's prompt
        ("SAME", "passage: ", "student-model", "passage: "),
        ("other-model", None, "other-model", None),  # None: the encoder's default rule (its 'query' prompt)
        ("other-model", "", "other-model", ""),  # an explicit empty prompt stays empty
    ],
)
def test_load_teacher_model_prompt_and_settings(monkeypatch, teacher, teacher_prompt, want_name, want_prompt):
    import langgap.training.teacher as teacher_module

    monkeypatch.setattr(teacher_module, "SentenceTransformerEncoder", _RecordingEncoder)
    objective = ObjectiveConfig(teacher=teacher, teacher_prompt=teacher_prompt)
    model = ModelConfig(name="student-model", max_length=17)
    enc = teacher_module.load_teacher(objective, model, "query: ", torch.device("cpu"))
    assert (enc.name, enc.prompt) == (want_name, want_prompt)
    assert (enc.max_length, enc.device, enc.kw) == (17, "cpu", {})


def test_check_teacher_dim_only_binds_mse():
    """MSE regresses onto the teacher's vectors, so it needs the student's dimension; an encoder
    that does not say its dimension (-1) is checked after embedding instead."""
    mse = ObjectiveConfig(kind="mse", teacher="t")
    check_teacher_dim(mse, 16, 16)
    check_teacher_dim(mse, -1, 16)
    check_teacher_dim(ObjectiveConfig(kind="soft"), 8, 16)
    with pytest.raises(InputError) as e:
        check_teacher_dim(mse, 8, 16)
    assert str(e.value) == (
        "--objective mse needs a teacher of the student's dimension: teacher 't' gives 8, the student 16 "
        "(soft labels allow any teacher dimension)"
    )


class _Float64Encoder(ToyEncoder):
    def encode(self, texts):
        return super().encode(texts).astype(np.float64)


def test_teacher_cache_embeds_once_with_progress_and_gives_float32():
    done: list[tuple[int, int]] = []
    texts = FIRST + SECOND + FIRST[:2]  # duplicates are embedded once
    cache = TeacherCache(_Float64Encoder(dim=D), texts, progress=lambda d, t: done.append((d, t)))
    assert len(cache) == 2 * B and cache.dim == D
    assert done and done[-1] == (2 * B, 2 * B)
    want = torch.as_tensor(_Float64Encoder(dim=D).encode(SECOND[1:3]), dtype=torch.float32)
    got = cache.lookup(SECOND[1:3])
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    assert cache.lookup(["fra:1"]).shape == (1, D) and len(cache) == 2 * B + 1  # embedded when first asked


def test_languages_missing_from_the_priority_rank_after_the_listed_ones():
    from langgap.training.pairs import Pair
    from langgap.training.teacher import orient

    pairs = [
        Pair("d", "e", "de", "en", ""),
        Pair("f", "d2", "fr", "de", ""),
        Pair("e2", "f2", "en", "fr", ""),
    ]
    first, second = orient(pairs, ["en"])  # de and fr unlisted: they tie, the pair keeps its order
    assert (first, second) == (["e", "f", "e2"], ["d", "d2", "f2"])
    first, second = orient([Pair("e", "d", "en", "de", ""), Pair("d2", "e2", "de", "en", "")], ["en", "de"])
    assert (first, second) == (["e", "e2"], ["d", "d2"])  # already in order, and swapped


def test_language_priority_counts_distinct_sentences_ties_by_code_given_first():
    from langgap.training.pairs import Pair
    from langgap.training.teacher import language_priority

    pairs = [Pair(f"en{i % 3}", f"de{i}", "en", "de", "") for i in range(5)]  # en: 3 distinct, de: 5
    pairs += [Pair(f"fr{i}", f"es{i}", "fr", "es", "") for i in range(4)]  # fr and es: 4 each
    assert language_priority(pairs) == ["de", "es", "fr", "en"]
    assert language_priority(pairs, ["en", "xx"]) == ["en", "xx", "de", "es", "fr"]


class _SizedToy(ToyEncoder):
    """A toy teacher that states its dimension up front, as a SentenceTransformer does."""

    @property
    def dimension(self) -> int:
        return self.dim


def test_teacher_cache_is_built_for_soft_and_mse_only_from_the_given_or_loaded_teacher(monkeypatch, tmp_path):
    """A loaded teacher gets (objective, model, prompt, device) and the disk cache; a given one is used as is,
    in memory only; rows come back on the training device (``meta`` stands in for a GPU here) and
    the progress callback hears of the first batch."""
    import langgap.training.teacher as teacher_mod
    from langgap.training.pairs import Pair
    from langgap.training.teacher import build_teacher_cache

    pairs = [Pair(f"de:{i}", f"en:{i}", "de", "en", "") for i in range(3)]
    loaded: list[tuple] = []

    def load(objective, model, prompt, device):
        loaded.append((objective, model, prompt, device))
        return _SizedToy(dim=D)

    monkeypatch.setattr(teacher_mod, "load_teacher", load)
    model = ModelConfig(name="student")
    args = (model, pairs, ["en", "de"], "query: ", D, "meta")
    assert build_teacher_cache(ObjectiveConfig(kind="infonce"), *args) is None and not loaded
    for objective in ("soft", "mse"):
        cfg = ObjectiveConfig(kind=objective)
        monkeypatch.setattr(teacher_mod, "default_cache_path", lambda o=objective: tmp_path / o)  # empty
        heard: list[tuple[int, int]] = []
        cache = build_teacher_cache(cfg, *args, progress=lambda d, t, h=heard: h.append((d, t)))
        assert loaded[-1] == (cfg, model, "query: ", "meta")
        assert isinstance(cache, TeacherCache) and sorted(cache.vectors) == ["en:0", "en:1", "en:2"]
        assert cache.encoder.store is not None and heard and heard[-1] == (3, 3)
        assert cache.lookup(["en:1"]).device.type == "meta"
        cache.close()
    given = _SizedToy(dim=D)
    n = len(loaded)
    cache = build_teacher_cache(ObjectiveConfig(kind="soft"), *args, teacher=given)
    assert len(loaded) == n and cache is not None and cache.encoder.encoder is given
    assert cache.encoder.store is None  # a teacher passed in is cached in memory only
    plain = ToyEncoder(dim=D)  # no stated dimension: checked after the first batch instead
    assert build_teacher_cache(ObjectiveConfig(kind="mse"), *args, teacher=plain) is not None


def test_mse_teacher_of_another_dimension_is_refused_before_any_embedding():
    from langgap.training.pairs import Pair
    from langgap.training.teacher import build_teacher_cache

    wide = _SizedToy(dim=2 * D)
    pairs = [Pair(f"de:{i}", f"en:{i}", "de", "en", "") for i in range(3)]
    msg = rf"teacher '.*' gives {2 * D}, the student {D} \(soft labels allow any teacher dimension\)$"
    with pytest.raises(InputError, match=msg):
        build_teacher_cache(
            ObjectiveConfig(kind="mse"), ModelConfig(), pairs, ["en"], "", D, "cpu", teacher=wide
        )
    assert wide.calls == []  # refused from the stated dimension, before the first batch is embedded
