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
from langgap.training.transplant import transplant


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
