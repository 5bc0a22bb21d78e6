"""Integration: the offline multilingual-e5-small (4-bit-derived copy) on real data.

The model folder is built by scripts/setup.sh (``~/.cache/langgap/models`` or
``$LANGGAP_MODELS_DIR``); these tests fail, not skip, when it is missing.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import DATA, real_models_dir

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def me5():
    path = real_models_dir() / "multilingual-e5-small"
    assert (path / "config.json").is_file(), f"{path} missing: run scripts/setup.sh"
    return path


def test_measure_cli_on_tatoeba_and_sts17_agrees_with_direct_encode(cli, me5, tmp_path, monkeypatch):
    monkeypatch.setenv("LANGGAP_MODELS_DIR", str(me5.parent))
    lines = (DATA / "tatoeba" / "deu-eng.tsv").read_text(encoding="utf-8").splitlines()[:200]
    (tmp_path / "deu-eng.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = cli(
        [
            "measure",
            "--model",
            "intfloat/multilingual-e5-small",
            "--bitext",
            tmp_path / "deu-eng.tsv",
            "--sts",
            DATA / "sts17" / "en-de.tsv",
            "--out",
            tmp_path / "run",
            "-q",
        ]
    )
    assert code == 0, err
    assert "offline copy" not in err and "prompt" not in err  # -q: silent; results.json records it
    d = json.loads((tmp_path / "run" / "results.json").read_text())
    assert (
        d["model"]["prompt"] == "query: " and d["model"]["dimension"] == 384 and "offline_copy" in d["model"]
    )
    bt, sts = d["tasks"]

    # independent computation: sentence-transformers directly, numpy argmax and scipy
    from scipy.stats import spearmanr
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(me5))
    src = model.encode([x.split("\t")[0] for x in lines], prompt="query: ", normalize_embeddings=True)
    tgt = model.encode([x.split("\t")[1] for x in lines], prompt="query: ", normalize_embeddings=True)
    sims = src @ tgt.T
    assert bt["metrics"]["accuracy_src2tgt"] == pytest.approx(
        np.mean(sims.argmax(1) == np.arange(200)), abs=1e-9
    )
    assert bt["metrics"]["accuracy_tgt2src"] == pytest.approx(
        np.mean(sims.argmax(0) == np.arange(200)), abs=1e-9
    )
    assert bt["metrics"]["pair_cosine"] == pytest.approx(np.diag(sims).mean(), abs=1e-4)
    assert (
        bt["metrics"]["accuracy_src2tgt"] > 0.9
        and bt["metrics"]["pair_cosine"] > bt["metrics"]["random_cosine"] + 0.05
    )

    rows = [x.split("\t") for x in (DATA / "sts17" / "en-de.tsv").read_text(encoding="utf-8").splitlines()]
    e1 = model.encode([r[1] for r in rows], prompt="query: ", normalize_embeddings=True)
    e2 = model.encode([r[2] for r in rows], prompt="query: ", normalize_embeddings=True)
    rho = spearmanr((e1 * e2).sum(1), [float(r[0]) for r in rows]).statistic
    assert sts["metrics"]["spearman"] == pytest.approx(rho, abs=2e-3)
    assert sts["metrics"]["spearman"] > 0.6


def test_english_only_model_shows_a_gap_multilingual_does_not(me5, tmp_path):
    from langgap.encoders.st import SentenceTransformerEncoder
    from langgap.measuring import measure
    from langgap.tasks import multiway_task

    task = multiway_task(DATA / "flores200_sib" / "dev", "eng_Latn,deu_Latn,zho_Hans")
    lines = {}
    for lang in ("eng_Latn", "deu_Latn", "zho_Hans"):
        lines[lang] = (
            (DATA / "flores200_sib" / "dev" / f"{lang}.txt").read_text(encoding="utf-8").splitlines()[:80]
        )
        (tmp_path / f"{lang}.txt").write_text("\n".join(lines[lang]) + "\n", encoding="utf-8")
    task = multiway_task(tmp_path, "eng_Latn,deu_Latn,zho_Hans")
    multi = measure(SentenceTransformerEncoder(str(me5), prompt="query: "), [task]).tasks[0].metrics
    english = (
        measure(SentenceTransformerEncoder(str(me5.parent / "all-MiniLM-L6-v2")), [task]).tasks[0].metrics
    )
    assert multi["xsim_error"] < 0.1 < english["xsim_error"]
    assert multi["neighbour_purity"] < english["neighbour_purity"]


def test_tokens_minilm_cannot_read_amharic_or_much_japanese_e5_reads_all(cli, me5, tmp_path):
    """`langgap tokens` on FLORES dev, each figure confirmed by the `tokenizers` library directly."""
    from tokenizers import Tokenizer

    langs = ["amh_Ethi", "jpn_Jpan", "arb_Arab"]
    reports = {}
    for name in ("all-MiniLM-L6-v2", "multilingual-e5-small"):
        folder = real_models_dir() / name
        code, _, err = cli(["tokens", "--model", folder, "--multiway", DATA / "flores200_sib" / "dev",
                            "--langs", ",".join(langs), "--out", tmp_path / name, "-q"])  # fmt: skip
        assert code == 0, err
        reports[name] = json.loads((tmp_path / name / "tokens.json").read_text())["languages"]
        raw = Tokenizer.from_file(str(folder / "tokenizer.json"))
        raw.no_padding()  # MiniLM's tokenizer.json pads and truncates to 128 tokens
        raw.no_truncation()
        unk = raw.token_to_id("[UNK]" if name.startswith("all") else "<unk>")
        for lang in langs:
            texts = (DATA / "flores200_sib" / "dev" / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
            ids = [i for t in texts for i in raw.encode(t, add_special_tokens=False).ids]
            assert reports[name][lang]["unk_rate"] == pytest.approx(
                sum(i == unk for i in ids) / len(ids), abs=1e-6
            )
            if reports[name][lang]["fertility_unit"] == "word":
                words = sum(len(t.split()) for t in texts)
                assert reports[name][lang]["fertility"] == pytest.approx(len(ids) / words, abs=1e-6)
    mini, e5 = reports["all-MiniLM-L6-v2"], reports["multilingual-e5-small"]
    assert mini["amh_Ethi"]["unk_rate"] > 0.9 and mini["amh_Ethi"]["verdict"] == "cannot read"
    assert 0.18 < mini["jpn_Jpan"]["unk_rate"] < 0.3 and mini["jpn_Jpan"]["unk_char_rate"] >= 0.2
    assert mini["arb_Arab"]["fertility"] > 4 and mini["arb_Arab"]["verdict"] == "reads poorly"
    assert all(e5[lang]["verdict"] == "reads" and e5[lang]["unk_rate"] == 0 for lang in langs)


def test_bucc_style_f1_of_measure_agrees_with_mine_flat_and_ivf(cli, me5, tmp_path, monkeypatch):
    """A BUCC-style set built from shared data (bench/make_bucc.py: 510 FLORES dev pairs among
    300 distractors per side): measure's exact search and langgap mine's FAISS flat and IVF
    indexes find the same F1-best F1 within 0.005."""
    import subprocess
    import sys
    from pathlib import Path

    monkeypatch.setenv("LANGGAP_MODELS_DIR", str(me5.parent))
    script = Path(__file__).resolve().parents[1] / "bench" / "make_bucc.py"
    cmd = [sys.executable, str(script), "--data", str(DATA), "--langs", "deu", "--distractors", "300"]
    subprocess.run([*cmd, "--out", str(tmp_path / "bucc")], check=True, capture_output=True)
    folder = tmp_path / "bucc" / "deu-eng"
    code, _, err = cli(["measure", "--model", me5, "--mining", folder, "--out", tmp_path / "run", "-q"])
    assert code == 0, err
    (task,) = json.loads((tmp_path / "run" / "results.json").read_text())["tasks"]
    assert task["kind"] == "mining" and task["metrics"]["mining_gold_pairs"] == 510
    measured = task["metrics"]["mining_f1"]
    assert measured > 0.9  # German FLORES sentences among news and Tatoeba: an easy set for mE5
    for index in ("flat", "ivf"):
        args = ["mine", folder / "src.txt", folder / "tgt.txt", "--src-lang", "deu", "--tgt-lang", "eng"]
        args += ["--model", me5, "--calibrate", folder / "dev.tsv", "--index", index, "-q"]
        code, _, err = cli([*args, "--out", tmp_path / f"mine-{index}"])
        assert code == 0, err
        mined = json.loads((tmp_path / f"mine-{index}" / "mine.json").read_text())["calibration"]["f1"]
        assert abs(mined - measured) <= 0.005, (index, mined, measured)
