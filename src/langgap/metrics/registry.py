"""The metric registry: one entry per metric key, read by every scorer and writer.

Each :class:`Metric` says what a key in ``TaskResult.metrics`` (or ``per_pair`` /
``per_language``) means: its short ``label`` (table columns), ``name`` and ``description``
(reports), ``unit``, direction (``greater_is_better``), report ``group``, the key of its
``chance`` level, how ``langgap compare`` resamples it (:class:`Resample`), and, for the metrics
the scorers compute generically, the function that computes it:

- ``pair``: ``fn(p: PairInput) -> (N,)`` per-row outcomes for row-aligned embeddings of one
  language pair (``p.a`` source, ``p.b`` target; ``p.knn(forward)`` is the k-nearest-neighbour
  search, done once per direction and shared); the metric is their mean (NaN ignored), per pair,
  and averaged over pairs for multi-language tasks;
- ``languages``: ``fn(x: LanguagesInput) -> (n,)`` per-item outcomes over all languages of a
  parallel task at once (``x.per_lang``: L arrays (N, D), row ``i`` the same sentence); the metric
  is their mean (NaN ignored), and ``chance_fn(L, N)`` its chance level.

Big tasks stay in bounded memory and time: the metrics whose cost grows with N x N per item
(ranking Spearman, the language-ID probe, neighbour purity, strong alignment) look at every row
up to :attr:`Budget.exact_rows` rows and beyond that at a seeded sample of
:attr:`Budget.sample_rows` rows (``rows`` of the inputs; the same rows for every language pair
and for two runs on the same data, so ``compare`` stays paired).

:class:`Summary` entries are the headline numbers of a run (``Results.summary``): means of task
metrics over the tasks of some kinds.

The entries live in :mod:`langgap.metrics.catalog`, which ``import langgap.metrics`` loads;
adding a metric is one entry there plus its function (see ``docs/architecture.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from langgap.errors import InputError, did_you_mean
from langgap.kinds import TaskKind
from langgap.metrics.similarity import topk_cosine
from langgap.metrics.stats import StatFn, mean_stat

Group = Literal[
    "retrieval",
    "alignment",
    "sts",
    "paraphrase",
    "language",
    "detail",
    "coverage",
    "mining",
    "mining_default",
]
Unit = Literal["fraction", "correlation", "cosine", "difference", "flag", "score", "count"]
UNRANKED: frozenset[str] = frozenset({"score", "count", "flag"})  # units of settings and counts
PairFn = Callable[["PairInput"], np.ndarray]  # -> (N,)
LanguagesFn = Callable[["LanguagesInput"], np.ndarray]  # -> (n,)

BITEXT, MULTIWAY, STS, SAMPLE = TaskKind.BITEXT, TaskKind.MULTIWAY, TaskKind.STS, TaskKind.SAMPLE
MINING = TaskKind.MINING
PARALLEL = frozenset({BITEXT, MULTIWAY, SAMPLE})
MULTI = frozenset({MULTIWAY, SAMPLE})

GROUP_TITLES: dict[str, str] = {
    "retrieval": "Retrieval (bitext mining)",
    "alignment": "Alignment and language signal",
    "paraphrase": "Paraphrase (anchor/positive cosine)",
    "mining": "Mining (BUCC-style), at the F1-best threshold",
    "mining_default": "Mining (BUCC-style), at langgap mine's default threshold",
}


@dataclass(frozen=True)
class Budget:
    """How much of a big task the quadratic metrics see: every row up to ``exact_rows``, else a
    seeded sample of ``sample_rows`` rows."""

    exact_rows: int = 5000
    sample_rows: int = 2000

    def check(self) -> Budget:
        """This budget, or :class:`InputError` when it cannot bound a task (``langgap measure``
        and :func:`langgap.measure` call it before any work)."""
        if not 4 <= self.sample_rows <= self.exact_rows:
            raise InputError(
                f"need 4 <= --sample-rows <= --exact-rows, got {self.sample_rows} and {self.exact_rows}"
            )
        return self

    def rows(self, n: int, seed: int = 0) -> np.ndarray | None:
        """``None`` (all rows) up to ``exact_rows``, else sorted sampled row ids, seeded by
        ``(seed, n)``: the same rows for every pair of a task and for another run on its data."""
        if n <= self.exact_rows:
            return None
        rng = np.random.default_rng(np.random.SeedSequence([seed, n, 0x5A4D]))
        return np.sort(rng.choice(n, size=min(self.sample_rows, n), replace=False))


@dataclass
class PairInput:
    """One aligned language pair as the per-pair metrics see it."""

    a: np.ndarray  # (N, D) source
    b: np.ndarray  # (N, D) target, row i translates a[i]
    k: int = 4  # neighbourhood of margin scoring
    seed: int = 0
    budget: Budget = field(default_factory=Budget)
    _knn: dict[bool, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    def knn(self, forward: bool) -> tuple[np.ndarray, np.ndarray]:
        """``topk_cosine(a, b, k)`` (forward) or ``(b, a, k)``, searched once and kept."""
        if forward not in self._knn:
            x, y = (self.a, self.b) if forward else (self.b, self.a)
            self._knn[forward] = topk_cosine(x, y, self.k)
        return self._knn[forward]

    @property
    def rows(self) -> np.ndarray | None:
        return self.budget.rows(len(self.a), self.seed)


@dataclass
class LanguagesInput:
    """The same N sentences in L languages, as the all-languages metrics see them."""

    per_lang: list[np.ndarray]  # L arrays (N, D)
    seed: int = 0
    budget: Budget = field(default_factory=Budget)

    @property
    def rows(self) -> np.ndarray | None:
        return self.budget.rows(len(self.per_lang[0]), self.seed)


@dataclass(frozen=True)
class Resample:
    """How ``langgap compare`` resamples a metric over items (rows, STS pairs).

    Attributes:
        kinds: task kinds whose comparison includes the metric.
        items: per-item arrays (``items.npz`` keys, per language pair ``<pair>/<key>`` in
            multi-language tasks); with ``combine="mean"`` their per-item mean (over these keys
            and over language pairs) is resampled, with ``"separate"`` they are passed to
            ``stat`` side by side (STS: cosine and gold).
        stat: the vectorised statistic of :mod:`langgap.metrics.stats`.
        transform: applied to the per-item mean before resampling (xSIM: ``1 - accuracy``).
    """

    kinds: frozenset[TaskKind]
    items: tuple[str, ...] = ()  # default: the metric's own key
    stat: StatFn = mean_stat
    combine: Literal["mean", "separate"] = "mean"
    transform: Callable[[np.ndarray], np.ndarray] | None = None


@dataclass(frozen=True)
class Metric:
    """One metric key; see the module docstring."""

    key: str
    label: str  # short column header
    name: str  # in words, for reports
    description: str
    group: Group
    unit: Unit = "fraction"
    greater_is_better: bool = True
    chance: str | None = None  # the key of the chance level in the same metrics dict
    table: bool = True  # a column of the per-task tables
    pair: PairFn | None = None
    languages: LanguagesFn | None = None
    chance_fn: Callable[[int, int], float] | None = None  # (languages, rows) -> chance level
    compare: Resample | None = None

    @property
    def ranked(self) -> bool:
        """Does a higher (or lower) value mean better? Not for a setting such as a threshold."""
        return self.unit not in UNRANKED

    @property
    def direction(self) -> str:
        if not self.ranked:
            return "a setting, neither better nor worse"
        return "higher is better" if self.greater_is_better else "lower is better"


@dataclass(frozen=True)
class Summary:
    """A headline number: the mean over tasks of ``kinds`` (all kinds if ``None``) of each key in
    ``of``, then the mean of those means (all must be present); or ``derive(summary)``."""

    key: str
    label: str
    name: str
    description: str
    of: tuple[str, ...] = ()
    kinds: frozenset[TaskKind] | None = None
    where: tuple[str, float] | None = None  # only tasks with metrics[where[0]] == where[1]
    derive: Callable[[dict[str, float]], float | None] | None = None
    unit: Unit = "fraction"
    greater_is_better: bool = True
    chance: str | None = None

    @property
    def direction(self) -> str:
        return "higher is better" if self.greater_is_better else "lower is better"


METRICS: dict[str, Metric] = {}
SUMMARIES: dict[str, Summary] = {}


def register(entry: Metric | Summary) -> Metric | Summary:
    """Add an entry; a key registered twice in its table is an error (a summary may share the key
    of the task metric it averages, as ``language_id_accuracy`` does)."""
    table: dict = METRICS if isinstance(entry, Metric) else SUMMARIES
    if entry.key in table:
        raise ValueError(f"{type(entry).__name__.lower()} {entry.key!r} is already registered")
    table[entry.key] = entry
    return entry


def lookup(key: str) -> Metric | Summary | None:
    """The entry of ``key`` (an adapted summary key ``<key>+center`` finds ``<key>``), or ``None``."""
    base = key.split("+", 1)[0]
    return METRICS.get(base) or SUMMARIES.get(base)


def get(key: str) -> Metric | Summary:
    """Like :func:`lookup`, but an unknown key is an error with "did you mean"."""
    entry = lookup(key)
    if entry is None:
        raise KeyError(f"unknown metric {key!r}{did_you_mean(key, [*METRICS, *SUMMARIES])}")
    return entry


def label(key: str) -> str:
    """The short label of ``key`` (the key itself if unregistered), with an adapt suffix kept."""
    entry = lookup(key)
    if entry is None:
        return key
    suffix = key[len(key.split("+", 1)[0]) :]
    return entry.label + suffix


def greater_is_better(key: str) -> bool:
    """Direction of ``key``; unregistered keys count as higher-is-better."""
    entry = lookup(key)
    return True if entry is None else entry.greater_is_better


def ranked(key: str) -> bool:
    """Whether ``key`` has a better direction (a threshold or a count has none)."""
    entry = lookup(key)
    return entry is None or entry.unit not in UNRANKED


def pair_metrics() -> list[Metric]:
    """Metrics computed per aligned language pair, in registry order."""
    return [m for m in METRICS.values() if m.pair is not None]


def language_metrics() -> list[Metric]:
    """Metrics computed over all languages of a parallel task at once, in registry order."""
    return [m for m in METRICS.values() if m.languages is not None]


def compared(kind: TaskKind) -> list[Metric]:
    """Metrics ``langgap compare`` resamples for tasks of ``kind``, in registry order."""
    return [m for m in METRICS.values() if m.compare is not None and kind in m.compare.kinds]


def table_groups(keys: Iterable[str]) -> dict[str, list[Metric]]:
    """``{group title: metrics}`` of the per-task tables, restricted to ``keys``, registry order."""
    present = set(keys)
    out: dict[str, list[Metric]] = {}
    for title_key, title in GROUP_TITLES.items():
        group = [m for m in METRICS.values() if m.table and m.group == title_key and m.key in present]
        if group:
            out[title] = group
    return out
