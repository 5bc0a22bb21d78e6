"""Training/evaluation overlap counting (its report in a training run: test_loop.py)."""

from __future__ import annotations

from langgap.training.overlap import normalize, text_overlap


def test_normalize_folds_case_and_spacing():
    assert normalize("  A  man\tplays ") == normalize("a man plays") == "a man plays"
    assert normalize("Straße") == normalize("STRASSE")  # full case folding, not lower()


def test_text_overlap_counts_distinct_shared_texts():
    train = ["A dog runs.", "Ein Hund rennt.", "A cat sleeps."]
    evals = {"e1": ["a dog runs.", "a dog runs.", "A bird sings."], "e2": ["x"], "empty": []}
    rows = text_overlap(iter(train), evals)
    assert [(r.name, r.texts, r.shared) for r in rows] == [("e1", 2, 1), ("e2", 1, 0), ("empty", 0, 0)]
    assert rows[0].share == 0.5 and rows[2].share == 0.0
