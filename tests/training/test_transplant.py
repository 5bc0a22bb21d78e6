"""Vocabulary transplant (--tokenizer, --trim-vocab): the FVT rule row by row, a no-op for the same
tokenizer, English unchanged when all its tokens are shared, trimming, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

from langgap.encoders.st import input_rows
from langgap.errors import InputError
from langgap.training.config import TrainConfig
from langgap.training.transplant import fit_map, transplant, transplant_rows


def _student(model_dir):
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    return SentenceTransformer(str(model_dir))


def _tokenizer(folder, words, *, mask=True):
    """A word-level tokenizer over ``words`` (split on whitespace only: ``w1:w2`` is one token)."""
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + (["[MASK]"] if mask else [])
    vocab = {w: i for i, w in enumerate(specials + words)}
    raw = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    raw.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    raw.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    kw = {"mask_token": "[MASK]"} if mask else {}
    tok = PreTrainedTokenizerFast(
        tokenizer_object=raw, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", **kw
    )
    tok.save_pretrained(folder)
    return folder


OLD_WORDS = [f"w{i}" for i in range(200)] + ["eng", "deu", "fra", "xx", "yy"] + [str(i) for i in range(300)]


def test_the_same_tokenizer_changes_nothing(tiny_model_dir):
    st = _student(tiny_model_dir)
    before_rows, before = input_rows(st), st.encode(["w1 w2 w3", "w7 : w9"])
    stats = transplant(st, str(tiny_model_dir))
    assert stats.averaged == 0 and stats.unseen == 0 and stats.vocab_size == len(before_rows)
    np.testing.assert_array_equal(input_rows(st), before_rows)
    np.testing.assert_array_equal(st.encode(["w1 w2 w3", "w7 : w9"]), before)


def test_shared_rows_kept_new_rows_the_mean_of_their_old_pieces(tiny_model_dir, tmp_path):
    st = _student(tiny_model_dir)
    old_rows, old = input_rows(st), st.tokenizer
    new_dir = _tokenizer(tmp_path / "new", ["w1:w2", "w3:w4:w7", "zz"] + OLD_WORDS[:10])
    stats = transplant(st, str(new_dir))
    new, rows = st.tokenizer, input_rows(st)
    vocab = old.get_vocab()
    row = lambda t: rows[new.convert_tokens_to_ids(t)]  # noqa: E731
    np.testing.assert_array_equal(row("w5"), old_rows[vocab["w5"]])  # shared: copied
    np.testing.assert_allclose(
        row("w1:w2"), old_rows[[vocab["w1"], vocab[":"], vocab["w2"]]].mean(0), rtol=1e-6
    )
    pieces = [vocab[p] for p in ("w3", ":", "w4", ":", "w7")]
    np.testing.assert_allclose(row("w3:w4:w7"), old_rows[pieces].mean(0), rtol=1e-6)
    np.testing.assert_array_equal(row("[CLS]"), old_rows[vocab["[CLS]"]])  # special tokens by role
    assert stats.special == 5 and stats.averaged == 3  # w1:w2, w3:w4:w7, zz (old: [UNK])


def test_english_embeds_as_before_when_all_its_tokens_are_shared(tiny_model_dir, tmp_path):
    st = _student(tiny_model_dir)
    texts = ["w1 w2 w3", "w10 w20 eng", "deu 5 w199"]
    before = st.encode(texts)
    transplant(st, str(_tokenizer(tmp_path / "new", ["new1", "new2:x", *reversed(OLD_WORDS)])))  # other ids
    np.testing.assert_allclose(st.encode(texts), before, atol=1e-6)


def test_trim_keeps_the_tokens_of_the_texts_and_their_tokenization(tiny_model_dir, tmp_path):
    from sentence_transformers import SentenceTransformer

    st = _student(tiny_model_dir)
    new_dir = _tokenizer(tmp_path / "new", OLD_WORDS)
    texts = ["w1 w2 w3", "w7 w9 eng", "w1 deu"]
    full = _student(tiny_model_dir)
    transplant(full, str(new_dir))
    stats = transplant(st, str(new_dir), texts)
    assert stats.trimmed_from == len(OLD_WORDS) + 5 and stats.vocab_size == 5 + 7  # specials + 7 words
    assert len(st.tokenizer) == 12 and st.tokenizer.mask_token == "[MASK]"
    for t in texts:
        assert st.tokenizer.tokenize(t) == full.tokenizer.tokenize(t)
    np.testing.assert_allclose(st.encode(texts), full.encode(texts), atol=1e-6)
    st.save(str(tmp_path / "saved"))
    again = SentenceTransformer(str(tmp_path / "saved"))
    assert len(again.tokenizer) == 12
    np.testing.assert_allclose(again.encode(texts), st.encode(texts), atol=1e-6)


def test_bad_input(tiny_model_dir, tmp_path):
    st = _student(tiny_model_dir)
    with pytest.raises(InputError, match="nowhere: no such file or directory"):
        transplant(st, str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="cannot load a tokenizer"):
        transplant(st, str(tmp_path / "empty"))
    old_without_mask = _tokenizer(tmp_path / "nomask", OLD_WORDS, mask=False)
    transplant(st, str(old_without_mask))  # the student now has no mask token
    with pytest.raises(InputError, match=r"its mask token '\[MASK\]' has no counterpart"):
        transplant(st, str(_tokenizer(tmp_path / "mask", OLD_WORDS)))
    with pytest.raises(InputError, match="--trim-vocab trims the vocabulary of --tokenizer"):
        TrainConfig.from_flat(trim_vocab=True)


def test_training_with_a_transplanted_vocabulary(cli, tiny_model_dir, tmp_path):
    import json

    pairs = tmp_path / "xx-yy.tsv"
    pairs.write_text("".join(f"w{i} w{i + 1}\tw{i} w{i + 2}\n" for i in range(40)))
    new_dir = _tokenizer(tmp_path / "new", ["w1:w2", *OLD_WORDS])
    args = ["train", "--model", tiny_model_dir, "--pairs", pairs, "--tokenizer", new_dir, "--trim-vocab"]
    code, out, err = cli([*args, "--batch-size", "8", "--max-steps", "2", "--out", tmp_path / "run"])
    assert code == 0, err
    resolved = json.loads((tmp_path / "run" / "config.json").read_text())["resolved"]
    swap = resolved["transplant"]
    assert swap["trimmed_from"] == len(OLD_WORDS) + 6
    assert (  # what --tokenizer changed, said after training
        f"vocabulary: {swap['vocab_size']} pieces of {new_dir}, trimmed from {swap['trimmed_from']} to the "
        f"training texts' pieces; their rows: {swap['shared']} copied (the same piece in the old vocabulary), "
        f"{swap['averaged']} the mean of the old pieces of the same text, {swap['special']} special tokens by "
        f"role, {swap['unseen']} with no old piece (the mean row)"
    ) in out.replace("\n", " ")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tmp_path / "run" / "model"))
    assert len(model.tokenizer) == resolved["transplant"]["vocab_size"] and model.encode(["w1 w2"]).shape == (
        1,
        32,
    )


def test_the_new_vocabulary_keeps_the_students_max_length(tiny_model_dir, tmp_path):
    """The new tokenizer has no length limit of its own (model_max_length ~1e30); the student
    keeps its max length (before, training after a transplant ran without one, and counting
    tokens for length buckets overflowed)."""
    st = _student(tiny_model_dir)
    st.max_seq_length = 16
    transplant(st, str(_tokenizer(tmp_path / "new", ["w1:w2", *OLD_WORDS])))
    assert st.max_seq_length == 16
    ids = st.preprocess([" ".join(["w1"] * 40)])["input_ids"]
    assert ids.shape[1] == 16


@pytest.mark.parametrize("how", ["lstsq", "orthogonal"])
def test_fit_map_recovers_a_known_map(how):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 16)).astype(np.float32)
    q, _ = np.linalg.qr(rng.standard_normal((16, 16)))
    w = (2.5 * q if how == "orthogonal" else rng.standard_normal((16, 16))).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    fw, fb, r2 = fit_map(x, x @ w + b, how)
    np.testing.assert_allclose(fw, w, atol=1e-4)
    np.testing.assert_allclose(fb, b, atol=1e-4)
    assert r2 == pytest.approx(1.0, abs=1e-6)
    noisy = x @ w + b + rng.standard_normal((300, 16)).astype(np.float32) * 5  # R² falls with noise
    assert 0 < fit_map(x, noisy, how)[2] < 0.99


def test_fit_map_bad_input():
    x, y = np.ones((10, 4), np.float32), np.ones((10, 6), np.float32)
    with pytest.raises(InputError, match=r"--init-map orthogonal needs .* \(4 vs 6\); use --init-map lstsq"):
        fit_map(x, y, "orthogonal")
    assert fit_map(np.random.default_rng(0).standard_normal((10, 4)), y, "lstsq")[0].shape == (4, 6)


def test_mapped_rows_are_the_source_rows_through_the_map_fitted_on_shared_pieces(tiny_model_dir, tmp_path):
    from langgap.encoders.hf import load_tokenizer

    st = _student(tiny_model_dir)
    old_rows, old = input_rows(st), st.tokenizer
    new, _ = load_tokenizer(str(_tokenizer(tmp_path / "new", ["zz", "w1:w2", *OLD_WORDS[:50]])))
    rng = np.random.default_rng(1)
    w, b = rng.standard_normal((24, 32)).astype(np.float32), rng.standard_normal(32).astype(np.float32)
    src = rng.standard_normal((len(new), 24)).astype(np.float32)  # the source's rows (hidden size 24)
    vocab = old.get_vocab()
    shared = {i: vocab[p] for p, i in new.get_vocab().items() if p in OLD_WORDS}
    # the shared pieces' old rows are exactly src @ w + b: the map is known
    fitted_old = old_rows.copy()
    for i, j in shared.items():
        fitted_old[j] = src[i] @ w + b
    rows, stats = transplant_rows(fitted_old, old, new, source_rows=src, how="lstsq")
    assert stats.mapped == 2 and stats.averaged == 0 and stats.shared == 50 and stats.special == 5
    assert stats.map_fit == pytest.approx(1.0, abs=1e-5)
    for piece in ("zz", "w1:w2"):
        i = new.convert_tokens_to_ids(piece)
        np.testing.assert_allclose(rows[i], src[i] @ w + b, rtol=1e-3, atol=1e-3)
    for i, j in shared.items():
        np.testing.assert_array_equal(rows[i], fitted_old[j])  # shared pieces keep their rows
    plain, plain_stats = transplant_rows(fitted_old, old, new)  # --init mean: FVT as before
    assert plain_stats.mapped == 0 and plain_stats.map_fit is None and plain_stats.averaged == 2


def test_training_with_mapped_rows_and_its_bad_input(cli, tiny_model_dir, tmp_path):
    import json

    pairs = tmp_path / "xx-yy.tsv"
    pairs.write_text("".join(f"w{i} w{i + 1}\tw{i} w{i + 2}\n" for i in range(40)))
    new_dir = _tokenizer(tmp_path / "new", ["w1:w2", "zz", *OLD_WORDS])
    source = _student(tiny_model_dir)
    transplant(source, str(new_dir))  # a model that reads the new tokenizer
    source.save(str(tmp_path / "source"))
    args = ["train", "--model", tiny_model_dir, "--pairs", pairs, "--tokenizer", new_dir, "--batch-size", "8"]
    args += ["--max-steps", "1", "--save-every", "0"]
    code, out, err = cli(
        [*args, "--init", "mapped", "--init-from", tmp_path / "source", "--out", tmp_path / "run"]
    )
    assert code == 0, err
    swap = json.loads((tmp_path / "run" / "config.json").read_text())["resolved"]["transplant"]
    assert swap["mapped"] == 2 and swap["averaged"] == 0 and 0 < swap["map_fit"] <= 1
    assert "2 mapped from the --init-from model's rows (map R² " in out.replace("\n", " ")
    code, out, err = cli(
        [*args, "--init", "mapped", "--init-from", tiny_model_dir, "--out", tmp_path / "bad"]
    )
    assert code == 2 and "its tokenizer is not --tokenizer" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad" / "model").exists()
    code, out, err = cli([*args, "--init", "mapped", "--out", tmp_path / "bad2"])
    assert code == 2 and "--init mapped and --init-from MODEL go together, with --tokenizer" in err
    code, out, err = cli([*args, "--init", "mapped", "--init-from", "x", "--init-map", "procrustes"])
    assert code == 2 and "unknown --init-map 'procrustes'" in err
