"""make_loss: every loss setting of TrainConfig reaches the loss it builds.

The loss ``make_loss(cfg, teacher)`` returns must equal the objective's loss function called
directly with ``cfg``'s values, and change when one of them changes: a setting dropped between
the config and the loss (``--margin`` left at the function's default) fails here.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

import langgap.losses.contrastive as contrastive
from conftest import ToyEncoder
from langgap.errors import InputError
from langgap.losses import info_nce, mse_distill, soft_contrastive, soft_labels
from langgap.training.config import TrainConfig
from langgap.training.teacher import TeacherCache, check_teacher_dim, make_loss

B, D = 6, 16
FIRST = [f"eng:{i}" for i in range(B)]
SECOND = [f"deu:{i}" for i in range(B)]
# every loss setting away from its default, and a second value for each
BASE = dict(temperature=0.2, margin=0.3, teacher_temperature=0.07, tcm_weight=0.5, labels="average")
OTHER = dict(temperature=0.05, margin=0.0, teacher_temperature=0.5, tcm_weight=0.0, labels="priority")
SETTINGS = {
    "infonce": ["temperature", "margin", "gather"],
    "soft": ["temperature", "margin", "teacher_temperature", "tcm_weight", "labels", "gather"],
    "mse": [],
}


def _teacher() -> TeacherCache:
    return TeacherCache(ToyEncoder(dim=D, gap=1.0), FIRST + SECOND)


def _student() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(B, D, generator=g)
    return a, a + 0.8 * torch.randn(B, D, generator=g)


def _direct(cfg: TrainConfig, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The objective's loss function called by hand with ``cfg``'s values."""
    enc = ToyEncoder(dim=D, gap=1.0)
    t_first = torch.as_tensor(enc.encode(FIRST), dtype=torch.float32)
    t_second = torch.as_tensor(enc.encode(SECOND), dtype=torch.float32)
    if cfg.objective == "infonce":
        return info_nce(a, b, temperature=cfg.temperature, margin=cfg.margin, gather=cfg.gather)
    if cfg.objective == "mse":
        return mse_distill(a, b, t_first)
    labels = soft_labels(
        t_first,
        t_second if cfg.labels == "average" else None,
        temperature=cfg.teacher_temperature,
        mode=cfg.labels,
        gather=cfg.gather,
    )
    return soft_contrastive(
        a,
        b,
        labels,
        temperature=cfg.temperature,
        margin=cfg.margin,
        tcm_weight=cfg.tcm_weight,
        gather=cfg.gather,
    )


@pytest.fixture
def two_processes(monkeypatch):
    """A stand-in for a second process, so that ``gather`` is observable in one: the gathered
    candidates are this process's rows followed by another block of rows (a fixed function of
    them), as ``all_gather_with_grad`` would return on rank 0 of 2."""
    monkeypatch.setattr(contrastive, "rank_and_world_size", lambda: (0, 2))
    monkeypatch.setattr(
        contrastive, "all_gather_with_grad", lambda x: torch.cat([x, 0.5 * x.roll(1, dims=1)])
    )


@pytest.mark.parametrize("objective", list(SETTINGS))
@pytest.mark.parametrize("gather", [False, True])
def test_loss_equals_the_objective_with_the_configs_values(objective, gather, two_processes):
    cfg = TrainConfig(objective=objective, gather=gather, **BASE)  # type: ignore[arg-type]
    a, b = _student()
    got = make_loss(cfg, _teacher())(a, b, FIRST, SECOND)
    torch.testing.assert_close(got, _direct(cfg, a, b), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("objective, setting", [(o, s) for o, settings in SETTINGS.items() for s in settings])
def test_each_setting_reaches_the_loss(objective, setting, two_processes):
    """Change one setting: the loss changes, to the objective's value with the new setting."""
    cfg = TrainConfig(objective=objective, gather=True, **BASE)  # type: ignore[arg-type]
    other = replace(cfg, **{setting: False if setting == "gather" else OTHER[setting]})
    a, b = _student()
    teacher = _teacher()
    before, after = (make_loss(c, teacher)(a, b, FIRST, SECOND) for c in (cfg, other))
    assert abs(float(before - after)) > 1e-3, setting  # the setting matters for this loss
    torch.testing.assert_close(after, _direct(other, a, b), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(before, _direct(cfg, a, b), rtol=1e-6, atol=1e-6)


def test_objective_chooses_the_loss(two_processes):
    a, b = _student()
    teacher = _teacher()
    values = {}
    for objective in SETTINGS:
        cfg = TrainConfig(objective=objective, **BASE)  # type: ignore[arg-type]
        values[objective] = float(make_loss(cfg, teacher)(a, b, FIRST, SECOND))
        assert values[objective] == pytest.approx(float(_direct(cfg, a, b)), rel=1e-6)
    assert len({round(v, 4) for v in values.values()}) == 3, values


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
    cfg = TrainConfig(model="student-model", teacher=teacher, teacher_prompt=teacher_prompt, max_length=17)
    enc = teacher_module.load_teacher(cfg, "query: ", torch.device("cpu"))
    assert (enc.name, enc.prompt) == (want_name, want_prompt)
    assert (enc.max_length, enc.device, enc.kw) == (17, "cpu", {})


def test_check_teacher_dim_only_binds_mse():
    """MSE regresses onto the teacher's vectors, so it needs the student's dimension; an encoder
    that does not say its dimension (-1) is checked after embedding instead."""
    mse = TrainConfig(objective="mse", teacher="t")
    check_teacher_dim(mse, 16, 16)
    check_teacher_dim(mse, -1, 16)
    check_teacher_dim(TrainConfig(objective="soft"), 8, 16)
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
    """A loaded teacher gets (cfg, prompt, device) and the disk cache; a given one is used as is,
    in memory only; rows come back on the training device (``meta`` stands in for a GPU here) and
    the progress callback hears of the first batch."""
    import langgap.training.teacher as teacher_mod
    from langgap.training.pairs import Pair
    from langgap.training.teacher import build_teacher_cache

    pairs = [Pair(f"de:{i}", f"en:{i}", "de", "en", "") for i in range(3)]
    loaded: list[tuple] = []

    def load(cfg, prompt, device):
        loaded.append((cfg, prompt, device))
        return _SizedToy(dim=D)

    monkeypatch.setattr(teacher_mod, "load_teacher", load)
    args = (pairs, ["en", "de"], "query: ", D, "meta")
    assert build_teacher_cache(TrainConfig(objective="infonce"), *args) is None and not loaded
    for objective in ("soft", "mse"):
        cfg = TrainConfig(objective=objective)
        monkeypatch.setattr(teacher_mod, "default_cache_path", lambda o=objective: tmp_path / o)  # empty
        heard: list[tuple[int, int]] = []
        cache = build_teacher_cache(cfg, *args, progress=lambda d, t, h=heard: h.append((d, t)))
        assert loaded[-1] == (cfg, "query: ", "meta")
        assert isinstance(cache, TeacherCache) and sorted(cache.vectors) == ["en:0", "en:1", "en:2"]
        assert cache.encoder.store is not None and heard and heard[-1] == (3, 3)
        assert cache.lookup(["en:1"]).device.type == "meta"
        cache.close()
    given = _SizedToy(dim=D)
    n = len(loaded)
    cache = build_teacher_cache(TrainConfig(objective="soft"), *args, teacher=given)
    assert len(loaded) == n and cache is not None and cache.encoder.encoder is given
    assert cache.encoder.store is None  # a teacher passed in is cached in memory only
    plain = ToyEncoder(dim=D)  # no stated dimension: checked after the first batch instead
    assert build_teacher_cache(TrainConfig(objective="mse"), *args, teacher=plain) is not None


def test_mse_teacher_of_another_dimension_is_refused_before_any_embedding():
    from langgap.training.pairs import Pair
    from langgap.training.teacher import build_teacher_cache

    wide = _SizedToy(dim=2 * D)
    pairs = [Pair(f"de:{i}", f"en:{i}", "de", "en", "") for i in range(3)]
    msg = rf"teacher '.*' gives {2 * D}, the student {D} \(soft labels allow any teacher dimension\)$"
    with pytest.raises(InputError, match=msg):
        build_teacher_cache(TrainConfig(objective="mse"), pairs, ["en"], "", D, "cpu", teacher=wide)
    assert wide.calls == []  # refused from the stated dimension, before the first batch is embedded
