"""`langgap tokens` through the real entry point, and coverage in the measure report."""

from __future__ import annotations

import json

from conftest import write_multiway


def test_tokens_json_table_and_chart(cli, tiny_model_dir, tmp_path):
    mw = write_multiway(tmp_path / "mw", ["eng", "deu", "fra"], 20)
    (mw / "xx.txt").write_text("".join(f"zz{i} qq{i}\n" for i in range(20)))  # words the vocabulary lacks
    code, out, err = cli(["tokens", "--model", tiny_model_dir, "--multiway", mw, "--out", tmp_path / "tok"])
    assert code == 0, err
    d = json.loads((tmp_path / "tok" / "tokens.json").read_text())
    assert d["model"] == str(tiny_model_dir) and set(d["languages"]) == {"eng", "deu", "fra", "xx"}
    keys = {"fertility", "unk_rate", "unk_char_rate", "byte_fallback_rate", "split_word_rate", "truncated_rate",
            "vocab_share", "n_texts"}  # fmt: skip
    assert keys <= set(d["languages"]["eng"]) and d["languages"]["eng"]["n_texts"] == 20
    assert d["languages"]["xx"]["unk_rate"] == 1.0 and d["languages"]["xx"]["verdict"] == "cannot read"
    assert d["languages"]["eng"]["unk_rate"] == 0.0 and d["languages"]["eng"]["verdict"] == "reads"
    assert "cannot read: xx (100% of its characters become unknown tokens)" in err.replace("\n", " ")
    assert (tmp_path / "tok" / "tokens.png").stat().st_size > 5_000 and "xx" in out


def test_unloadable_tokenizer_exit_2(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    code, _, err = cli(["tokens", "--model", tmp_path / "empty", "--sample"])
    assert code == 2 and err.startswith("error: cannot load a tokenizer") and "Traceback" not in err


def test_measure_report_has_coverage_next_to_the_gap(cli, tiny_model_dir, tmp_path):
    mw = write_multiway(tmp_path / "mw", ["eng", "deu"], 20)
    code, _, err = cli(
        ["measure", "--model", tiny_model_dir, "--multiway", mw, "--out", tmp_path / "run", "-q"]
    )
    assert code == 0, err
    res = json.loads((tmp_path / "run" / "results.json").read_text())
    assert set(res["coverage"]["languages"]) == {"eng", "deu"}
    md = (tmp_path / "run" / "report.md").read_text()
    assert "## Tokenizer coverage" in md and "| language | tokenizer | tokens/word ↓ | UNK chars ↓" in md
    assert "bitext acc ↑ | xSIM err ↓ |" in md


def test_measure_from_precomputed_embeddings_skips_coverage_with_a_note(cli, tmp_path):
    import numpy as np

    mw = write_multiway(tmp_path / "mw", ["eng", "deu"], 10)
    emb = tmp_path / "emb"
    emb.mkdir()
    for lang in ("eng", "deu"):
        np.save(emb / f"{lang}.npy", np.random.default_rng(0).standard_normal((10, 8)).astype(np.float32))
    code, _, err = cli(["measure", "--embeddings", emb, "--multiway", mw, "--out", tmp_path / "run", "-q"])
    assert code == 0, err
    assert "skipped" in json.loads((tmp_path / "run" / "results.json").read_text())["coverage"]
    assert (
        "tokenizer coverage skipped: the encoder has no tokenizer"
        in (tmp_path / "run" / "report.md").read_text()
    )


def test_a_max_length_below_one_is_refused(cli, tiny_model_dir, tmp_path):
    """0 is not the model's limit and -5 not a limit at all: both refused before any work."""
    for bad in ("0", "-5"):
        code, _, err = cli(
            ["tokens", "--model", tiny_model_dir, "--max-length", bad, "--out", tmp_path / "t"]
        )
        assert code == 2 and f"--max-length must be >= 1 (tokens per input), got {bad}" in err, err
        assert not (tmp_path / "t").exists()
