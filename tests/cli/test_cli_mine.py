"""`langgap mine` through the real entry point: embed folders and text files, --calibrate, and
each kind of bad input (one line, exit 2, an earlier run untouched), Ctrl-C."""

from __future__ import annotations

import json

import numpy as np
import pytest

from faults.helpers import leftovers, snapshot
from langgap.data.readers import read_bitext
from mining.helpers import MODEL, embed_folder, planted


@pytest.fixture
def folders(tmp_path):
    st, sv, tt, tv, gold = planted(n_gold=40, n_src=100, n_tgt=120, seed=7)
    src = embed_folder(tmp_path / "emb" / "deu", st, sv)
    tgt = embed_folder(tmp_path / "emb" / "eng", tt, tv)
    return src, tgt, [(st[a], tt[b]) for a, b in sorted(gold)]


def test_mine_embed_folders(cli, folders, tmp_path):
    src, tgt, gold = folders
    code, out, err = cli(["mine", src, tgt, "--out", tmp_path / "run", "--mode", "max"])
    assert code == 0, err
    run = tmp_path / "run"
    assert sorted(p.name for p in run.iterdir()) == ["deu-eng.tsv", "mine.json", "mined.tsv"]
    pairs = read_bitext(run / "deu-eng.tsv")  # ready for langgap train --pairs
    assert (pairs.src_lang, pairs.tgt_lang) == ("deu", "eng")
    mined = [line.split("\t") for line in (run / "mined.tsv").read_text().splitlines()]
    threshold = json.loads((run / "mine.json").read_text())["threshold"]
    assert threshold == {"value": 1.03, "from": "default for the ratio margin"}  # see DEFAULT_THRESHOLDS
    assert len(pairs.src) == sum(float(s) >= 1.03 for s, _, _ in mined)
    assert "100 lines, 100 distinct" in err and "flat (exact inner product) on CPU" in err
    assert f"wrote {run / 'mined.tsv'}" in err


def test_a_threshold_above_every_score_says_so(cli, folders, tmp_path):
    src, tgt, _ = folders
    code, _, err = cli(["mine", src, tgt, "--out", tmp_path / "run", "--threshold", "99"])
    assert code == 0 and "no pair has score >= 99.0000" in err
    assert (tmp_path / "run" / "deu-eng.tsv").read_text() == ""


def test_calibrate_uses_the_f1_best_threshold(cli, folders, tmp_path):
    src, tgt, gold = folders
    dev = tmp_path / "dev.tsv"
    dev.write_text("".join(f"{a}\t{b}\n" for a, b in gold), encoding="utf-8")
    code, _, err = cli(["mine", src, tgt, "--out", tmp_path / "run", "--calibrate", dev])
    assert code == 0, err
    meta = json.loads((tmp_path / "run" / "mine.json").read_text())
    cal, thr = meta["calibration"], meta["threshold"]["value"]
    assert cal["f1"] > 0.9 and f"F1-best threshold {thr:.4f}" in err
    # the F1-best over every cut of mined.tsv, recomputed from the files
    rows = [line.split("\t") for line in (tmp_path / "run" / "mined.tsv").read_text().splitlines()]
    gold_set = set(gold)
    best = 0.0
    for cut in range(1, len(rows) + 1):
        hit = sum((a, b) in gold_set for _, a, b in rows[:cut])
        if hit:
            best = max(best, 2 * hit / (cut + len(gold)))
    assert cal["f1"] == pytest.approx(best, abs=1e-6)
    pairs = read_bitext(tmp_path / "run" / "deu-eng.tsv")
    assert len(pairs.src) == cal["kept"] == meta["pairs"]["count"]


def _text_mine(tmp_path, model):
    """``langgap mine xx.txt yy.txt --model MODEL --out run`` in ``tmp_path``."""
    return ["mine", tmp_path / "xx.txt", tmp_path / "yy.txt", "--model", model, "--out", tmp_path / "run"]


def test_mine_text_files_with_a_model(cli, tiny_model_dir, tmp_path):
    words = [f"w{i} w{(i * 7) % 50} {i}" for i in range(40)]  # both sides: the same 40 texts
    (tmp_path / "xx.txt").write_text("".join(w + "\n" for w in [*words, words[0]]), encoding="utf-8")
    (tmp_path / "yy.txt").write_text("".join(w + "\n" for w in reversed(words)), encoding="utf-8")
    args = _text_mine(tmp_path, tiny_model_dir)
    code, _, err = cli([*args, "--mode", "intersection", "--threshold", "0"])
    assert code == 0, err
    assert "41 lines, 40 distinct" in err and "encoded 40 texts (0 from the cache)" in err
    code, _, err = cli([*args, "--mode", "intersection", "--threshold", "0"])
    assert code == 0 and "encoded 0 texts (40 from the cache)" in err
    pairs = read_bitext(tmp_path / "run" / "xx-yy.tsv")
    assert pairs.src == pairs.tgt and sorted(pairs.src) == sorted(words)  # the same texts: each its own pair
    code, _, err = cli([*args, "--src-lang", "deu", "--tgt-lang", "eng", "-q"])
    assert code == 0 and "wrote" not in err and "encoded" not in err  # -q: no summary
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["deu-eng.tsv", "mine.json", "mined.tsv"]


def _bad_setups(tmp_path, folders):
    src, tgt, _ = folders
    st, sv, tt, tv, _ = planted(seed=8)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    text = tmp_path / "eng.txt"
    text.write_text("a\nb\n")
    return {
        "empty": ([empty, text], "empty.txt: file is empty"),
        "missing": ([tmp_path / "nope.txt", text], "nope.txt: cannot read"),
        "model": ([src, embed_folder(tmp_path / "o1" / "eng", tt, tv, model=dict(MODEL, name="other"))],
                  "embedded differently (name 'toy' vs 'other')"),
        "prompt": ([src, embed_folder(tmp_path / "o2" / "eng", tt, tv, model=dict(MODEL, prompt=""))],
                   "embedded differently (prompt 'query: ' vs '')"),
        "dimension": ([src, embed_folder(tmp_path / "o3" / "eng", tt, tv[:, :8])], "has dimension 16"),
        "threshold": ([src, tgt, "--threshold", "high"], "--threshold 'high' is not a number"),
        "nan": ([src, tgt, "--threshold", "nan"], "is not a finite number"),
        "both": ([src, tgt, "--threshold", "1", "--calibrate", text], "give --threshold or --calibrate, not both"),
        "mixed": ([src, text], "is an embed folder and"),
        "not_embed": ([tmp_path, text], "is a folder without manifest.json: not a langgap embed folder"),
        "same": ([text, text], "SRC and TGT are both"),
        "mode": ([src, tgt, "--mode", "maxx"], "--mode 'maxx': expected one of forward, backward, intersection, max (did you mean 'max'?)"),
        "k": ([src, tgt, "--k", "0"], "--k must be >= 1"),
        "k_side": ([src, tgt, "--k", "500"], "--k 500 is more than the 100 distinct texts of"),
        "nprobe": ([src, tgt, "--nprobe", "-2"], "--nprobe must be >= 1 (or 0 for the default), got -2"),
        "calibrate": ([src, tgt, "--calibrate", tmp_path / "dev.tsv"], "dev.tsv:1: the source text is not a line of"),
        "lang": ([src, tgt, "--tgt-lang", "elvish"], "--tgt-lang: 'elvish' is not a language code; give ISO 639 codes like deu"),
    }  # fmt: skip


@pytest.mark.parametrize(
    "case",
    [
        "empty",
        "missing",
        "model",
        "prompt",
        "dimension",
        "threshold",
        "nan",
        "both",
        "mixed",
        "not_embed",
        "same",
        "mode",
        "k",
        "k_side",
        "nprobe",
        "calibrate",
        "lang",
    ],
)
def test_bad_input_exit_2_and_the_earlier_run_is_kept(cli, folders, tmp_path, case):
    src, tgt, _ = folders
    run = tmp_path / "run"
    assert cli(["mine", src, tgt, "--out", run, "-q"])[0] == 0
    before = snapshot(run)
    (tmp_path / "dev.tsv").write_text("not there\tnor here\n", encoding="utf-8")
    args, message = _bad_setups(tmp_path, folders)[case]
    code, out, err = cli(["mine", *args, "--out", run])
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert snapshot(run) == before and not leftovers(run)


def test_changed_input_of_an_embed_folder_exit_2(cli, folders, tmp_path):
    src, tgt, _ = folders
    (tmp_path / "emb" / "eng.txt").write_text("other\n" * 120, encoding="utf-8")
    code, _, err = cli(["mine", src, tgt, "--out", tmp_path / "run"])
    assert code == 2 and "changed since" in err and "embed it again" in err
    assert not (tmp_path / "run").exists()


def test_faiss_missing_for_a_size_that_needs_it_exit_2(cli, folders, tmp_path, monkeypatch):
    from langgap import knn
    from langgap.mining import search

    src, tgt, _ = folders
    monkeypatch.setattr(knn, "available", lambda: False)
    monkeypatch.setattr(search, "NUMPY_MAX_ROWS", 99)
    code, _, err = cli(["mine", src, tgt, "--out", tmp_path / "run"])
    assert code == 2 and "120 distinct texts on one side" in err and "pip install faiss-cpu" in err
    assert not (tmp_path / "run").exists()
    monkeypatch.setattr(search, "NUMPY_MAX_ROWS", 120)  # small enough: exact numpy search
    code, _, err = cli(["mine", src, tgt, "--out", tmp_path / "run"])
    assert code == 0 and "exact (numpy, FAISS not installed)" in err


def test_ctrl_c_writes_nothing(cli, folders, tmp_path, monkeypatch):
    import langgap.mining

    src, tgt, _ = folders
    run = tmp_path / "run"
    assert cli(["mine", src, tgt, "--out", run, "-q"])[0] == 0
    before = snapshot(run)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(langgap.mining, "mine", interrupted)
    code, _, err = cli(["mine", src, tgt, "--out", run, "--k", "2"])
    assert code == 130 and "interrupted: nothing was written" in err
    assert snapshot(run) == before and not leftovers(run)


def test_the_default_threshold_with_another_k_is_flagged(cli, folders, tmp_path):
    src, tgt, _ = folders
    code, _, err = cli(["mine", src, tgt, "--out", tmp_path / "run", "--k", "8"])
    assert code == 0 and "the default threshold 1.03 was measured at k=4; with --k 8 give" in err, err
    code, _, err = cli(["mine", src, tgt, "--out", tmp_path / "run2", "--k", "8", "--threshold", "1.0"])
    assert code == 0 and "measured at k=4" not in err, err


def test_interrupted_while_writing_keeps_the_earlier_run(cli, folders, tmp_path, monkeypatch):
    from langgap.mining import write

    src, tgt, _ = folders
    run = tmp_path / "run"
    assert cli(["mine", src, tgt, "--out", run, "-q"])[0] == 0
    before = snapshot(run)
    real = write.pair_lines

    def broken(*args):
        yield from list(real(*args))[:3]
        raise KeyboardInterrupt

    monkeypatch.setattr(write, "pair_lines", broken)
    code, _, err = cli(["mine", src, tgt, "--out", run, "--threshold", "0"])
    assert code == 130 and snapshot(run) == before and not leftovers(run)
    assert np.isfinite(json.loads((run / "mine.json").read_text())["threshold"]["value"])


def test_nprobe_reaches_the_ivf_index(cli, tmp_path):
    """--index ivf --nprobe 3 over 1,100 targets: 28 lists, 3 probed, no measurement; without
    --nprobe the fewest lists reaching recall@4 0.99 on 1,000 sampled queries, printed and
    recorded in mine.json with every nprobe tried."""
    st, sv, tt, tv, _ = planted(n_gold=100, n_src=1_100, n_tgt=1_100, seed=3)
    src = embed_folder(tmp_path / "emb" / "deu", st, sv)
    tgt = embed_folder(tmp_path / "emb" / "eng", tt, tv)
    code, _, err = cli(["mine", src, tgt, "--out", tmp_path / "3", "--index", "ivf", "--nprobe", "3", "-q"])
    assert code == 0, err
    settings = json.loads((tmp_path / "3" / "mine.json").read_text())["settings"]
    assert settings["src→tgt"] == settings["tgt→src"] == "ivf nlist=28 nprobe=3 on CPU"
    assert "nprobe_by_recall" not in settings
    code, _, err = cli(["mine", src, tgt, "--out", tmp_path / "auto", "--index", "ivf"])
    assert code == 0, err
    settings = json.loads((tmp_path / "auto" / "mine.json").read_text())["settings"]
    for way in ("src→tgt", "tgt→src"):
        got = settings["nprobe_by_recall"][way]
        p, recall = got["nprobe"], got["recall_at_k"]
        assert (got["k"], got["queries"], got["target"], got["against"]) == (4, 1000, 0.99, "exact search")
        assert recall >= 0.99 and got["tried"][str(p)] == recall and got["tried"][str(p - 1)] < 0.99
        assert list(got["tried"])[:3] == ["1", "2", "4"]
        want = f"ivf nlist=28 nprobe={p} (recall@4 {recall:.3f} against exact search, 1,000 sampled queries) on CPU"
        assert settings[way] == want and want in err


def test_ctrl_c_while_encoding_text_files_says_what_the_cache_kept(
    cli, tiny_model_dir, tmp_path, monkeypatch
):
    from langgap.encoders import st

    words = [f"w{i} v{i % 7}" for i in range(200)]
    for name in ("xx", "yy"):
        (tmp_path / f"{name}.txt").write_text("".join(w + "\n" for w in words), encoding="utf-8")
    args = _text_mine(tmp_path, tiny_model_dir)
    real, calls = st.SentenceTransformerEncoder.encode, []

    def stop_at(n):
        def encode(self, texts):
            calls.append(len(texts))
            if len(calls) == n:
                raise KeyboardInterrupt
            return real(self, texts)

        return encode

    monkeypatch.setattr(st.SentenceTransformerEncoder, "encode", stop_at(1))
    code, _, err = cli(args)
    assert code == 130 and err.strip().endswith(f"{tmp_path / 'run'} is as it was"), err  # nothing cached
    calls.clear()
    monkeypatch.setattr(st.SentenceTransformerEncoder, "encode", stop_at(3))
    code, _, err = cli(args)
    done = sum(calls[:2])  # 200 distinct texts in chunks of ceil(200 / 20) = 10 → 64 (one batch)
    assert code == 130 and f"the {done:,} texts encoded in finished chunks are in the cache" in err, err
    monkeypatch.setattr(st.SentenceTransformerEncoder, "encode", real)
    code, _, err = cli(args)
    assert code == 0 and f"encoded {200 - done} texts ({done} from the cache)" in err, err
