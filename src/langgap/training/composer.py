"""Batch composer: every batch mixes language pairs at a chosen cross-language fraction.

Pairs
    Cross-language pairs from ``--pairs`` (or a ``--multiway`` folder), same-language pairs from
    ``--mono-pairs`` or, without those, SimCSE-style ``(x, x)`` pairs of every distinct training
    sentence (Gao et al. 2021; the two sides differ by dropout): :class:`~langgap.training.pairs.PairPool`.

Composition
    A batch of ``B`` pairs holds ``round(r * B)`` cross-language pairs (Python's ``round``,
    half to even) and ``B - round(r * B)`` same-language pairs, ``r`` the cross-language
    fraction. Cross pairs are drawn from the *union* of all pair files, shuffled once per
    epoch, so each file contributes in proportion to its size and batches mix language pairs
    (en-de next to en-fr); same-language pairs likewise from the union of their files. Inside
    a batch the two kinds are interleaved evenly, so a contiguous shard of it (one process
    under DDP) gets about the same fraction.

Language-balanced sampling
    With ``sampling_alpha`` the cross-language pairs are drawn by language pair with
    temperature sampling (p ∝ n^alpha, :func:`~langgap.training.pairs.balanced_order`) instead of one
    flat shuffle: an epoch is then as many draws as there are pairs; ``language_block`` N draws N
    pairs of one language pair at a time, so a batch holds about B / N language pairs.

Epoch
    An epoch is one pass over the *primary* pool: the cross-language pairs when the batch holds
    any (``round(r * B) >= 1``), else the same-language pairs. The other (*secondary*) pool is
    drawn without replacement from its own shuffle, reshuffled each time it runs out, so within
    an epoch its pairs appear about equally often.

No sentence twice in a batch
    With in-batch negatives every other pair's texts are negatives; a sentence that appears in
    two pairs of a batch would be a negative of itself (a false negative). So no text (exact
    string) appears in two pairs of one batch, on either side; a pair's own sides may be equal
    (SimCSE pairs are ``(x, x)``). A pair that would repeat a text is *deferred*: it goes to
    its pool's FIFO queue, which is tried first when the next batch is filled. Deferred pairs
    are not lost: with ``drop_last=False`` every primary pair appears exactly once per epoch
    (the last batches may be short). With ``drop_last=True`` (the default) every batch is
    full, and the epoch ends at the first batch that cannot be filled; the pairs left over
    (the usual remainder, plus deferred pairs that collide with each other, e.g. more copies of
    one sentence than there are batches) are reported in :attr:`EpochStats.unplaced`.

Determinism and position
    An epoch's plan is a pure function of (pairs, seed, epoch, batch size, fraction,
    drop_last): shuffles come from ``numpy`` generators seeded with
    ``SeedSequence([seed, epoch, pool, pass])``. The plan, deferral queues included, is
    computed when the epoch starts, so ``len()`` is exact, and the position in the data is
    just ``(epoch, batch index)``. :meth:`BatchComposer.state_dict` stores that, the options
    and a sha256 of the pairs; :meth:`BatchComposer.load_state_dict` recomputes the plan and
    continues with the same batches an uninterrupted run would have produced.

References:
    Gao, Yao, Chen (2021), "SimCSE: Simple Contrastive Learning of Sentence Embeddings",
    EMNLP. https://arxiv.org/abs/2104.08821
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from langgap.data.corpora import Bitext
from langgap.errors import InputError
from langgap.training.pairs import Batch, EpochStats, Pair, PairPool, PairStream, balanced_order
from langgap.training.pairs import check_language_block as check_block

logger = logging.getLogger(__name__)

STATE_FORMAT = "langgap.batch-composer/1"
_CROSS, _MONO = 0, 1  # pool ids, also part of the shuffle seeds
_WHAT = ("cross-language", "same-language")


@dataclass(frozen=True)
class _Plan:
    batches: list[tuple[list[int], list[int]]]  # (primary indices, secondary indices) per batch
    stats: EpochStats


# the options a checkpoint's composer must share with the one resuming it
_STATE_KEYS = (
    "seed batch_size cross_lingual_fraction drop_last sampling_alpha language_block pairs_sha256".split()
)


class BatchComposer:
    """Composes batches of cross- and same-language pairs; see the module docstring.

    Iterating yields the remaining :class:`Batch` es of the current epoch; after the last one
    the composer is at the start of the next epoch, so ``for batch in composer`` once per
    epoch walks through the epochs, and a state saved after an epoch resumes at the next.

    Args:
        cross: cross-language bitexts (``--pairs``).
        mono: same-language bitexts (``--mono-pairs``); ``None`` or ``[]``: SimCSE pairs.
        batch_size: pairs per batch, at least 2.
        cross_lingual_fraction: ``r`` in [0, 1]; a batch holds ``round(r * batch_size)``
            cross-language pairs.
        seed: non-negative integer; with the epoch it fixes every shuffle.
        drop_last: only full batches (see the module docstring); else the last ones may be short.
        sampling_alpha, language_block: language pairs by temperature, ``language_block`` pairs
            of one at a time (:func:`~langgap.training.pairs.balanced_order`).

    Raises:
        InputError: a bad option, a bitext with unequal sides, no pairs for a requested kind,
            or data that cannot fill one batch without repeating a sentence.
    """

    def __init__(
        self,
        cross: Sequence[Bitext],
        mono: Sequence[Bitext] | None = None,
        *,
        batch_size: int,
        cross_lingual_fraction: float,
        seed: int = 0,
        drop_last: bool = True,
        sampling_alpha: float | None = None,
        language_block: int = 1,
    ) -> None:
        if sampling_alpha is not None and not 0.0 <= sampling_alpha <= 1.0:
            raise InputError(f"--sampling-alpha must be in [0, 1], got {sampling_alpha:g}")
        check_block(language_block, sampling_alpha)
        self.sampling_alpha, self.language_block = sampling_alpha, language_block
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 2:
            raise InputError(f"batch size must be an integer >= 2 (in-batch negatives), got {batch_size!r}")
        r = cross_lingual_fraction
        if isinstance(r, bool) or not isinstance(r, int | float) or not math.isfinite(r) or not 0 <= r <= 1:
            raise InputError(
                f"cross_lingual_fraction (--cross-lingual-fraction) must be in [0, 1], got {r!r}"
            )
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise InputError(f"seed must be a non-negative integer, got {seed!r}")
        self.batch_size, self.cross_lingual_fraction = batch_size, float(r)
        self.seed, self.drop_last = seed, drop_last
        self.pool = PairPool.build(cross, mono)
        n_cross = round(r * batch_size)
        self.per_batch = (n_cross, batch_size - n_cross)  # (cross, same-language) pairs per batch
        if n_cross and not self.pool.cross:
            raise InputError(
                f"cross_lingual_fraction={r} asks for {n_cross} cross-language pairs per batch, "
                "but there are none: give --pairs files"
            )
        if self.per_batch[_MONO] and not self.pool.mono:
            raise InputError(
                f"cross_lingual_fraction={r} asks for {self.per_batch[_MONO]} same-language pairs per "
                "batch, but there are none: give --mono-pairs files, or --pairs files (their sentences "
                "then give SimCSE pairs)"
            )
        if (r > 0 and n_cross == 0) or (r < 1 and n_cross == batch_size):
            logger.warning(
                "cross_lingual_fraction=%s with batch size %d gives %d cross-language pairs per batch",
                r,
                batch_size,
                n_cross,
            )
        self._primary = _CROSS if n_cross else _MONO
        n_pool, need = len(self._pools[self._primary]), self.per_batch[self._primary]
        if drop_last and n_pool < need:
            raise InputError(
                f"{n_pool} {_WHAT[self._primary]} pairs cannot fill one batch, which holds {need} of them "
                f"(batch size {batch_size}, cross_lingual_fraction={r})"
            )
        self._epoch, self._index = 0, 0
        self._plans: dict[int, _Plan] = {}
        self._sha256: str | None = None
        self._plan(0)  # bad data fails here, not at the first step

    @property
    def _pools(self) -> tuple[list[Pair], list[Pair]]:
        return self.pool.cross, self.pool.mono

    @property
    def epoch(self) -> int:
        return self._epoch

    @property
    def batch_index(self) -> int:
        """Batches of the current epoch already yielded."""
        return self._index

    def epoch_stats(self, epoch: int) -> EpochStats:
        """How ``epoch`` was composed: batches, deferrals, unplaced pairs."""
        return self._plan(epoch).stats

    def __len__(self) -> int:
        """Batches in the current epoch (all of them, not only the remaining ones)."""
        return len(self._plan(self._epoch).batches)

    def set_epoch(self, epoch: int) -> None:
        """Move to the start of ``epoch``; a no-op when already in it (a restored position is kept)."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise InputError(f"epoch must be a non-negative integer, got {epoch!r}")
        if epoch != self._epoch:
            self._epoch, self._index = epoch, 0

    def __iter__(self) -> Iterator[Batch]:
        epoch = self._epoch
        plan = self._plan(epoch)
        while self._epoch == epoch and self._index < len(plan.batches):
            primary, secondary = plan.batches[self._index]
            self._index += 1
            if self._index == len(plan.batches):
                self._epoch, self._index = epoch + 1, 0
            yield self._batch(primary, secondary)

    def state_dict(self) -> dict[str, Any]:
        """The position (epoch, batch index), the options and the data hash; JSON-serialisable.

        Deferral queues and shuffles need no storing: they are recomputed from the seed.
        """
        if self._sha256 is None:
            self._sha256 = self.pool.sha256()
        options = {key: getattr(self, key) for key in _STATE_KEYS if key != "pairs_sha256"}
        position = {"format": STATE_FORMAT, "epoch": self._epoch, "batch_index": self._index}
        return position | options | {"pairs_sha256": self._sha256}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue where the composer that wrote ``state`` stopped (same options and pairs)."""
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise InputError(f"not a batch-composer state (expected format {STATE_FORMAT!r})")
        own = self.state_dict()
        for key in _STATE_KEYS:
            theirs = state.get(key, 1 if key == "language_block" else None)  # 1: written before the option
            if theirs != own[key]:
                what = "different training pairs" if key == "pairs_sha256" else f"{key}={theirs!r}"
                raise InputError(
                    f"the checkpoint's batch composer was built with {what}; this one has {key}={own[key]!r}"
                )
        epoch, index = state.get("epoch"), state.get("batch_index")
        if not isinstance(epoch, int) or not isinstance(index, int) or epoch < 0 or index < 0:
            raise InputError(f"bad batch-composer position: epoch={epoch!r}, batch_index={index!r}")
        n = len(self._plan(epoch).batches)
        if index > n:
            raise InputError(
                f"batch-composer position {index} is past the end of epoch {epoch} ({n} batches)"
            )
        self._epoch, self._index = (epoch + 1, 0) if index == n else (epoch, index)

    # -- composition -------------------------------------------------------------------------

    def _order(self, epoch: int, pool: int, pass_no: int) -> list[int]:
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, epoch, pool, pass_no]))
        if self.sampling_alpha is not None and pool == _CROSS:  # language pairs by temperature
            return balanced_order(self._pools[pool], self.sampling_alpha, rng, self.language_block)
        return rng.permutation(len(self._pools[pool])).tolist()

    def upcoming(self, batches: int) -> Iterator[Batch]:
        """The next ``batches`` batches from the current position (across epochs), without moving."""
        epoch, index, left = self._epoch, self._index, batches
        while left > 0:
            plan = self._plan(epoch)
            for primary, secondary in plan.batches[index : index + left]:
                yield self._batch(primary, secondary)
                left -= 1
            epoch, index = epoch + 1, 0

    def _plan(self, epoch: int) -> _Plan:
        if epoch in self._plans:
            return self._plans[epoch]
        p, s = self._primary, 1 - self._primary
        need_p, need_s = self.per_batch[p], self.per_batch[s]
        passes = 0

        def secondary_order() -> Iterator[int]:
            nonlocal passes
            while True:
                passes += 1
                yield from self._order(epoch, s, passes - 1)

        primary = PairStream(self._pools[p], iter(self._order(epoch, p, 0)))
        secondary = PairStream(self._pools[s], secondary_order())
        max_draws = 2 * len(self._pools[s])  # 2 passes hold a whole shuffle: every pair was tried
        batches: list[tuple[list[int], list[int]]] = []
        unplaced: list[int] = []
        while True:
            texts: set[str] = set()
            got_p = primary.fill(need_p, texts)
            if not got_p:
                break
            n_s = need_s
            if len(got_p) < need_p:  # primary pool exhausted; the rest collides within itself
                if self.drop_last:
                    unplaced = got_p + list(primary.queue)
                    break
                n_s = round(len(got_p) * need_s / need_p)
            got_s = secondary.fill(n_s, texts, max_draws) if n_s else []
            if len(got_s) < n_s:
                raise InputError(
                    f"cannot fill {n_s} {_WHAT[s]} places of batch {len(batches)} (epoch {epoch}) without "
                    f"repeating a sentence: {len(self._pools[s])} {_WHAT[s]} pairs have too few distinct "
                    "sentences for this batch size"
                )
            batches.append((got_p, got_s))
        if not batches:
            raise InputError(
                f"cannot compose a single batch of {need_p} {_WHAT[p]} pairs without repeating a sentence: "
                f"the {len(self._pools[p])} {_WHAT[p]} pairs share too many sentences"
            )
        stats = EpochStats(
            epoch=epoch,
            batches=len(batches),
            deferrals=primary.deferrals + secondary.deferrals,
            unplaced=[self._pools[p][j].source_id for j in unplaced],
            secondary_passes=passes,
        )
        logger.info(
            "epoch %d: %d batches, %d deferrals, %d %s pairs unplaced",
            epoch,
            stats.batches,
            stats.deferrals,
            len(stats.unplaced),
            _WHAT[p],
        )
        if len(self._plans) >= 2:  # keep the current epoch and one other
            self._plans.pop(next(e for e in self._plans if e != self._epoch))
        self._plans[epoch] = _Plan(batches, stats)
        return self._plans[epoch]

    def _batch(self, primary: list[int], secondary: list[int]) -> Batch:
        """Interleave cross and same-language pairs evenly: cross at slot t while c * n < (t + 1) * n_c."""
        cross, mono = (primary, secondary) if self._primary == _CROSS else (secondary, primary)
        n, n_c = len(cross) + len(mono), len(cross)
        pairs: list[Pair] = []
        flags: list[bool] = []
        c = m = 0
        for t in range(n):
            if c * n < (t + 1) * n_c:
                pairs.append(self.pool.cross[cross[c]])
                c += 1
                flags.append(True)
            else:
                pairs.append(self.pool.mono[mono[m]])
                m += 1
                flags.append(False)
        return Batch(
            texts_a=[q.text_a for q in pairs],
            texts_b=[q.text_b for q in pairs],
            langs_a=[q.lang_a for q in pairs],
            langs_b=[q.lang_b for q in pairs],
            is_cross=flags,
            source_ids=[q.source_id for q in pairs],
        )
