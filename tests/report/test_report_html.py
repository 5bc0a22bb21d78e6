"""report.md and report.html from one document: self-contained HTML (data URIs only), the same
content in both, a real headless Chromium render, and ``langgap report RUN_DIR``."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import langgap.cli.report  # noqa: F401  (registers `langgap report` until cli.main imports it)
from conftest import ToyEncoder, write_bitext, write_multiway
from langgap.errors import InputError
from langgap.measuring import measure
from langgap.report.document import save_run, write_report
from langgap.report.tables import pairs_table, summary_table, tasks_tables
from langgap.results import Results, load_results
from langgap.tasks import bitext_task, multiway_task, sts_task

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOADED = (
    "<script>window.onload=()=>{document.body.setAttribute('data-loaded',"
    "[...document.images].filter(i=>i.complete&&i.naturalWidth>0).length+'/'+document.images.length)}"
    "</script>"
)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Results, Path]:
    """A saved run (bitext, 4-language multi-way, mono and cross STS; the toy encoder of
    conftest) and the reports written into its directory."""
    d = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    for name, a, b in (("en-de", "eng", "deu"), ("en-en", "eng", "eng")):
        (d / f"{name}.tsv").write_text(
            "".join(f"{rng.uniform(0, 5):.2f}\t{a}:{i}\t{b}:{i}\n" for i in range(30)), encoding="utf-8"
        )
    tasks = [
        bitext_task(write_bitext(d / "deu-eng.tsv", "deu", "eng", 40)),
        multiway_task(write_multiway(d / "mw", ["eng", "deu", "fra", "jpn"], 30), "eng,deu,fra,jpn"),
        sts_task(d / "en-de.tsv"),
        sts_task(d / "en-en.tsv"),
    ]
    results = measure(ToyEncoder(gap=1.0), tasks)
    out = tmp_path_factory.mktemp("run")
    results.save(out)
    write_report(results, out)
    return results, out


def _figures(out: Path) -> list[Path]:
    return sorted(out.glob("*.png"))


def test_html_is_self_contained(run):
    results, out = run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    refs = re.findall(r"""\b(?:src|href)\s*=\s*["']?([^"'\s>]+)""", html)
    imgs = re.findall(r"<img\b[^>]*>", html)
    assert imgs and len(refs) == len(imgs)  # no link, script or stylesheet reference besides images
    assert all(r.startswith("data:image/png;base64,") for r in refs)
    assert "<link" not in html and "@import" not in html and "url(" not in html
    # every PNG beside report.md is embedded, byte for byte
    embedded = sorted(base64.b64decode(r.split(",", 1)[1]) for r in refs)
    assert embedded == sorted(p.read_bytes() for p in _figures(out))
    assert len(imgs) == 6  # projection, 2 heatmaps, histograms, bitext bars, STS bars


def test_html_and_markdown_have_the_same_content(run):
    results, out = run
    html = (out / "report.html").read_text(encoding="utf-8")
    md = (out / "report.md").read_text(encoding="utf-8")
    titles = [summary_table(results)[0], *[t[0] for t in tasks_tables(results)]]
    titles.append(pairs_table(results, "multiway:mw")[0])
    for title in titles:
        assert f"### {title}" in md and f"<h3>{title}</h3>" in html
    assert html.count("<table>") == md.count("\n|---") == len(re.findall(r"^\|---", md, re.M))
    for p in _figures(out):
        assert f"]({p.name})" in md
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", html)
    assert len(captions) == len(_figures(out))
    for cap in captions:
        assert cap.replace("&#x27;", "'") in md
    projection = next(c for c in captions if "coloured by language" in c)
    assert "PCA" in projection or "UMAP" in projection
    for d in results.data:
        assert d["sha256"][:12] in md and d["sha256"][:12] in html
    assert "ToyEncoder" in md and "ToyEncoder" in html and "dimension" in html


def test_save_run_writes_the_whole_run_folder_and_reads_back(run, tmp_path):
    results, _ = run
    written = save_run(results, tmp_path / "run")
    assert {"results.json", "items.npz", "report.md", "report.html", "projection_0.png"} <= set(written)
    assert all(p.parent == tmp_path / "run" and p.is_file() for p in written.values())
    assert load_results(tmp_path / "run").to_json() == results.to_json()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="holds other files"):
        save_run(results, tmp_path / "other")  # a folder of something else is refused, untouched
    assert [p.name for p in (tmp_path / "other").iterdir()] == ["notes.txt"]


def test_skipped_figure_notes(run, tmp_path):
    results, _ = run
    no_sts = replace(results, tasks=[t for t in results.tasks if t.kind != "sts"])
    written = write_report(no_sts, tmp_path)
    assert "sts_spearman.png" not in written
    for name in ("report.md", "report.html"):
        assert "no STS data: STS figure skipped" in written[name].read_text(encoding="utf-8")


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    if not Path(CHROMIUM).is_file():
        pytest.fail("chromium is not installed (apt-get install -y chromium; .ci/run installs it)")
    return subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_chromium_renders_report_with_every_figure(run, tmp_path):
    import matplotlib.image as mpimg

    _, out = run
    page = out / "report.html"
    shot = tmp_path / "shot.png"
    proc = _chromium([f"--screenshot={shot}", "--window-size=1200,2000", page.as_uri()], tmp_path / "p1")
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    assert shot.stat().st_size > 20_000
    pixels = mpimg.imread(shot)[..., :3]  # (H, W, 3) in [0, 1]
    assert pixels.shape[:2] == (2000, 1200)
    assert pixels.std() > 0.05 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # not blank

    probe = tmp_path / "probe.html"
    probe.write_text(
        page.read_text(encoding="utf-8").replace("</body>", LOADED + "</body>"), encoding="utf-8"
    )
    proc = _chromium(["--virtual-time-budget=5000", "--dump-dom", probe.as_uri()], tmp_path / "p2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    n = len(_figures(out))
    assert f'data-loaded="{n}/{n}"' in proc.stdout  # every figure decoded, none broken


def test_cli_report_rewrites_run_dir(cli, run, tmp_path):
    _, out = run
    run_dir = tmp_path / "run"
    shutil.copytree(out, run_dir)
    (run_dir / "report.html").unlink()
    (run_dir / "report.md").unlink()
    code, _, err = cli(["report", run_dir])
    assert code == 0, err
    assert (run_dir / "report.html").stat().st_size > 10_000 and "projection_0.png" in (
        run_dir / "report.md"
    ).read_text(encoding="utf-8")
    assert "report.html" in err

    code, _, err = cli(["report", run_dir / "results.json", "--out", tmp_path / "elsewhere", "-q"])
    assert code == 0, err
    assert {p.name for p in (tmp_path / "elsewhere").iterdir()} >= {
        "report.md",
        "report.html",
        "sts_spearman.png",
    }


def test_cli_report_without_items(cli, run, tmp_path):
    _, out = run
    (tmp_path / "run").mkdir()
    shutil.copy(out / "results.json", tmp_path / "run")
    code, _, err = cli(["report", tmp_path / "run"])
    assert code == 0, err
    md = (tmp_path / "run" / "report.md").read_text(encoding="utf-8")
    assert "cosine histograms skipped" in md and "bitext_accuracy.png" in md


def test_cli_report_bad_run_dir_exit_2(cli, tmp_path):
    code, _, err = cli(["report", tmp_path / "missing"])
    assert code == 2 and "no results.json" in err and "Traceback" not in err
    (tmp_path / "results.json").write_text("{not json")
    code, _, err = cli(["report", tmp_path])
    assert code == 2 and "not valid JSON" in err


def test_cli_report_unwritable_out_exit_2(cli, run, tmp_path):
    _, out = run
    (tmp_path / "a-file").write_text("x")
    code, _, err = cli(["report", out, "--out", tmp_path / "a-file"])
    assert code == 2 and "is a file; give a folder" in err and "Traceback" not in err
