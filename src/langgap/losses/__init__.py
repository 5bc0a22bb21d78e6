"""Training losses: pure functions of embeddings, each with a thin ``nn.Module`` wrapper.

- :func:`info_nce` — bidirectional in-batch InfoNCE, temperature, LaBSE additive margin;
- :func:`soft_labels`, :func:`soft_contrastive` — Park et al. 2024 soft contrastive learning
  (``priority`` / ``average`` teacher labels, TCM monolingual terms); one-hot labels give InfoNCE;
- :func:`mse_distill` — Reimers & Gurevych 2020 multilingual distillation;
- :func:`relational_distill` — same-language cosines held to the starting model's (``--preserve``);
- :func:`all_gather_with_grad` — negatives from all processes (``gather=True``);
- :func:`cached_backward` and friends — GradCache: big batches, one chunk of activations at a time.

Importing this package imports torch; ``langgap`` itself does not import it.
"""

from __future__ import annotations

from langgap.losses.cached import cached_backward, cached_info_nce, cached_soft_contrastive
from langgap.losses.contrastive import InfoNCELoss, info_nce
from langgap.losses.distill import MSEDistillLoss, mse_distill
from langgap.losses.distributed import all_gather_with_grad, is_distributed, rank_and_world_size
from langgap.losses.relational import RelationalDistillLoss, relational_distill
from langgap.losses.soft import LabelMode, SoftContrastiveLoss, soft_contrastive, soft_labels

__all__ = [
    "InfoNCELoss",
    "LabelMode",
    "MSEDistillLoss",
    "RelationalDistillLoss",
    "SoftContrastiveLoss",
    "all_gather_with_grad",
    "cached_backward",
    "cached_info_nce",
    "cached_soft_contrastive",
    "info_nce",
    "is_distributed",
    "mse_distill",
    "rank_and_world_size",
    "relational_distill",
    "soft_contrastive",
    "soft_labels",
]
