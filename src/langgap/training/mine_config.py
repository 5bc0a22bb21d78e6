"""The ``mine`` part of :class:`~langgap.training.config.TrainConfig`: training from monolingual
text by mining (``--mine-from DIR``, :mod:`langgap.training.mined`), round after round.

``--mine-from`` itself is a data source (:class:`~langgap.training.config.DataConfig`); this part
holds how each round mines and filters (:mod:`langgap.mining.filters`).
"""

from __future__ import annotations

from dataclasses import dataclass

from langgap.errors import InputError
from langgap.mining.filters import DEFAULT_MAX_RATIO, PairFilter
from langgap.training.settings import at_least, tuples


@dataclass(frozen=True)
class MineConfig:
    """Rounds of mine-then-train, and the mining and filters of each round."""

    rounds: int = 1  # mine with the current model, train on the pairs; again with the new model
    mine_k: int = 4  # neighbours of the margin (langgap mine's --k)
    mine_threshold: float | None = None  # margin score a pair must reach (None: langgap mine's default)
    mine_calibrate: bool = False  # per language with --mine-dev pairs: their F1-best threshold instead
    mine_max_ratio: float = DEFAULT_MAX_RATIO  # longest / shortest side in characters (0: no limit)
    mine_cap: int = 0  # pairs kept per language and round, best first (0: no cap)
    mine_dev: tuple[str, ...] = ()  # known <x>-<pivot>.tsv pairs among the texts: precision/recall/F1

    def __post_init__(self) -> None:
        tuples(self, "mine_dev")
        at_least(self, 1, "rounds", "mine_k")
        PairFilter(self.mine_threshold or 0.0, self.mine_max_ratio, self.mine_cap)  # its checks
        if self.mine_calibrate and not self.mine_dev:
            raise InputError(
                "--mine-calibrate finds each language's threshold on --mine-dev pairs: give --mine-dev"
            )
        if self.mine_calibrate and self.mine_threshold is not None:
            raise InputError("give --mine-threshold or --mine-calibrate, not both")

    @property
    def used(self) -> bool:
        """Whether any setting differs from its default (they need ``--mine-from``)."""
        return self != MineConfig()
