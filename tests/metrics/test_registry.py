"""The metric registry: registering, looking up (adapted keys too), and the views writers read."""

from __future__ import annotations

import pytest

from langgap.kinds import TaskKind
from langgap.metrics import registry
from langgap.metrics.registry import Metric, Summary


@pytest.fixture
def fresh(monkeypatch):
    """Empty tables for the duration of a test (the real ones are filled at import)."""
    monkeypatch.setattr(registry, "METRICS", {})
    monkeypatch.setattr(registry, "SUMMARIES", {})
    return registry


def test_register_puts_each_kind_of_entry_in_its_own_table(fresh):
    m = Metric("acc", "acc", "accuracy", "share correct", "retrieval")
    s = Summary("acc", "acc", "mean accuracy", "mean over tasks", of=("acc",))
    assert fresh.register(m) is m
    assert fresh.register(s) is s  # a summary may share the key of the metric it averages
    assert fresh.METRICS == {"acc": m} and fresh.SUMMARIES == {"acc": s}
    with pytest.raises(ValueError, match="^metric 'acc' is already registered$"):
        fresh.register(Metric("acc", "a", "b", "c", "detail"))
    with pytest.raises(ValueError, match="^summary 'acc' is already registered$"):
        fresh.register(Summary("acc", "a", "b", "c"))
    assert fresh.METRICS["acc"] is m and fresh.SUMMARIES["acc"] is s  # the first entry stays


def test_get_and_lookup_find_metrics_summaries_and_adapted_keys():
    assert registry.get("pair_cosine") is registry.METRICS["pair_cosine"]
    assert registry.get("bitext_accuracy") is registry.SUMMARIES["bitext_accuracy"]
    assert registry.get("bitext_accuracy+procrustes") is registry.SUMMARIES["bitext_accuracy"]
    assert registry.lookup("language_id_accuracy") is registry.METRICS["language_id_accuracy"]  # metric first
    assert registry.lookup("no_such_key") is None
    with pytest.raises(KeyError, match="unknown metric 'xsim_eror'.*did you mean 'xsim_error'"):
        registry.get("xsim_eror")


def test_labels_and_directions():
    assert registry.label("xsim_error") == "xSIM err"
    assert registry.label("sts_gap+center") == "STS gap+center"
    assert registry.label("not_registered+center") == "not_registered+center"
    assert registry.greater_is_better("random_cosine") is False
    assert registry.greater_is_better("bitext_accuracy+center") is True
    assert registry.greater_is_better("not_registered") is True
    assert registry.METRICS["random_cosine"].direction == "lower is better"
    assert registry.METRICS["pair_cosine"].direction == "higher is better"
    assert registry.SUMMARIES["sts_gap"].direction == "lower is better"
    assert registry.SUMMARIES["bitext_accuracy"].direction == "higher is better"


def test_views_in_registry_order(fresh):
    def fn(*args):
        return None

    entries = [
        Metric(
            "p1",
            "p1",
            "p1",
            "",
            "retrieval",
            pair=fn,
            compare=registry.Resample(frozenset({TaskKind.BITEXT})),
        ),
        Metric("l1", "l1", "l1", "", "alignment", languages=fn),
        Metric("d1", "d1", "d1", "", "detail", table=False, compare=registry.Resample(registry.PARALLEL)),
        Metric("p2", "p2", "p2", "", "alignment", pair=fn),
        Metric("g1", "g1", "g1", "", "paraphrase"),
    ]
    for m in entries:
        fresh.register(m)
    assert [m.key for m in fresh.pair_metrics()] == ["p1", "p2"]
    assert [m.key for m in fresh.language_metrics()] == ["l1"]
    assert [m.key for m in fresh.compared(TaskKind.BITEXT)] == ["p1", "d1"]
    assert [m.key for m in fresh.compared(TaskKind.MULTIWAY)] == ["d1"]
    assert [m.key for m in fresh.compared(TaskKind.STS)] == []
    groups = fresh.table_groups(["p1", "l1", "d1", "p2", "g1"])
    assert {t: [m.key for m in ms] for t, ms in groups.items()} == {
        "Retrieval (bitext mining)": ["p1"],
        "Alignment and language signal": ["l1", "p2"],
        "Paraphrase (anchor/positive cosine)": ["g1"],
    }
    assert list(fresh.table_groups(["p2"])) == ["Alignment and language signal"]  # only present keys


def test_budget_samples_the_same_rows_in_every_run_and_version():
    """The sampled rows depend only on (seed, n): another run, or another langgap version, on the
    same data measures the same rows (so ``langgap compare`` pairs like with like); seed 0 unless
    asked."""
    budget = registry.Budget(exact_rows=10, sample_rows=6)
    assert budget.rows(10) is None
    assert budget.rows(50).tolist() == [1, 5, 20, 21, 39, 40]  # stored: a change breaks comparisons
    assert budget.rows(50, seed=0).tolist() == [1, 5, 20, 21, 39, 40]
    assert budget.rows(50, seed=1).tolist() == [1, 12, 13, 30, 32, 33]
    assert registry.Budget(exact_rows=3, sample_rows=9).rows(5).tolist() == [0, 1, 2, 3, 4]


def test_ranked_keys_have_a_better_direction_settings_and_counts_none():
    """A threshold (unit score), a count or a flag is no better higher or lower; every measured
    metric is, and so is an unregistered key (as ``greater_is_better`` assumes)."""
    assert registry.ranked("pair_cosine") and registry.ranked("bitext_accuracy+center")
    assert registry.ranked("not_registered")
    assert not registry.ranked("mining_threshold") and not registry.ranked("mining_threshold+center")
    assert not registry.ranked("mining_gold_pairs")
    for key in ("mining_threshold", "mining_gold_pairs", "pair_cosine"):
        assert registry.ranked(key) is registry.get(key).ranked


def test_everything_after_the_first_plus_is_a_suffix():
    assert registry.lookup("pair_cosine+procrustes+center") is registry.METRICS["pair_cosine"]
    assert (
        registry.label("pair_cosine+procrustes+center")
        == registry.METRICS["pair_cosine"].label + "+procrustes+center"
    )
