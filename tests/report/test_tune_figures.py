"""The figures of a tune study: what each draws, checked on the artists (not pixels)."""

from __future__ import annotations

import itertools

from langgap.report.tune import history_figure, settings_figure, write_tune_figures
from langgap.training.study import TrialRecord


def _trials():
    return [
        TrialRecord(
            0, "complete", 0.5, {"lr": 1e-5, "labels": "priority", "pairs": ["a/x-y.tsv"]}, {5: 0.4}, 3.0, ""
        ),
        TrialRecord(
            1, "pruned", None, {"lr": 1e-3, "labels": "average", "pairs": []}, {5: 0.2, 10: 0.1}, 2.0, ""
        ),
        TrialRecord(2, "complete", 0.7, {"lr": 5e-4, "labels": "average", "pairs": []}, {5: 0.6}, 3.0, ""),
        TrialRecord(3, "failed", None, {"lr": 2e-5, "labels": "priority", "pairs": []}, {}, 1.0, "diverged"),
        TrialRecord(4, "complete", 0.6, {"lr": 2e-4, "labels": "priority", "pairs": []}, {}, 3.0, ""),
    ]


def test_history_draws_scores_pruned_last_reports_and_the_best_so_far():
    fig = history_figure(_trials())
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert list(lines["complete"].get_xdata()) == [0, 2, 4] and list(lines["complete"].get_ydata()) == [
        0.5,
        0.7,
        0.6,
    ]
    assert list(lines["pruned (last report)"].get_xdata()) == [1]
    assert list(lines["pruned (last report)"].get_ydata()) == [0.1]  # its last report, at step 10
    assert list(lines["best so far"].get_ydata()) == list(itertools.accumulate([0.5, 0.7, 0.6], max))
    assert history_figure([t for t in _trials() if t.state != "complete"]) is None


def test_settings_has_a_panel_per_setting_with_choices_as_categories():
    fig = settings_figure(_trials(), ["lr", "labels", "pairs"])
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["lr", "labels", "pairs"]
    lr = visible[0]
    assert list(lr.get_lines()[0].get_xdata()) == [1e-5, 5e-4, 2e-4] and lr.get_xscale() == "log"
    assert [t.get_text() for t in visible[1].get_xticklabels()] == ["average", "priority"]
    assert [t.get_text() for t in visible[2].get_xticklabels()] == ["(none)", "x-y"]
    assert list(visible[1].get_lines()[0].get_xdata()) == [1, 0, 1]


def test_write_tune_figures(tmp_path):
    paths = write_tune_figures(_trials(), ["lr"], tmp_path)
    assert [p.name for p in paths] == ["tune_history.png", "tune_settings.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)
    assert write_tune_figures(_trials()[1:2], ["lr"], tmp_path / "none") == []
