"""Weight interpolation between a base model and its fine-tuned copy (WiSE-FT, Wortsman et al. 2022).

Parameter by parameter, ``θ(α) = (1 − α) · θ_base + α · θ_tuned``: ``α = 1`` is the tuned model,
``α = 0`` the base. Fine-tuning for cross-language retrieval moves each language's own geometry
(experiment e: STS17 ar-ar 0.739 → 0.663); part of the way back keeps most of the retrieval gain
and gives back same-language similarity. ``langgap merge BASE TUNED --alpha A`` writes the
interpolated model as a sentence-transformers folder with its card; ``langgap train
--interpolate A`` saves the trained model interpolated with its starting weights.

Both models must have the same architecture (the same parameter names and shapes) and the same
tokenizer: a model trained after a vocabulary transplant (``--tokenizer``) has other embedding
rows than its base, and averaging rows of different tokens means nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from langgap import atomic
from langgap.encoders.resolve import resolve_model
from langgap.encoders.st import load_model, save_model
from langgap.errors import InputError
from langgap.training.card import base_model


def check_alpha(alpha: float, option: str = "--alpha") -> float:
    """``alpha`` if it lies in [0, 1], else :class:`InputError` naming ``option``."""
    if not 0.0 <= alpha <= 1.0:  # also refuses NaN
        raise InputError(f"{option} must be in [0, 1] (1: the tuned model, 0: the base), got {alpha}")
    return float(alpha)


def interpolate(base: Mapping[str, Tensor], tuned: Mapping[str, Tensor], alpha: float) -> dict[str, Tensor]:
    """``(1 − alpha) · base + alpha · tuned`` for every floating-point tensor; other tensors
    (integer buffers such as position ids) must be equal and are taken from ``tuned``.

    Raises:
        InputError: different parameter names or shapes (another architecture), or integer
            buffers that differ.
    """
    check_alpha(alpha)
    if set(base) != set(tuned):
        only = sorted(set(base) ^ set(tuned))
        raise InputError(f"the models have different parameters ({len(only)} not in both, e.g. {only[0]})")
    out: dict[str, Tensor] = {}
    for name, t in tuned.items():
        b = base[name]
        if b.shape != t.shape:
            raise InputError(f"the models differ in {name}: shape {tuple(b.shape)} vs {tuple(t.shape)}")
        b = b.to(device=t.device, dtype=t.dtype)  # the starting weights may wait on the CPU
        if t.is_floating_point():
            mixed = torch.lerp(b, t, alpha) if 0.0 < alpha < 1.0 else (t if alpha else b)
            out[name] = mixed.detach().clone()
        elif torch.equal(b, t):
            out[name] = t.detach().clone()
        else:
            raise InputError(f"the models differ in the non-float tensor {name}: they cannot be interpolated")
    return out


def check_same_tokenizer(base: Any, tuned: Any) -> None:
    """:class:`InputError` unless both tokenizers map the same pieces to the same ids."""
    a, b = base.tokenizer.get_vocab(), tuned.tokenizer.get_vocab()
    if a != b:
        raise InputError(
            f"the models have different tokenizers ({len(a):,} vs {len(b):,} pieces; a vocabulary "
            "transplant, say): their embedding rows stand for different tokens and cannot be interpolated"
        )


@dataclass(frozen=True)
class Merged:
    """What :func:`merge` wrote."""

    folder: Path
    alpha: float
    base: str
    tuned: str
    parameters: int  # floating-point values interpolated


def merge(base: str | Path, tuned: str | Path, alpha: float, out: str | Path) -> Merged:
    """Write ``out``: the sentence-transformers folder of ``(1 − alpha) · base + alpha · tuned``,
    with the tuned model's prompts (its default one too), input length and modules, and a model
    card. ``out`` is written whole or not at all.

    Raises:
        InputError: ``alpha`` outside [0, 1], a model that cannot be loaded, different
            architectures or tokenizers, ``out`` holding something other than a model folder.
    """
    check_alpha(alpha)
    out = Path(out)
    for given in (base, tuned):
        if Path(given).expanduser().resolve() == out.expanduser().resolve():
            raise InputError(f"--out {out} is one of the models merged: give a new folder")
    atomic.check_out_dir(out, ("modules.json", "config.json"), "model folder")
    base_model = load_model(resolve_model(str(base))[0], str(base), device="cpu")
    tuned_model = load_model(resolve_model(str(tuned))[0], str(tuned), device="cpu")
    check_same_tokenizer(base_model, tuned_model)
    state = interpolate(base_model.state_dict(), tuned_model.state_dict(), alpha)
    tuned_model.load_state_dict(state)
    with atomic.staged_dir(out) as tmp:
        save_model(tuned_model, tmp, None)  # the tuned model's prompts and default prompt, as they are
        atomic.write_text(tmp / "README.md", merge_card(str(base), str(tuned), alpha))
    values = sum(t.numel() for t in state.values() if t.is_floating_point())
    return Merged(out, alpha, str(base), str(tuned), values)


def merge_card(base: str, tuned: str, alpha: float) -> str:
    """The README.md of an interpolated model: what was mixed, in which proportion, and why."""
    meta, local = base_model(base)
    return "\n".join(
        [
            "---",
            *meta,
            "library_name: sentence-transformers",
            "pipeline_tag: sentence-similarity",
            "tags:",
            "- sentence-transformers",
            "- langgap",
            "- wise-ft",
            "---",
            "",
            f"# Interpolation of {base} and {tuned}",
            "",
            f"Every weight is `(1 - α) · base + α · tuned` with **α = {alpha:g}** (WiSE-FT, Wortsman et al. "
            "2022), written by `langgap merge`. α = 1 is the tuned model, α = 0 the base: the interpolation "
            "keeps part of the tuned model's cross-language gain and gives back part of the base model's "
            "same-language geometry. Measure both with `langgap measure`.",
            "",
            f"- **Base model:** `{base}`{local}",
            f"- **Tuned model:** `{tuned}` (its card says how it was trained)",
            f"- **α:** {alpha:g}",
            "",
        ]
    )
