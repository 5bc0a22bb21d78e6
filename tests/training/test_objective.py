"""Objectives built from the loss modules of ``langgap.losses``.

Parity: the objective :func:`build_objective` gives, with the teacher looked up as the loop does,
has the loss values and gradients of the ``make_loss`` it replaced (kept below as the naive
reference, verbatim but for reading the flat settings), for every objective and loss setting.
And every loss setting reaches the loss: a setting dropped between the config and the loss
(``--margin`` left at the module's default) fails here.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
import torch

import langgap.losses.contrastive as contrastive
from conftest import ToyEncoder
from langgap.errors import InputError
from langgap.losses import (
    InfoNCELoss,
    MSEDistillLoss,
    SoftContrastiveLoss,
    info_nce,
    mse_distill,
    soft_contrastive,
    soft_labels,
)
from langgap.training.config import ObjectiveConfig, TrainConfig
from langgap.training.objective import OBJECTIVES, build_objective, teacher_sides
from langgap.training.teacher import TeacherCache

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


def old_make_loss(cfg: Any, teacher: TeacherCache | None):
    """The reference: ``training.teacher.make_loss`` as it was, over the flat settings."""

    def loss(a, b, first, second):
        if cfg.objective == "infonce":
            return info_nce(a, b, temperature=cfg.temperature, margin=cfg.margin, gather=cfg.gather)
        assert teacher is not None
        t_first = teacher.lookup(first)  # (B, Dt)
        if cfg.objective == "mse":
            return mse_distill(a, b, t_first)
        t_second = teacher.lookup(second) if cfg.labels == "average" else None
        labels = soft_labels(
            t_first, t_second, temperature=cfg.teacher_temperature, mode=cfg.labels, gather=cfg.gather
        )  # (B, W*B)
        return soft_contrastive(
            a,
            b,
            labels,
            temperature=cfg.temperature,
            margin=cfg.margin,
            tcm_weight=cfg.tcm_weight,
            gather=cfg.gather,
        )

    return loss


def _teacher() -> TeacherCache:
    return TeacherCache(ToyEncoder(dim=D, gap=1.0), FIRST + SECOND)


def _student() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(B, D, generator=g)
    return a, a + 0.8 * torch.randn(B, D, generator=g)


def _value_and_grads(loss_fn, a, b) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    a, b = a.clone().requires_grad_(), b.clone().requires_grad_()
    value = loss_fn(a, b, FIRST, SECOND)
    grad_a, grad_b = torch.autograd.grad(value, [a, b])
    return value.detach(), grad_a, grad_b


def _new(cfg: ObjectiveConfig, teacher: TeacherCache):
    return build_objective(cfg).with_teacher(teacher.lookup)


@pytest.fixture
def two_processes(monkeypatch):
    """A stand-in for a second process, so that ``gather`` is observable in one: the gathered
    candidates are this process's rows followed by another block of rows (a fixed function of
    them), as ``all_gather_with_grad`` would return on rank 0 of 2."""
    monkeypatch.setattr(contrastive, "rank_and_world_size", lambda: (0, 2))
    monkeypatch.setattr(
        contrastive, "all_gather_with_grad", lambda x: torch.cat([x, 0.5 * x.roll(1, dims=1)])
    )


CASES = [
    dict(objective=o, labels=lab, gather=g, tcm_weight=t, margin=m)
    for o in SETTINGS
    for lab in ("priority", "average")
    for g in (False, True)
    for t in (0.0, 0.5)
    for m in (0.0, 0.3)
    if o == "soft" or (lab, t) == ("priority", 0.0)
]


@pytest.mark.parametrize("settings", CASES, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
def test_objective_matches_the_old_make_loss_values_and_gradients(settings, two_processes):
    cfg = TrainConfig.from_flat(temperature=0.2, teacher_temperature=0.07, **settings)
    teacher = _teacher()
    a, b = _student()
    want = _value_and_grads(old_make_loss(SimpleNamespace(**cfg.to_json()), teacher), a, b)
    got = _value_and_grads(_new(cfg.objective, teacher), a, b)
    for w, g in zip(want, got, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-6, atol=1e-7)
    assert want[1].abs().sum() > 0  # the gradients are not trivially equal


@pytest.mark.parametrize("objective, setting", [(o, s) for o, settings in SETTINGS.items() for s in settings])
def test_each_setting_reaches_the_loss(objective, setting, two_processes):
    """Change one setting: the loss changes, to the old loss's value with the new setting."""
    cfg = ObjectiveConfig(kind=objective, gather=True, **BASE)  # type: ignore[arg-type]
    other = replace(cfg, **{setting: False if setting == "gather" else OTHER[setting]})
    a, b = _student()
    teacher = _teacher()
    before, after = (_new(c, teacher)(a, b, FIRST, SECOND) for c in (cfg, other))
    assert abs(float(before - after)) > 1e-3, setting  # the setting matters for this loss
    flat = {"objective": objective, **{k: getattr(other, k) for k in (*BASE, "gather")}}
    reference = old_make_loss(SimpleNamespace(**flat), teacher)(a, b, FIRST, SECOND)
    torch.testing.assert_close(after, reference, rtol=1e-6, atol=1e-6)


def test_objectives_are_the_loss_modules_with_their_teacher_rows():
    """Each objective is one of the loss modules of ``langgap.losses`` with the config's
    hyperparameters, taking 0, 1 or 2 teacher rows; the table knows every --objective choice."""
    assert set(OBJECTIVES) == {"infonce", "soft", "mse"}
    info = build_objective(ObjectiveConfig(kind="infonce", temperature=0.1, margin=0.2, gather=False))
    assert isinstance(info.loss, InfoNCELoss) and info.teacher_sides == 0
    assert (info.loss.temperature, info.loss.margin, info.loss.gather) == (0.1, 0.2, False)
    soft = build_objective(ObjectiveConfig(kind="soft", labels="average", teacher_temperature=0.3))
    assert isinstance(soft.loss, SoftContrastiveLoss) and soft.teacher_sides == 2
    assert (soft.loss.label_temperature, soft.loss.mode) == (0.3, "average")
    assert teacher_sides(ObjectiveConfig(kind="soft")) == 1
    mse = build_objective(ObjectiveConfig(kind="mse"))
    assert isinstance(mse.loss, MSEDistillLoss) and mse.teacher_sides == 1
    a, b = _student()
    with pytest.raises(ValueError, match="MSEDistillLoss takes 1 teacher embeddings, got 0"):
        mse(a, b)
    with pytest.raises(ValueError, match="SoftContrastiveLoss needs a teacher; none was given"):
        soft.with_teacher(None)
    info.with_teacher(None)  # InfoNCE needs none


def test_preserve_adds_the_weighted_same_language_term_against_the_starting_model():
    """--preserve W: the main loss plus W times relational_distill of all 2B student rows against
    the teacher (starting model) rows of the same texts, grouped by language; the teacher embeds
    both sides even for InfoNCE."""
    from langgap.losses import info_nce, relational_distill

    cfg = ObjectiveConfig(kind="infonce", temperature=0.1, gather=False, preserve=0.5)
    assert teacher_sides(cfg) == 2 and teacher_sides(ObjectiveConfig(kind="infonce")) == 0
    objective = build_objective(cfg)
    assert (objective.teacher_sides, objective.preserve) == (0, 0.5)
    g = torch.Generator().manual_seed(5)
    a, b = torch.randn(4, 6, generator=g), torch.randn(4, 6, generator=g)
    first, second = ["e0", "e1", "e2", "e3"], ["d0", "f1", "d2", "f3"]
    rows = {t: torch.randn(6, generator=g) for t in first + second}
    lookup = lambda texts: torch.stack([rows[t] for t in texts])  # noqa: E731
    langs = ["eng"] * 4 + ["deu", "fra", "deu", "fra"]
    got = objective.with_teacher(lookup)(a, b, first, second, langs)
    groups = torch.tensor([0, 0, 0, 0, 1, 2, 1, 2])
    want = info_nce(a, b, temperature=0.1, gather=False) + 0.5 * relational_distill(
        torch.cat([a, b]), lookup(first + second), groups
    )
    torch.testing.assert_close(got, want)
    with pytest.raises(ValueError, match="--preserve needs the language of all 8 texts, got 0"):
        objective.with_teacher(lookup)(a, b, first, second)
    with pytest.raises(ValueError, match="InfoNCELoss needs a teacher"):
        objective.with_teacher(None)


def test_preserve_is_checked():
    with pytest.raises(InputError, match=r"--preserve must be >= 0, got -1"):
        ObjectiveConfig(preserve=-1)
    with pytest.raises(
        InputError,
        match="--preserve holds same-language similarities .* needs --teacher SAME, not 'other/model'",
    ):
        ObjectiveConfig(kind="soft", teacher="other/model", preserve=0.1)


def test_training_with_preserve_embeds_both_sides_with_the_starting_model(cli, tiny_model_dir, tmp_path):
    import json

    from conftest import write_bitext

    pairs = write_bitext(tmp_path / "xx-yy.tsv", "xx", "yy", 40)
    args = ["train", "--model", tiny_model_dir, "--pairs", pairs, "--batch-size", 8, "--lr", "1e-3",
            "--max-steps", 3, "--save-every", 0, "-q"]  # fmt: skip
    assert cli([*args, "--out", tmp_path / "plain"])[0] == 0
    code, _, err = cli([*args, "--preserve", "5", "--out", tmp_path / "kept"])
    assert code == 0, err
    conf = json.loads((tmp_path / "kept" / "config.json").read_text())
    assert conf["config"]["preserve"] == 5.0 and conf["resolved"]["teacher_dim"] == 32  # SAME: the student's
    logs = [
        [json.loads(x)["loss"] for x in (tmp_path / r / "train_log.jsonl").read_text().splitlines()]
        for r in ("plain", "kept")
    ]
    assert logs[0] != logs[1]  # the term reaches the loss (dropout: the student is not its eval-mode start)
