"""A report a newcomer can read: a sentence per task, every number with its name, direction and
chance level from the metric registry, 24 languages told apart, nothing wider than the page."""

from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import ToyEncoder, write_bitext, write_multiway
from langgap.measuring import measure
from langgap.metrics import registry
from langgap.report.document import build_document, write_report
from langgap.report.headline import headline, signal_strength
from langgap.report.plots import language_style
from langgap.report.tables import summary_table, tasks_tables
from langgap.tasks import bitext_task, multiway_task, sample_task
from report.test_report_html import _chromium

LANGS = [f"l{i:02d}" for i in range(24)]


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """24 languages (wide per-pair tables, a crowded projection), a bitext and the sample."""
    d = tmp_path_factory.mktemp("wide")
    tasks = [
        sample_task(),
        bitext_task(write_bitext(d / "deu-eng.tsv", "deu", "eng", 30)),
        multiway_task(write_multiway(d / "mw", LANGS, 20)),
    ]
    results = measure(ToyEncoder(dim=16, gap=1.5), tasks)
    out = tmp_path_factory.mktemp("wide_run")
    results.save(out)
    write_report(results, out)
    return results, out


def test_signal_strength_words():
    assert signal_strength(0.972, 0.1) == "strong" and signal_strength(0.4, 0.1) == "moderate"
    assert signal_strength(0.15, 0.1) == "weak" and signal_strength(0.1, 0.1) == "no"


def test_headline_speaks_of_retrieval_and_the_language_signal(wide):
    results, _ = wide
    bt = results.task("bitext:deu-eng")
    m = bt.metrics
    acc = (m["accuracy_src2tgt"] + m["accuracy_tgt2src"]) / 2
    text = headline(bt)
    assert text.startswith(
        f"Translations are retrieved {100 * acc:.0f}% of the time; a linear probe still tells"
    )
    assert f"(chance {100 * m['language_id_chance']:.0f}%)" in text and "language signal" in text
    assert "paraphrases score" in headline(results.task("sample"))


def test_first_screen_is_headlines_then_summary_in_words(wide):
    results, out = wide
    blocks = build_document(results)
    assert [type(b).__name__ for b in blocks[:4]] == ["Heading", "Heading", "Bullets", "TableBlock"]
    title, headers, rows = summary_table(results)
    assert headers == ["metric", "value", "better", "chance"]
    by_name = {r[0]: r for r in rows}
    lid = by_name[registry.METRICS["language_id_accuracy"].name]
    chance = np.mean([t.metrics["language_id_chance"] for t in results.tasks])
    assert lid[2] == "↓" and lid[3] == f"{chance:.3f}"  # no raw keys, a direction, the chance level
    assert by_name[registry.SUMMARIES["bitext_accuracy"].name][2] == "↑"
    for _, headers, _ in tasks_tables(results):
        assert all(h.endswith((" ↑", " ↓")) for h in headers[2:])
    md = (out / "report.md").read_text(encoding="utf-8")
    assert md.index("## At a glance") < md.index("### Summary") < md.index("## Model")
    assert (
        "**lang-ID** (lower is better): language-ID probe accuracy" in md and "1 / number of languages" in md
    )


def test_24_languages_get_24_distinct_styles():
    styles = [language_style(i) for i in range(140)]
    assert len(set(styles)) == 140
    colours = {language_style(i)[0] for i in range(20)}
    assert len(colours) == 20


def test_no_horizontal_overflow_at_1280_px(wide, tmp_path):
    """The real browser: the page is no wider than a 1,280 px window (wide tables scroll in their box)."""
    _, out = wide
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<h3>multiway:mw: per language pair</h3>" in html
    probe = tmp_path / "probe.html"
    script = (
        "<script>window.onload=()=>{document.body.setAttribute('data-overflow',"
        "document.documentElement.scrollWidth-window.innerWidth)}</script>"
    )
    probe.write_text(html.replace("</body>", script + "</body>"), encoding="utf-8")
    args = ["--window-size=1280,900", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()]
    proc = _chromium(args, tmp_path / "profile")
    assert proc.returncode == 0, proc.stderr[-2000:]
    overflow = re.search(r'data-overflow="(-?\d+)"', proc.stdout)
    assert overflow is not None and int(overflow.group(1)) <= 0, overflow
